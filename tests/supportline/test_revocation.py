"""Revoking a counsellor's access reaches the console they already have open (issue 10, item 4).

The console runs in its own uvicorn process; the administrator's change
happens in this one, as it would in a web process handling the admin. The
socket must close with 4403 within a second, and nothing the counsellor
sends after the change may be stored.
"""

import asyncio
import contextlib
import time
from typing import Any

import pytest
import websockets
from django.contrib.auth.models import Group
from django.test import Client

from staff import revocation
from staff.roles import Role
from staff.services import deactivate_account
from supportline.consumers import ACCESS_REVOKED_CLOSE_CODE
from supportline.models import Message
from tests.factories import StaffUserFactory
from tests.supportline.helpers import (
    InProcessSocket,
    Socket,
    adb,
    claimed_chat,
    new_client_id,
    open_all_week,
    verified_staff_cookie,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _deactivate(user: Any, cookie: str) -> None:
    administrator: Any = StaffUserFactory(role=Role.ADMINISTRATOR)
    deactivate_account(actor=administrator, user=user)


def _remove_role(user: Any, cookie: str) -> None:
    user.groups.remove(Group.objects.get(name=Role.COUNSELLOR.value))


def _log_out(user: Any, cookie: str) -> None:
    # The counsellor logs out in another tab: the admin's own logout view.
    client = Client()
    client.cookies["sessionid"] = cookie.split("=", 1)[1]
    assert client.post("/admin/logout/").status_code in {200, 302}


def _counsellor_messages(conversation_id: int) -> int:
    return Message.objects.filter(conversation_id=conversation_id, sender=Message.Sender.COUNSELLOR).count()


async def _closed_within(console: Socket, seconds: float) -> int | None:
    """The close code once the server closes ``console``, reading (and dropping) frames meanwhile."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                await console.ws.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None


@pytest.mark.parametrize("revoke", [_deactivate, _remove_role, _log_out], ids=["deactivated", "role_removed", "logout"])
async def test_revocation_closes_an_open_console_within_a_second(two_servers, revoke):
    visitor_server, counsellor_server = two_servers
    await adb(open_all_week)()
    user, cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
    visitor, _token, console, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    try:
        hello = new_client_id()
        await console.send(type="message", conversation_id=conversation_id, client_id=hello, text="Hej")
        await console.confirmed(hello)
        assert await adb(_counsellor_messages)(conversation_id) == 1

        started = time.monotonic()
        await adb(revoke)(user, cookie)
        # The counsellor keeps typing at once, before any close could arrive (or into one that already did).
        with contextlib.suppress(websockets.ConnectionClosed):
            await console.send(
                type="message", conversation_id=conversation_id, client_id=new_client_id(), text="Är du där?"
            )
            await console.send(type="open", conversation_id=conversation_id, last_seq=0)
        code = await _closed_within(console, 1.0)
        assert code == ACCESS_REVOKED_CLOSE_CODE, f"closed with {code} after {time.monotonic() - started:.2f}s"

        # The child writes on; nothing of it reaches the closed console, nothing later of the counsellor is stored.
        still_there = new_client_id()
        await visitor.send(type="message", client_id=still_there, text="Hallå?")
        await visitor.confirmed(still_there)
        await asyncio.sleep(0.3)
        assert await adb(_counsellor_messages)(conversation_id) == 1
        # And the console cannot come back on the same cookie.
        with pytest.raises(websockets.InvalidStatus):
            await Socket.open(counsellor_server, "/ws/counsellor/", cookie=cookie)
    finally:
        await visitor.close()
        await console.close()


async def test_a_revocation_whose_event_was_lost_still_stops_the_next_frame(monkeypatch):
    """The stamp alone is enough: with the layer event dropped, the next frame re-checks and closes."""
    await adb(open_all_week)()
    user, cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
    console = InProcessSocket("/ws/counsellor/", cookie)
    assert await console.connect()
    try:
        assert (await console.frame())["type"] == "dashboard"
        await console.send(type="typing", conversation_id=999999, active=True)
        assert (await console.frame())["code"] == "not_open"

        async def lost(group: str, event: dict[str, Any]) -> None:
            return None

        monkeypatch.setattr(revocation, "_broadcast", lost)
        await adb(_remove_role)(user, cookie)
        await console.send(type="typing", conversation_id=999999, active=True)
        assert await console.output(2) == {"type": "websocket.close", "code": ACCESS_REVOKED_CLOSE_CODE}
    finally:
        await console.disconnect()


async def test_a_change_that_keeps_the_role_keeps_the_console(two_servers):
    _visitor_server, counsellor_server = two_servers
    user, cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
    console = await Socket.open(counsellor_server, "/ws/counsellor/", cookie=cookie)
    try:
        await console.recv_type("dashboard")
        await adb(lambda: user.groups.add(Group.objects.get(name=Role.EDITOR.value)))()
        assert await _closed_within(console, 1.0) is None
        await console.alive()
        await console.send(type="typing", conversation_id=999999, active=True)
        assert (await console.recv_type("error"))["code"] == "not_open"
    finally:
        await console.close()
