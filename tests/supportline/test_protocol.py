"""The chat protocol end to end: two separate ASGI servers on real Redis and PostgreSQL.

The visitor always talks to one uvicorn process and the counsellor to
another, so every frame between them crosses the Redis channel layer.
"""

import asyncio
import itertools
import json
import time
from typing import Any

import pytest
import websockets
import websockets.exceptions
from websockets.typing import Origin

from staff.roles import Role
from supportline.models import Conversation, Message
from tests.factories import StaffUserFactory
from tests.supportline.helpers import (
    Socket,
    adb,
    claimed_chat,
    new_client_id,
    open_all_week,
    start_chat,
    verified_staff_cookie,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def counsellor():
    open_all_week()
    return verified_staff_cookie(Role.COUNSELLOR, alias="Maja")


async def test_full_conversation(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _user, cookie = counsellor
    visitor = await Socket.open(visitor_server, "/ws/chat/")
    await visitor.send(type="start", age_band="13_15", topic="online")
    session = await visitor.recv_type("session")
    assert len(session["token"]) >= 43  # 32 random bytes, URL-safe
    assert (await visitor.recv_type("state"))["status"] == "queued"
    queue = await visitor.recv_type("queue")
    assert queue["position"] == 1

    staff = await Socket.open(counsellor_server, "/ws/counsellor/", cookie=cookie)
    dashboard = await staff.recv_type("dashboard")
    while not dashboard["queue"]:
        dashboard = await staff.recv_type("dashboard")
    waiting = dashboard["queue"][0]
    assert waiting["age_band"] == "13–15 år"  # noqa: RUF001
    assert waiting["topic"] == "Något som hänt på nätet"
    await staff.send(type="claim", conversation_id=waiting["id"])
    await staff.recv_type("chat")
    active = await visitor.recv_type("state", status="active")
    assert active["counsellor"] == "Maja"

    await visitor.send(type="typing", active=True)
    assert (await staff.recv_type("typing"))["active"] is True

    visitor_id = new_client_id()
    await visitor.send(type="message", client_id=visitor_id, text="Hej, någon skickar konstiga bilder till mig")
    # The sender's own message frame is its confirmation: one write, no separate ack.
    echo = await visitor.confirmed(visitor_id)
    assert (echo["type"], echo["client_id"], echo["seq"], echo["sender"]) == ("message", visitor_id, 1, "visitor")
    received = await staff.recv_type("message")
    assert (received["seq"], received["sender"], received["text"]) == (
        1,
        "visitor",
        "Hej, någon skickar konstiga bilder till mig",
    )
    assert received["conversation_id"] == waiting["id"]

    await staff.send(type="typing", conversation_id=waiting["id"], active=True)
    assert (await visitor.recv_type("typing"))["sender"] == "counsellor"
    staff_id = new_client_id()
    await staff.send(type="message", conversation_id=waiting["id"], client_id=staff_id, text="Vad bra att du skriver.")
    own = await staff.confirmed(staff_id)
    assert (own["type"], own["seq"], own["conversation_id"]) == ("message", 2, waiting["id"])
    reply = await visitor.recv_type("message", seq=2)
    assert (reply["sender"], reply["text"]) == ("counsellor", "Vad bra att du skriver.")

    await visitor.send(type="end")
    ended = await visitor.recv_type("state", status="ended")
    assert ended["end_reason"] == "visitor_ended"
    chat = await staff.recv_type("chat")
    assert chat["conversation"]["status"] == "ended"

    stored = await adb(
        lambda: list(Message.objects.filter(conversation_id=waiting["id"]).values_list("seq", "sender"))
    )()
    assert stored == [(1, "visitor"), (2, "counsellor")]
    for socket in (visitor, staff):
        await socket.close()


async def test_dropped_connection_resumes_with_nothing_lost_or_duplicated(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    visitor, token, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    await visitor.send(type="message", client_id="v-1", text="ett")
    assert (await visitor.confirmed("v-1"))["seq"] == 1

    # The phone loses its connection, with one message sent but its confirmation never read.
    await visitor.send(type="message", client_id="v-2", text="två")
    await visitor.close()
    for n in range(3):
        await staff.send(type="message", conversation_id=conversation_id, client_id=f"c-{n}", text=f"svar {n}")
        await staff.confirmed(f"c-{n}")

    visitor = await Socket.open(visitor_server, "/ws/chat/")
    await visitor.send(type="resume", token=token, last_seq=1)
    # The unacknowledged message goes again with the same client_id.
    await visitor.send(type="message", client_id="v-2", text="två")
    await staff.send(type="message", conversation_id=conversation_id, client_id="c-live", text="live")

    frames = await visitor.collect("message", quiet=1.5)
    assert [f["seq"] for f in frames] == [2, 3, 4, 5, 6]
    # "två" may have been stored before or after the first reply; either way
    # it is shown once, and the page shows exactly what the database holds.
    stored = await adb(
        lambda: list(Message.objects.filter(conversation_id=conversation_id, seq__gt=1).values_list("seq", "text"))
    )()
    assert [(f["seq"], f["text"]) for f in frames] == stored
    assert sorted(f["text"] for f in frames) == sorted(["två", "svar 0", "svar 1", "svar 2", "live"])
    assert [f["text"] for f in frames if f["text"] != "två"] == ["svar 0", "svar 1", "svar 2", "live"]
    for socket in (visitor, staff):
        await socket.close()


async def test_resent_client_id_is_stored_once_and_acked_with_the_same_seq(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    visitor, _, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    for _ in range(3):
        await visitor.send(type="message", client_id="same-id", text="Hjälp")
    # The first is confirmed by its own message frame, the resends (already shown) by an ack each.
    confirmations = [await visitor.confirmed("same-id") for _ in range(3)]
    assert [(c["type"], c["seq"]) for c in confirmations] == [("message", 1), ("ack", 1), ("ack", 1)]
    staff_messages = await staff.collect("message", quiet=1.0)
    assert [m["seq"] for m in staff_messages] == [1]
    assert await adb(Message.objects.filter(conversation_id=conversation_id).count)() == 1
    for socket in (visitor, staff):
        await socket.close()


async def test_each_bad_input_gets_an_error_frame_and_the_connection_stays_usable(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    visitor, token, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)

    async def expect_error(code, send):
        await send()
        error = await visitor.recv_type("error")
        assert error["code"] == code
        await visitor.alive()

    await expect_error("invalid_json", lambda: visitor.send_raw("{not json"))
    await expect_error("unknown_type", lambda: visitor.send(type="launch_rockets"))
    await expect_error("empty_text", lambda: visitor.send(type="message", client_id="e1", text="   "))
    await expect_error("text_too_long", lambda: visitor.send(type="message", client_id="e2", text="a" * 4001))

    # Per connection: more messages in a second than the limit (5).
    for n in range(7):
        await visitor.send(type="message", client_id=f"burst-{n}", text="hej")
    assert (await visitor.recv_type("error"))["code"] == "rate_limited"
    await asyncio.sleep(1.2)
    await visitor.collect("message", quiet=0.3)
    await visitor.alive()

    # Per token: two connections on the same chat share one budget.
    second = await Socket.open(visitor_server, "/ws/chat/")
    await second.send(type="resume", token=token, last_seq=0)
    await second.recv_type("state")
    while time.time() % 1 > 0.4:  # keep the burst inside one one-second window
        await asyncio.sleep(0.05)
    for n in range(4):
        await visitor.send(type="message", client_id=f"a-{n}", text="hej")
        await second.send(type="message", client_id=f"b-{n}", text="hej")
    errors = [f for s in (visitor, second) for f in await s.collect("error", quiet=0.8)]
    assert any(e["code"] == "rate_limited" for e in errors)
    await second.close()
    await visitor.alive()

    stranger = await Socket.open(visitor_server, "/ws/chat/")
    await stranger.send(type="resume", token="x" * 43, last_seq=0)
    assert (await stranger.recv_type("error"))["code"] == "unknown_token"
    await stranger.alive()
    await stranger.send(type="message", client_id="m", text="hej")
    assert (await stranger.recv_type("error"))["code"] == "no_session"
    await stranger.alive()

    await staff.send(type="end", conversation_id=conversation_id)
    await visitor.recv_type("state", status="ended")
    await expect_error("chat_ended", lambda: visitor.send(type="message", client_id="late", text="hallå?"))
    await stranger.send(type="resume", token=token, last_seq=0)
    assert (await stranger.recv_type("error"))["code"] == "chat_ended"
    await stranger.alive()
    for socket in (visitor, staff, stranger):
        await socket.close()


async def test_frames_never_reach_another_conversation(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    first, _, staff, first_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    second, _ = await start_chat(visitor_server)
    await first.send(type="message", client_id="1", text="bara till min rådgivare")
    assert (await first.confirmed("1"))["text"] == "bara till min rådgivare"
    await staff.send(type="message", conversation_id=first_id, client_id="s1", text="bara till första")
    await staff.confirmed("s1")
    assert await second.collect("message", quiet=1.0) == []
    assert [m["text"] for m in await first.collect("message", quiet=0.5)] == ["bara till första"]
    for socket in (first, second, staff):
        await socket.close()


async def test_a_counsellor_cannot_open_or_write_to_another_counsellors_chat(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    visitor, _, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    _, other_cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Sara")
    other = await Socket.open(counsellor_server, "/ws/counsellor/", cookie=other_cookie)
    await other.send(type="open", conversation_id=conversation_id, last_seq=0)
    assert (await other.recv_type("error"))["code"] == "forbidden"
    await other.send(type="message", conversation_id=conversation_id, client_id="x", text="intrång")
    assert (await other.recv_type("error"))["code"] == "not_open"
    assert await visitor.collect("message", quiet=0.5) == []
    for socket in (visitor, staff, other):
        await socket.close()


async def test_supervisor_monitors_silently_and_can_take_over(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    visitor, _, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    _, supervisor_cookie = await adb(verified_staff_cookie)(Role.SUPERVISOR, "Eva")
    supervisor = await Socket.open(visitor_server, "/ws/counsellor/", cookie=supervisor_cookie)
    dashboard = await supervisor.recv_type("dashboard")
    assert [c["id"] for c in dashboard["live"]] == [conversation_id]
    await supervisor.send(type="open", conversation_id=conversation_id, last_seq=0)
    chat = await supervisor.recv_type("chat")
    assert chat["monitoring"] is True and chat["writable"] is False
    await supervisor.send(type="message", conversation_id=conversation_id, client_id="s", text="hej")
    assert (await supervisor.recv_type("error"))["code"] == "forbidden"
    await visitor.send(type="message", client_id="v", text="syns för båda")
    assert (await supervisor.recv_type("message"))["text"] == "syns för båda"
    events = await adb(
        lambda: list(__import__("audit.models").models.AuditEvent.objects.values_list("action", flat=True))
    )()
    assert "supportline.conversation.monitored" in events

    await supervisor.send(type="take_over", conversation_id=conversation_id)
    assert (await visitor.recv_type("state", status="active"))["counsellor"] == "Eva"
    assert (await staff.recv_type("closed"))["conversation_id"] == conversation_id
    for socket in (visitor, staff, supervisor):
        await socket.close()


async def test_cross_origin_handshakes_are_refused(two_servers, counsellor):
    visitor_server, _ = two_servers
    _, cookie = counsellor
    for path in ("/ws/chat/", "/ws/counsellor/"):
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await Socket.open(visitor_server, path, cookie=cookie, origin=Origin("https://evil.example"))


@pytest.mark.parametrize("who", ["anonymous", "unverified", "analyst", "editor"])
async def test_counsellor_socket_refuses_anyone_but_verified_counsellors(two_servers, who):
    _, counsellor_server = two_servers
    cookie = None
    if who == "unverified":

        def unverified():
            from django.test import Client

            user: Any = StaffUserFactory(role=Role.COUNSELLOR)
            client = Client()
            client.force_login(user)
            return f"sessionid={client.cookies['sessionid'].value}"

        cookie = await adb(unverified)()
    elif who in ("analyst", "editor"):
        _, cookie = await adb(verified_staff_cookie)(Role(who), "X")
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await Socket.open(counsellor_server, "/ws/counsellor/", cookie=cookie)
    assert refused.value.response.status_code == 403


async def test_start_is_refused_when_the_chat_is_closed(two_servers, transactional_db):
    visitor_server, _ = two_servers
    visitor = await Socket.open(visitor_server, "/ws/chat/")
    await visitor.send(type="start")
    assert (await visitor.recv_type("error"))["code"] == "closed"
    await visitor.alive()
    await visitor.close()
    assert await adb(Conversation.objects.count)() == 0


async def test_new_chat_alert_carries_no_text_and_risk_alerts_reach_supervisors(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    _, supervisor_cookie = await adb(verified_staff_cookie)(Role.SUPERVISOR, "Eva")
    staff = await Socket.open(counsellor_server, "/ws/counsellor/", cookie=cookie)
    supervisor = await Socket.open(visitor_server, "/ws/counsellor/", cookie=supervisor_cookie)
    await staff.recv_type("dashboard")
    await supervisor.recv_type("dashboard")

    visitor, _ = await start_chat(visitor_server, topic="threat")
    assert await staff.recv_type("alert") == {"type": "alert", "kind": "new_chat"}
    dashboard = await staff.recv_type("dashboard")
    while not dashboard["queue"]:
        dashboard = await staff.recv_type("dashboard")
    conversation_id = dashboard["queue"][0]["id"]
    await staff.send(type="claim", conversation_id=conversation_id)
    await staff.recv_type("chat")
    await staff.send(type="risk", conversation_id=conversation_id)
    alert = await supervisor.recv_type("alert", kind="risk")
    assert alert["conversation_id"] == conversation_id
    chat = await staff.recv_type("chat")
    while not chat["conversation"]["risk"]:
        chat = await staff.recv_type("chat")
    for socket in (visitor, staff, supervisor):
        await socket.close()


async def test_transfer_to_a_named_colleague_moves_the_chat_with_its_history(two_servers, counsellor):
    visitor_server, counsellor_server = two_servers
    _, cookie = counsellor
    colleague, colleague_cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Sara")
    visitor, _, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    await visitor.send(type="message", client_id="v1", text="Jag vågar inte berätta för mamma")
    await staff.recv_type("message")
    other = await Socket.open(visitor_server, "/ws/counsellor/", cookie=colleague_cookie)
    await other.recv_type("dashboard")
    await staff.send(type="transfer", conversation_id=conversation_id, to=colleague.pk, note="Hon vill prata om skolan")
    assert (await staff.recv_type("closed"))["conversation_id"] == conversation_id
    assert (await visitor.recv_type("state", status="active"))["counsellor"] == "Sara"
    dashboard = await other.recv_type("dashboard")
    while not dashboard["mine"]:
        dashboard = await other.recv_type("dashboard")
    await other.send(type="open", conversation_id=conversation_id, last_seq=0)
    chat = await other.recv_type("chat")
    assert [n["text"] for n in chat["notes"]] == ["Hon vill prata om skolan"]
    assert chat["writable"] is True
    assert (await other.recv_type("message"))["text"] == "Jag vågar inte berätta för mamma"
    for socket in (visitor, staff, other):
        await socket.close()


async def test_a_queued_page_hears_only_of_changes_to_what_it_shows(two_servers, counsellor):
    # Someone new behind you leaves your place in the queue as it is: no frame.
    # Someone ahead of you leaving moves you up: a frame. With hundreds waiting
    # this is the difference between one frame per change and one per page.
    visitor_server, counsellor_server = two_servers
    _user, cookie = counsellor
    staff = await Socket.open(counsellor_server, "/ws/counsellor/", cookie=cookie)
    first, _ = await start_chat(visitor_server, age_band="13_15", topic="online")
    assert (await first.recv_type("queue"))["position"] == 1
    second, _ = await start_chat(visitor_server, age_band="13_15", topic="online")
    assert (await second.recv_type("queue"))["position"] == 2
    third, _ = await start_chat(visitor_server, age_band="13_15", topic="online")
    assert (await third.recv_type("queue"))["position"] == 3
    assert await second.collect("queue", quiet=2.5) == []
    dashboards = [frame for frame in await staff.collect("dashboard", quiet=2.5) if len(frame["queue"]) == 3]
    assert len(dashboards) >= 1

    await first.send(type="leave")
    moved = await second.recv_type("queue", timeout=10)
    assert moved["position"] == 1
    assert (await third.recv_type("queue", timeout=10))["position"] == 2
    # The console's queue changed too, and no dashboard repeats the one before it.
    shown = [json.dumps(frame, sort_keys=True) for frame in await staff.collect("dashboard", quiet=2.5)]
    assert shown and len(json.loads(shown[-1])["queue"]) == 2
    assert all(before != after for before, after in itertools.pairwise(shown))
    for socket in (first, second, third, staff):
        await socket.close()
