"""Redis goes away under 20 live chats: nobody is disconnected and nothing acknowledged is lost.

Visitors sit on one web process and their counsellors on another, both on a
private ``redis-server`` that the test kills for about ten seconds and starts
again on the same port. While it is down, messages travel by the database
(degraded mode: each socket polls for new ``seq``s, supportline/outage.py); once it is back,
latency returns to the pub/sub path's.

Redis also serves the cache, and a visitor's message passes the rate limiter:
both fall back when Redis is away (resilience/, privacy/ratelimit.py).
supportline/test_redis_outage.py is the small in-process version of this drill.
"""

import asyncio
import contextlib
import json
import signal
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets

from supportline.models import Conversation, CounsellorProfile, Message
from tests.processes import RedisServer
from tests.supportline.helpers import (
    Socket,
    adb,
    chat_site_env,
    new_client_id,
    open_all_week,
    verified_staff_cookie,
    web_processes,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHATS = 20
CHATS_PER_COUNSELLOR = 5
OUTAGE_SECONDS = 10.0
DEGRADED_LATENCY = 6.0  # seconds: poll interval, probe and a loaded machine
VISITOR_EVERY = 2.0
COUNSELLOR_EVERY = 4.0


@dataclass
class Side:
    """One socket, what it sent (acknowledged) and what it received, with times."""

    name: str
    ws: Any
    sent_at: dict[str, float] = field(default_factory=dict)
    acked: dict[str, tuple[int, float]] = field(default_factory=dict)  # client_id -> (seq, when)
    received: list[tuple[int, int, str, float]] = field(default_factory=list)  # (conversation, seq, client_id, when)
    closed: BaseException | None = None
    pongs: int = 0
    pings: int = 0

    async def send(self, **frame):
        await self.ws.send(json.dumps(frame))


async def read_frames(side: Side, conversation_of_visitor: int | None = None):
    try:
        async for raw in side.ws:
            frame = json.loads(raw)
            now = time.monotonic()
            if frame["type"] == "pong":
                side.pongs += 1
            elif frame["type"] == "ack":
                side.acked.setdefault(frame["client_id"], (frame["seq"], now))
            elif frame["type"] == "message":
                if frame["client_id"] in side.sent_at:  # its own message back: the confirmation
                    side.acked.setdefault(frame["client_id"], (frame["seq"], now))
                conversation = frame.get("conversation_id", conversation_of_visitor)
                side.received.append((conversation, frame["seq"], frame["client_id"], now))
        side.closed = RuntimeError("closed by the server")
    except websockets.ConnectionClosed as exc:
        side.closed = exc


@pytest.fixture
def private_stack(django_db_setup, tmp_path):
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        env = chat_site_env(tmp_path, CHATS_PER_COUNSELLOR, REDIS_URL=redis.url)
        with web_processes(env, tmp_path) as servers:
            yield redis, servers
    finally:
        redis.stop()


async def connect(server, path, cookie=None):
    """The bare websocket, which a ``Side`` reads frame by frame."""
    return (await Socket.open(server, path, cookie=cookie)).ws


async def next_frame(ws, kind, timeout=20.0, **match):
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def set_up_chats(visitor_server, counsellor_server):
    """Twenty visitors on one process, claimed five each by four counsellors on the other."""
    await adb(open_all_week)()
    visitors: list[Side] = []
    conversation_ids: list[int] = []
    for index in range(CHATS):
        ws = await connect(visitor_server, "/ws/chat/")
        await ws.send(json.dumps({"type": "start"}))
        await next_frame(ws, "session")
        await next_frame(ws, "state", status="queued")
        visitors.append(Side(f"visitor{index}", ws))
    conversation_ids = await adb(lambda: list(Conversation.objects.order_by("pk").values_list("pk", flat=True)))()
    assert len(conversation_ids) == CHATS
    counsellors: list[Side] = []
    for index in range(CHATS // CHATS_PER_COUNSELLOR):
        user, cookie = await adb(verified_staff_cookie)(alias=f"Rådgivare {index}")
        await adb(CounsellorProfile.objects.filter(user=user).update)(max_chats=CHATS_PER_COUNSELLOR)
        ws = await connect(counsellor_server, "/ws/counsellor/", cookie=cookie)
        await next_frame(ws, "dashboard")
        for conversation_id in conversation_ids[index * CHATS_PER_COUNSELLOR : (index + 1) * CHATS_PER_COUNSELLOR]:
            await ws.send(json.dumps({"type": "claim", "conversation_id": conversation_id}))
            await next_frame(ws, "chat", timeout=20)
        counsellors.append(Side(f"counsellor{index}", ws))
    for visitor in visitors:
        await next_frame(visitor.ws, "state", status="active")
    return visitors, counsellors, conversation_ids


async def talk(side: Side, conversation_ids: list[int], every: float, stop: asyncio.Event, counsellor: bool):
    """Sends a message to each chat every ``every`` seconds, staggered, until ``stop``."""
    index = 0
    offset = (hash(side.name) % 100) / 100 * every
    await asyncio.sleep(offset)
    while not stop.is_set():
        for conversation_id in conversation_ids:
            client_id = new_client_id()
            frame: dict[str, Any] = {"type": "message", "client_id": client_id, "text": f"{side.name} #{index}"}
            if counsellor:
                frame["conversation_id"] = conversation_id
            side.sent_at[client_id] = time.monotonic()
            await side.send(**frame)
            index += 1
        side.pings += 1
        await side.send(type="ping")  # the page's heartbeat
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def test_chats_keep_flowing_while_redis_is_down_and_switch_back(private_stack):
    redis, (visitor_server, counsellor_server) = private_stack
    visitors, counsellors, conversation_ids = await set_up_chats(visitor_server, counsellor_server)
    visitor_conversation = dict(zip((v.name for v in visitors), conversation_ids, strict=True))
    readers = [asyncio.ensure_future(read_frames(v, visitor_conversation[v.name])) for v in visitors]
    readers += [asyncio.ensure_future(read_frames(c)) for c in counsellors]
    stop = asyncio.Event()
    # Some sides only listen: a side that sends reads everything new after each of
    # its acks, so only a listener shows what the layer (or the poller) delivers.
    listeners = {counsellors[-1].name} | {v.name for v in visitors[: CHATS - CHATS_PER_COUNSELLOR : 2]}
    talkers = []
    for visitor in visitors:
        own = [] if visitor.name in listeners else [visitor_conversation[visitor.name]]
        talkers.append(asyncio.ensure_future(talk(visitor, own, VISITOR_EVERY, stop, counsellor=False)))
    for index, counsellor in enumerate(counsellors):
        own = conversation_ids[index * CHATS_PER_COUNSELLOR : (index + 1) * CHATS_PER_COUNSELLOR]
        own = [] if counsellor.name in listeners else own
        talkers.append(asyncio.ensure_future(talk(counsellor, own, COUNSELLOR_EVERY, stop, counsellor=True)))
    try:
        await asyncio.sleep(3)
        outage_started = time.monotonic()
        await asyncio.to_thread(redis.stop, signal.SIGKILL)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(redis.start)
        outage_ended = time.monotonic()
        await asyncio.sleep(7)
        stop.set()
        await asyncio.gather(*talkers)
        await asyncio.sleep(3)  # the last messages arrive
        closed_by_server = [(side.name, side.closed) for side in [*visitors, *counsellors] if side.closed]
    finally:
        for side in [*visitors, *counsellors]:
            await side.ws.close()
        await asyncio.gather(*readers, return_exceptions=True)

    # No socket was closed by the server, and every heartbeat was answered.
    assert not closed_by_server
    for side in [*visitors, *counsellors]:
        assert side.pongs == side.pings > 3, side.name

    # Every message was acknowledged and stored, under the seq of its ack.
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    stored = await adb(lambda: {m.client_id: (m.conversation_id, m.seq) for m in messages})()
    conversations = Conversation.objects.filter(pk__in=conversation_ids)
    counts = await adb(lambda: dict(conversations.values_list("pk", "last_seq")))()
    by_conversation: dict[int, dict[int, str]] = {cid: {} for cid in conversation_ids}
    for client_id, (conversation_id, seq) in stored.items():
        by_conversation[conversation_id][seq] = client_id
    senders = [*visitors, *counsellors]
    for side in senders:
        assert set(side.acked) == set(side.sent_at), f"{side.name}: unacknowledged messages"
        for client_id, (seq, _) in side.acked.items():
            assert stored[client_id][1] == seq

    # Each side received every message of the other side once, in order, with no gaps.
    delivered_at: dict[str, float] = {}
    receivers: list[tuple[Side, int | None]] = [(v, visitor_conversation[v.name]) for v in visitors]
    receivers += [(c, None) for c in counsellors]
    for side, only in receivers:
        for conversation_id in [only] if only is not None else sorted({r[0] for r in side.received}):
            seqs = [seq for cid, seq, _, _ in side.received if cid == conversation_id]
            assert seqs == sorted(set(seqs)), f"{side.name}: duplicated or out of order in {conversation_id}"
            # A side's own messages come back on its log too; every seq is there once.
            assert seqs == list(range(1, counts[conversation_id] + 1)), f"{side.name}: gaps in {conversation_id}"
        for cid, seq, client_id, when in side.received:
            assert by_conversation[cid][seq] == client_id
            if client_id not in side.sent_at:
                delivered_at.setdefault(client_id, when)
    assert len({r[0] for c in counsellors for r in c.received}) == CHATS

    # Latency: degraded but bounded while Redis was down, back to normal once it returned.
    sent_at = {client_id: when for side in senders for client_id, when in side.sent_at.items()}
    during = [delivered_at[c] - s for c, s in sent_at.items() if outage_started + 1 < s < outage_ended - 2]
    assert len(during) > 50
    assert max(during) < DEGRADED_LATENCY
    # Flowing while Redis was still down, not only caught up when it returned.
    heard_by_listeners = {r[2] for side in [*visitors, *counsellors] if side.name in listeners for r in side.received}
    early = [c for c, s in sent_at.items() if outage_started + 1 < s < outage_ended - 4 and c in heard_by_listeners]
    assert len(early) > 10 and all(delivered_at[c] < outage_ended for c in early)

    # The relay (from the sender's ack to the other side) shows which path carried a
    # message without the database's load on a busy machine: pub/sub before and after,
    # polling during.
    acked_at = {client_id: when for side in senders for client_id, (_, when) in side.acked.items()}

    def relay(lo, hi):
        return [delivered_at[c] - acked_at[c] for c, s in sent_at.items() if lo < s < hi]

    before = relay(0, outage_started)
    during_relay = relay(outage_started + 1, outage_ended - 2)
    after = relay(outage_ended + 3, float("inf"))
    assert len(before) > 10 and len(after) > 25
    assert statistics.median(during_relay) > 0.2, "no slower path during the outage: was Redis really down?"
    assert statistics.median(after) < max(2 * statistics.median(before), 0.25), (before, after)
