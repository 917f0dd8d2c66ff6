"""Failover drill: the Redis primary dies under 20 live chats, Sentinel promotes the replica.

Everything is a real local process: a Redis primary and replica and three
sentinels on free ports (never the shared Redis), two uvicorn processes
running the site with ``REDIS_SENTINELS`` (no ``REDIS_URL``), visitors on
both, one counsellor console on the first. The primary gets SIGKILL while
every visitor is sending. The drill then shows what docs/scaling.md promises:

* no acknowledged message is lost: every acked ``seq`` is in the database
  under its ``client_id``, and every stored message reaches the counsellor
  exactly once, in order (and the visitor's own page too);
* every socket the server closed was resumed (``resume`` + ``last_seq``);
* messages flow again within a bound after the kill;
* the cache, the channel layer and the Celery broker of both web processes
  follow the new primary (``/healthz``), and Celery tasks and results
  round-trip through the sentinels (the second test).
"""

import asyncio
import contextlib
import json
import logging
import random
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets.exceptions
from django.db import connection

from staff.roles import Role
from supportline import selectors
from supportline.models import Conversation, Message
from tests.processes import AsgiServer, RedisSentinelGroup, ping_both_queues
from tests.supportline.helpers import Socket, adb, chat_site_env, open_all_week, verified_staff_cookie, web_processes

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

log = logging.getLogger(__name__)

CHATS = 20
SEND_INTERVAL = 1.0  # seconds between new messages, per chat
ACK_TIMEOUT = 3.0  # resend an unacknowledged message after this long, as the page does
# From SIGKILL until, in every chat, a message written after the kill is
# acknowledged and shown to the counsellor: failover (about 2.5 s: 1 s to
# detect, then election and promotion), the clients' reconnect backoff (at
# most 2 s here) and one resend interval, with room to spare.
RECOVERY_BOUND = 10.0

_CLOSED = (OSError, TimeoutError, websockets.exceptions.WebSocketException)


def _sentinel_env(group: RedisSentinelGroup, data_dir: Path) -> dict[str, str]:
    """The site's environment on the test database, with the sentinels instead of REDIS_URL."""
    env = chat_site_env(data_dir, chats_per_counsellor=CHATS, **group.env())
    env.pop("REDIS_URL", None)
    return env


@pytest.fixture(scope="module")
def sentinel_site(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RedisSentinelGroup, list[AsgiServer]]]:
    workdir = tmp_path_factory.mktemp("sentinel-drill")
    group = RedisSentinelGroup(workdir / "redis")
    try:
        group.start()
        with web_processes(_sentinel_env(group, workdir / "data"), workdir) as servers:
            yield group, servers
    finally:
        group.stop()


class Page:
    """A browser page's socket to one web process, and the task that reads it."""

    def __init__(self, server: AsgiServer) -> None:
        self.server = server
        self.socket: Socket | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closed_by_server = 0

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.socket is not None:
            socket, self.socket = self.socket, None
            await socket.close()


class Visitor(Page):
    """A young person's page, reduced to what the protocol asks of it (docs/chat-protocol.md)."""

    def __init__(self, n: int, server: AsgiServer) -> None:
        super().__init__(server)
        self.n = n
        self.resuming: Socket | None = None  # a resumed socket until its first state frame
        self.token = ""
        self.conversation_id = 0
        self.last_seq = 0
        self.shown: list[int] = []  # seq of every message frame, in arrival order
        self.outbox: dict[str, float] = {}  # client_id -> when last sent
        self.created: dict[str, float] = {}
        self.acked: dict[str, int] = {}
        self.ack_times: dict[str, float] = {}
        self.events: list[tuple[float, str]] = []
        self.ack_conflicts: list[tuple[str, int, int]] = []
        self.resumed = 0  # resumes answered with a state frame
        self.reconnect_failures = 0
        self.errors: list[str] = []
        self.counter = 0

    async def start(self) -> None:
        self.socket = await Socket.open(self.server, "/ws/chat/")
        await self.socket.send(type="start")
        self.token = (await self.socket.recv_type("session"))["token"]
        self.reader = asyncio.create_task(self._read(self.socket))

    async def _read(self, socket: Socket) -> None:
        try:
            while True:
                frame = await socket.recv(timeout=3600)
                kind = frame.get("type")
                # An ack, or the page's own message coming back, confirms a message.
                if kind == "ack" or (kind == "message" and frame["client_id"] in self.created):
                    client_id, seq = frame["client_id"], frame["seq"]
                    self.ack_times.setdefault(client_id, time.monotonic())
                    if self.acked.setdefault(client_id, seq) != seq:
                        self.ack_conflicts.append((client_id, self.acked[client_id], seq))
                    self.outbox.pop(client_id, None)
                if kind == "message":
                    self.shown.append(frame["seq"])
                    self.last_seq = max(self.last_seq, frame["seq"])
                elif kind == "state" and socket is self.resuming:
                    self.events.append((time.monotonic(), "resumed"))
                    self.resumed += 1
                    self.resuming = None
                elif kind == "error":
                    self.events.append((time.monotonic(), f"error {frame}"))
                    if frame.get("code") != "rate_limited":
                        self.errors.append(frame["code"])
        except _CLOSED as exc:
            self.events.append((time.monotonic(), f"closed {exc!r}"))
            if self.socket is socket:
                self.socket = None
                self.closed_by_server += 1

    async def _reconnect(self) -> None:
        attempt = 0
        while self.socket is None:
            try:
                socket = await Socket.open(self.server, "/ws/chat/")
                await socket.send(type="resume", token=self.token, last_seq=self.last_seq)
            except _CLOSED as exc:
                self.events.append((time.monotonic(), f"reconnect failed {exc!r}"))
                self.reconnect_failures += 1
                attempt += 1
                # The page backs off up to 30 s; capped lower so the drill stays short.
                await asyncio.sleep(min(2.0, 0.25 * 2**attempt) * random.uniform(0.75, 1.25))
                continue
            self.socket = self.resuming = socket
            self.reader = asyncio.create_task(self._read(socket))
            for client_id in list(self.outbox):
                await self._send(client_id)

    async def _send(self, client_id: str) -> None:
        self.outbox[client_id] = time.monotonic()
        if self.socket is None:
            return
        with contextlib.suppress(*_CLOSED):  # the reader notices the close
            await self.socket.send(type="message", client_id=client_id, text=f"chat {self.n} says {client_id}")

    async def run(self, sending: asyncio.Event, stop: asyncio.Event) -> None:
        next_message = time.monotonic() + random.uniform(0, SEND_INTERVAL)
        while not stop.is_set():
            if self.socket is None:
                await self._reconnect()
                continue
            now = time.monotonic()
            if sending.is_set() and now >= next_message:
                self.counter += 1
                client_id = f"v{self.n}-{self.counter}"
                self.created[client_id] = now
                await self._send(client_id)
                next_message = now + SEND_INTERVAL * random.uniform(0.8, 1.2)
            for client_id, sent_at in list(self.outbox.items()):
                if now - sent_at > ACK_TIMEOUT:
                    await self._send(client_id)
            await asyncio.sleep(0.05)


class Console(Page):
    """The counsellor's console: claims every chat, records every message frame, re-opens after a drop."""

    def __init__(self, server: AsgiServer, cookie: str) -> None:
        super().__init__(server)
        self.cookie = cookie
        self.received: dict[int, list[tuple[int, float]]] = {}  # conversation -> (seq, arrival)
        self.chat_frames: set[int] = set()
        self.dashboards: list[float] = []
        self.reopened = 0

    def last_seq(self, conversation_id: int) -> int:
        frames = self.received.get(conversation_id)
        return max(seq for seq, _ in frames) if frames else 0

    async def connect(self) -> None:
        self.socket = await Socket.open(self.server, "/ws/counsellor/", cookie=self.cookie)
        self.reader = asyncio.create_task(self._read(self.socket))

    async def _read(self, socket: Socket) -> None:
        try:
            while True:
                frame = await socket.recv(timeout=3600)
                if frame.get("type") == "message":
                    self.received.setdefault(frame["conversation_id"], []).append((frame["seq"], time.monotonic()))
                elif frame.get("type") == "dashboard":
                    self.dashboards.append(time.monotonic())
                elif frame.get("type") == "chat":
                    self.chat_frames.add(frame["conversation"]["id"])
        except _CLOSED:
            if self.socket is socket:
                self.socket = None
                self.closed_by_server += 1

    async def claim(self, conversation_id: int) -> None:
        assert self.socket is not None
        self.received.setdefault(conversation_id, [])
        await self.socket.send(type="claim", conversation_id=conversation_id)
        deadline = time.monotonic() + 20
        while conversation_id not in self.chat_frames:
            assert time.monotonic() < deadline, f"claim of {conversation_id} not confirmed"
            await asyncio.sleep(0.02)

    async def keep_open(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.socket is None:
                try:
                    await self.connect()
                    assert self.socket is not None
                    for conversation_id in self.received:
                        await self.socket.send(
                            type="open", conversation_id=conversation_id, last_seq=self.last_seq(conversation_id)
                        )
                    self.reopened += 1
                except _CLOSED:
                    self.socket = None
                    await asyncio.sleep(0.5)
            await asyncio.sleep(0.05)


def _transactions_left_open() -> list[tuple[Any, ...]]:
    """Server connections inside a transaction (open or waiting): none should be left once the chats are idle."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, now() - xact_start, left(query, 120) "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND xact_start IS NOT NULL"
        )
        return [tuple(str(v) for v in row) for row in cursor.fetchall()]


def _health(server: AsgiServer) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:  # noqa: S310 - local
            return dict(json.loads(response.read())["checks"])
    except urllib.error.HTTPError as error:
        return dict(json.loads(error.read())["checks"])


async def _health_after_failover(server: AsgiServer, within: float = 15.0) -> dict[str, Any]:
    """/healthz once cache, layer and broker answer on the new primary (or the last answer after ``within`` s).

    The cache's breaker skips Redis for a few seconds after a failure
    (REDIS_CACHE_BREAKER_SECONDS), so a check right after a quick recovery can
    still see it open.
    """
    deadline = time.monotonic() + within
    while True:
        checks = await asyncio.to_thread(_health, server)
        if all(checks.get(k) == "ok" for k in ("cache", "channellayer", "broker")) or time.monotonic() > deadline:
            return checks
        await asyncio.sleep(0.5)


async def test_primary_killed_under_twenty_chats_loses_nothing_and_every_socket_resumes(sentinel_site):
    group, servers = sentinel_site
    await adb(open_all_week)()
    _user, cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Maja")

    visitors = [Visitor(n, servers[n % 2]) for n in range(CHATS)]
    await asyncio.gather(*(v.start() for v in visitors))
    by_hash = await adb(lambda: dict(Conversation.objects.values_list("token_hash", "pk")))()
    for visitor in visitors:
        visitor.conversation_id = by_hash[selectors.token_hash(visitor.token)]
    console = Console(servers[0], cookie)
    await console.connect()
    for visitor in visitors:
        await console.claim(visitor.conversation_id)

    sending, stop = asyncio.Event(), asyncio.Event()
    sending.set()
    tasks = [asyncio.create_task(v.run(sending, stop)) for v in visitors]
    tasks.append(asyncio.create_task(console.keep_open(stop)))
    try:
        await asyncio.sleep(3)
        assert all(v.acked for v in visitors), "no traffic before the kill"

        killed_at = time.monotonic()
        group.primary.stop(signal.SIGKILL, timeout=5)
        await asyncio.to_thread(group.wait_for_failover)
        failover_seconds = time.monotonic() - killed_at

        # Keep talking until every chat has had a message written after the
        # kill reach the counsellor, then a little longer.
        def recovered_at(visitor: Visitor) -> float | None:
            after_kill = [c for c, t in visitor.created.items() if t > killed_at and c in visitor.acked]
            if not after_kill:
                return None
            first_seq = min(visitor.acked[c] for c in after_kill)
            arrivals = [t for seq, t in console.received[visitor.conversation_id] if seq == first_seq]
            return arrivals[0] - killed_at if arrivals else None

        deadline = killed_at + 25
        while time.monotonic() < deadline and any(recovered_at(v) is None for v in visitors):
            await asyncio.sleep(0.2)
        recovery = {v.n: recovered_at(v) for v in visitors}
        acks_back = {
            v.n: min((t for c, t in v.ack_times.items() if v.created[c] > killed_at), default=None) for v in visitors
        }
        await asyncio.sleep(1.5)

        # Stop writing; let every outbox drain and the console catch up.
        sending.clear()
        drain_deadline = time.monotonic() + 30
        while time.monotonic() < drain_deadline:
            stored = await adb(
                lambda: dict(
                    Conversation.objects.filter(pk__in=[v.conversation_id for v in visitors]).values_list(
                        "pk", "last_seq"
                    )
                )
            )()
            drained = all(not v.outbox and v.socket is not None and v.resuming is None for v in visitors)
            caught_up = all(console.last_seq(cid) == last for cid, last in stored.items())
            if drained and caught_up and all(v.last_seq == stored[v.conversation_id] for v in visitors):
                break
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Close every socket before reading the database: an ack that arrived
        # after the read would look like a lost message.
        await asyncio.gather(*(v.close() for v in visitors), console.close(), return_exceptions=True)

    rows = await adb(
        lambda: list(
            Message.objects.filter(conversation_id__in=[v.conversation_id for v in visitors])
            .order_by("conversation_id", "seq")
            .values_list("conversation_id", "seq", "client_id")
        )
    )()
    stuck = await adb(_transactions_left_open)()
    health = [await _health_after_failover(server) for server in servers]

    stored_by_chat: dict[int, list[tuple[int, str]]] = {}
    for conversation_id, seq, client_id in rows:
        stored_by_chat.setdefault(conversation_id, []).append((seq, client_id))
    slowest = max((r for r in recovery.values() if r is not None), default=None)
    slowest_ack = max((t - killed_at for t in acks_back.values() if t is not None), default=None)
    summary = (
        f"failover {failover_seconds:.1f} s; acks back in every chat after {slowest_ack} s; a message written "
        f"after the kill shown to the counsellor in every chat after {slowest} s (per chat: {recovery}); "
        f"messages stored {len(rows)}; visitor sockets closed by the server "
        f"{sum(v.closed_by_server for v in visitors)}, resumed {sum(v.resumed for v in visitors)}, "
        f"failed reconnect attempts {sum(v.reconnect_failures for v in visitors)}; console closed "
        f"{console.closed_by_server}, re-opened {console.reopened}; dashboard frames to the console after the kill "
        f"{sum(t > killed_at for t in console.dashboards)}, the last after "
        f"{max(console.dashboards) - killed_at:.1f} s; transactions left open by the web processes {stuck}; "
        f"health after failover {health}"
    )
    log.warning("sentinel drill: %s", summary)
    # Everything each side saw, for reading a failure after the fact.
    record = {
        "killed_at": killed_at,
        "visitors": [
            {
                "n": v.n,
                "conversation_id": v.conversation_id,
                "created": v.created,
                "acked": v.acked,
                "ack_times": v.ack_times,
                "shown": v.shown,
                "events": v.events,
            }
            for v in visitors
        ],
        "console": {str(k): r for k, r in console.received.items()},
        "dashboards": console.dashboards,
        "stored": {str(k): r for k, r in stored_by_chat.items()},
    }
    (group.workdir.parent / "drill.json").write_text(json.dumps(record))

    lost, unacked, counsellor_wrong, visitor_wrong = [], [], [], []
    for visitor in visitors:
        stored = stored_by_chat.get(visitor.conversation_id, [])
        stored_ids = {client_id: seq for seq, client_id in stored}
        lost += [(c, s) for c, s in visitor.acked.items() if stored_ids.get(c) != s]
        unacked += [c for c in visitor.created if c not in visitor.acked]
        expected = [seq for seq, _ in stored]
        assert expected == list(range(1, len(stored) + 1)), f"gap in chat {visitor.n}: {expected}"
        if [seq for seq, _ in console.received[visitor.conversation_id]] != expected:
            counsellor_wrong.append((visitor.n, [s for s, _ in console.received[visitor.conversation_id]], expected))
        if visitor.shown != expected:
            visitor_wrong.append((visitor.n, visitor.shown, expected))

    assert not lost, f"acknowledged but not stored as acknowledged: {lost[:5]}\n{summary}"
    assert not [v.ack_conflicts for v in visitors if v.ack_conflicts], summary
    assert not unacked, f"never acknowledged: {unacked[:5]}\n{summary}"
    assert not counsellor_wrong, f"counsellor saw (chat, got, stored): {counsellor_wrong[:3]}\n{summary}"
    assert not visitor_wrong, f"visitor saw (chat, got, stored): {visitor_wrong[:3]}\n{summary}"
    assert not [v.errors for v in visitors if v.errors], summary
    # Every socket the server closed came back with resume and got its state.
    assert all(v.resumed == v.closed_by_server for v in visitors), summary
    for checks in health:
        assert (checks["cache"], checks["channellayer"], checks["broker"]) == ("ok", "ok", "ok"), summary
    # Last, the latency bounds: first the visitors' acks, then delivery to the counsellor.
    assert all(t is not None and t - killed_at < RECOVERY_BOUND for t in acks_back.values()), summary
    assert all(r is not None and r < RECOVERY_BOUND for r in recovery.values()), summary


def test_celery_tasks_and_results_go_through_the_sentinels(sentinel_site, tmp_path):
    """A worker and a client that know only the sentinels (after the drill: the promoted replica)."""
    group, _servers = sentinel_site
    env = _sentinel_env(group, tmp_path)
    assert "sentinel://" in ping_both_queues(env, tmp_path / "worker.log")
