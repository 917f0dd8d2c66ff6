"""Generated frames, well-formed and not, cannot crash either chat socket (issue 10, item 10).

Hypothesis builds sequences of frames (known types with every field set to
any JSON value, NUL bytes, lone surrogates, numbers past bigint, deep
nesting, non-objects, broken JSON) and sends them through the full ASGI
application on the real Redis layer and PostgreSQL. After each sequence the
socket must still be open and answer a ping, no frame may have failed
inside (`internal`), and every conversation the sequence created must
either be reachable with the token its socket received, or be ended, or be
left to the sweeper (visitor gone). Derandomized, so CI runs the same
frames each time.
"""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportline import frames, live, selectors, services
from supportline.models import Conversation
from tests.supportline.helpers import InProcessSocket, adb, open_all_week, verified_staff_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FUZZ = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_nasty_strings = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e", "\n", "🙂", "a" * 65, "a" * 5000, "null", "0"]
)
_strings = st.text(max_size=30) | st.text(st.characters(codec=None, exclude_categories=()), max_size=8) | _nasty_strings
_integers = st.integers(-3, 60) | st.integers(2**31 - 2, 2**31 + 2) | st.integers(2**63 - 2, 2**64 + 2) | st.integers()
_scalars = st.none() | st.booleans() | _integers | st.floats() | _strings
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_strings, inner, max_size=3),
    max_leaves=6,
)

_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "conversation_id": _integers,
    "last_seq": _integers,
    "client_id": st.uuids().map(lambda u: u.hex) | _strings,
    "text": st.text(min_size=1, max_size=40) | _strings,
    "token": _strings,
    "active": st.booleans(),
    "age_band": st.sampled_from(Conversation.AgeBand.values) | _strings,
    "topic": st.sampled_from(Conversation.Topic.values) | _strings,
    "to": _integers,
    "note": _strings,
    "step": st.sampled_from(Conversation.EscalationStep.values) | _strings,
    "reason": _strings,
    "hours": _integers,
    "categories": st.lists(_strings, max_size=4),
    "outcome": _strings,
}


def _frames_for(types: list[str]) -> st.SearchStrategy[str]:
    """JSON text of one frame: a known type whose fields hold likely or any values, or garbage."""
    fields = st.fixed_dictionaries(
        {"type": st.sampled_from(types)},
        optional={name: value | _json for name, value in _FIELDS.items()},
    )
    nested = st.integers(3, 5000).map(lambda n: '{"type":"ping","a":' + "[" * n + "]" * n + "}")
    deep_object = st.integers(3, 2000).map(lambda n: '{"a":' * n + "1" + "}" * n)
    raw = st.sampled_from(['{"type":"ping"', "[]", "1", '"ping"', "{}", '{"type":null}', "1" * 5000, "NaN"])
    return (
        fields.map(json.dumps)
        | fields.map(lambda frame: json.dumps(frame, ensure_ascii=False))
        | nested
        | deep_object
        | raw
        | st.text(max_size=40)
    )


_VISITOR = st.lists(_frames_for(list(frames.VISITOR_FRAMES)), min_size=1, max_size=25)
_COUNSELLOR = st.lists(_frames_for(list(frames.STAFF_FRAMES)), min_size=1, max_size=25)


@pytest.fixture
def generous_limits(settings):
    # The fuzz is about parsing, not about the rate limits (tests/supportline/test_protocol.py has those).
    settings.SUPPORTLINE_MESSAGES_PER_SECOND = 100_000
    settings.SUPPORTLINE_STARTS_PER_HOUR = 1_000_000


async def _survives(socket: InProcessSocket, sent: list[str]) -> list[dict[str, Any]]:
    """Sends ``sent``, then a ping; every frame until the pong. Fails on a close or a crash."""
    for text in sent:
        await socket.send_raw(text)
    await socket.send(type="ping")
    answers: list[dict[str, Any]] = []
    while True:
        output = await socket.output(20)  # re-raises whatever crashed the application
        assert output["type"] == "websocket.send", f"socket closed: {output} after {sent!r}"
        # What a real server does with it next: a lone surrogate here would fail the connection.
        output["text"].encode("utf-8")
        frame = json.loads(output["text"])
        assert not (frame["type"] == "error" and frame["code"] == "internal"), f"internal error after {sent!r}"
        if frame == {"type": "pong"}:
            return answers
        answers.append(frame)


def _phantoms(known_tokens: set[str]) -> list[int]:
    """Open conversations nobody can reach: no token was handed out, and the sweeper would not end them."""
    reachable = {selectors.token_hash(token) for token in known_tokens}
    open_chats = Conversation.objects.exclude(status=Conversation.Status.ENDED)
    # A chat whose token never reached its socket is bound to that socket, so its
    # disconnect marks the visitor gone and the sweeper ends it (consumers.handle_start):
    # unreachable and still "here" is the phantom, as is any queued chat still "here".
    return [
        chat.pk
        for chat in open_chats
        if chat.visitor_connected and (chat.token_hash not in reachable or chat.status == Conversation.Status.QUEUED)
    ]


@pytest.fixture
def brisk_snapshots(monkeypatch):
    # A console's frames ask for a fresh queue snapshot, which a process takes at most every 200 ms
    # (live.SnapshotMemo): with a new console per example, that pause was five sixths of this test's
    # time. The fuzz is about parsing, not about that pacing; 10 ms still pauses, so the path is the same.
    monkeypatch.setattr(live.SnapshotMemo, "MIN_INTERVAL", 0.01)


@pytest.fixture
def chats_open(db):
    open_all_week()


@pytest.fixture
def handed_out() -> set[str]:
    """Every token a visitor socket received, across all examples of one test."""
    return set()


@pytest.fixture
def console_cookie(chats_open):
    _user, cookie = verified_staff_cookie()
    # Real chats for the generated conversation ids to hit.
    for _ in range(3):
        services.conversation_start()
    return cookie


@FUZZ
@given(sent=_VISITOR)
async def test_visitor_socket_survives_generated_frames(generous_limits, chats_open, handed_out, sent):
    visitor = InProcessSocket("/ws/chat/")
    assert await visitor.connect()
    try:
        answers = await _survives(visitor, sent)
        handed_out.update(frame["token"] for frame in answers if frame["type"] == "session")
    finally:
        await visitor.disconnect()
    assert await adb(_phantoms)(handed_out) == []


@FUZZ
@given(sent=_COUNSELLOR)
async def test_counsellor_socket_survives_generated_frames(generous_limits, brisk_snapshots, console_cookie, sent):
    console = InProcessSocket("/ws/counsellor/", console_cookie)
    assert await console.connect()
    try:
        await _survives(console, sent)
    finally:
        await console.disconnect()
