"""Sockets opened while Redis is down: a chat starts, is claimed and talks, and switches back afterwards.

The sockets of ``test_redis_outage_drill`` were open before Redis went away.
Here every socket is opened during the outage: a young person starts a chat
(and later resumes it on a new socket), a counsellor opens the console, sees
the queue and claims the chat, and messages flow both ways through the
database (supportline/outage.py). When the private ``redis-server`` (never
the shared one) is back, each process subscribes the sockets' channels and
groups at Redis, messages travel by pub/sub again, and not one acknowledged
message is lost.
"""

import asyncio
import signal
import statistics
import time
from typing import Any

import pytest

from staff.roles import Role
from supportline.models import Message
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

PREFIX = "ecpat-newsockets"
# Polling every 1.5 s (outage.POLL_SECONDS) on a loaded machine.
DEGRADED_LATENCY = 6.0


@pytest.fixture
def private_stack(django_db_setup, tmp_path):
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        env = chat_site_env(tmp_path, 4, REDIS_URL=redis.url, CHANNEL_LAYER_PREFIX=PREFIX)
        with web_processes(env, tmp_path) as servers:
            yield redis, servers
    finally:
        redis.stop()


class Reader:
    """Reads a socket's frames in the background, with the time each arrived."""

    def __init__(self, sock: Socket) -> None:
        self.socket = sock
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            frame = await self.socket.recv(timeout=3600)
            self.frames.append((time.monotonic(), frame))

    async def wait(self, frame_type: str, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        """The first frame of ``frame_type`` matching ``match``, received so far or within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for _, frame in self.frames:
                if frame.get("type") == frame_type and all(frame.get(k) == v for k, v in match.items()):
                    return frame
            if self.task.done():
                raise AssertionError(f"socket ended: {self.task.exception()!r}")
            if time.monotonic() > deadline:
                received = [f.get("type") if f.get("type") != "error" else f for _, f in self.frames]
                raise TimeoutError(f"no {frame_type} {match} among {received}")
            await asyncio.sleep(0.02)

    def arrival(self, client_id: str) -> float:
        return next(t for t, f in self.frames if f.get("type") == "message" and f.get("client_id") == client_id)

    def seqs(self) -> list[int]:
        return [f["seq"] for _, f in self.frames if f.get("type") == "message"]

    async def close(self) -> None:
        self.task.cancel()
        await self.socket.close()


async def open_reader(server, path: str, cookie: str | None = None) -> Reader:
    return Reader(await Socket.open(server, path, cookie=cookie))


async def exchange(visitor: Reader, counsellor: Reader, conversation_id: int, tag: str, timeout: float):
    """One message each way, each side only listening while the other writes; returns their client ids.

    A side that sends catches up on everything new when it stores its message, so the
    other side's message must reach it while it is silent: by the layer, or
    by polling while the layer is down.
    """
    from_visitor, from_counsellor = f"v-{tag}-{new_client_id()}", f"c-{tag}-{new_client_id()}"
    await visitor.socket.send(type="message", client_id=from_visitor, text=f"visitor {tag}")
    await visitor.wait("message", timeout, client_id=from_visitor)  # its own message back: stored
    await counsellor.wait("message", timeout, client_id=from_visitor)
    await counsellor.socket.send(
        type="message", conversation_id=conversation_id, client_id=from_counsellor, text=f"counsellor {tag}"
    )
    await counsellor.wait("message", timeout, client_id=from_counsellor)
    await visitor.wait("message", timeout, client_id=from_counsellor)
    return from_visitor, from_counsellor


def relays(visitor: Reader, counsellor: Reader, pairs: list[tuple[str, str]]) -> list[float]:
    """For each message: from the sender's own copy (right after its ack) to the other side's."""
    times = [counsellor.arrival(v) - visitor.arrival(v) for v, _ in pairs]
    return times + [visitor.arrival(c) - counsellor.arrival(c) for _, c in pairs]


def subscribers(redis: RedisServer, group: str) -> int:
    """How many web processes listen to ``group`` at Redis."""
    client = redis.client()
    try:
        return int(dict(client.pubsub_numsub(f"{PREFIX}__group__{group}"))[f"{PREFIX}__group__{group}".encode()])
    finally:
        client.close()


async def test_new_sockets_start_claim_and_talk_while_redis_is_down(private_stack):
    redis, (visitor_server, counsellor_server) = private_stack
    await adb(open_all_week)()
    _, cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
    readers: list[Reader] = []
    try:
        # The processes have used the layer before it goes: a warm process, not a fresh one.
        warm = await open_reader(counsellor_server, "/ws/counsellor/", cookie)
        readers.append(warm)
        await warm.wait("dashboard")
        await redis_stopped(redis)

        # A young person starts a chat on a socket opened during the outage.
        visitor = await open_reader(visitor_server, "/ws/chat/")
        readers.append(visitor)
        await visitor.socket.send(type="start")
        token = (await visitor.wait("session"))["token"]
        await visitor.wait("state", status="queued")
        await visitor.wait("queue")

        # A counsellor opens the console: the queue shows the chat, and the claim reaches the visitor.
        counsellor = await open_reader(counsellor_server, "/ws/counsellor/", cookie)
        readers.append(counsellor)
        conversation_id = await queued_chat(counsellor)
        await counsellor.socket.send(type="claim", conversation_id=conversation_id)
        await counsellor.wait("chat")
        await visitor.wait("state", DEGRADED_LATENCY + 2, status="active")
        # The console open before the outage sees the queue change too.
        await queued_chat(warm, expect_empty=True)

        during = [await exchange(visitor, counsellor, conversation_id, f"down{n}", DEGRADED_LATENCY) for n in range(3)]

        # The visitor's page reconnects (a new socket, still during the outage) and resumes.
        await visitor.close()
        visitor = await open_reader(visitor_server, "/ws/chat/")
        readers.append(visitor)
        await visitor.socket.send(type="resume", token=token, last_seq=0)
        await visitor.wait("state", status="active")
        during.append(await exchange(visitor, counsellor, conversation_id, "resumed", DEGRADED_LATENCY))
        # They came by polling: was Redis really down?
        assert statistics.median(relays(visitor, counsellor, during[-1:])) > 0.2

        redis.start()
        group = f"supportline.conversation.{conversation_id}"
        deadline = time.monotonic() + 15
        while subscribers(redis, group) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        # Both processes subscribed the chat's group at Redis again: the sockets that never had it.
        assert subscribers(redis, group) == 2
        await asyncio.sleep(5)  # past the recovery grace: the sockets stop polling
        after = []
        for n in range(8):
            after.append(await exchange(visitor, counsellor, conversation_id, f"up{n}", 5))
            await asyncio.sleep(0.3)  # a person's pace, within the per-second message limit
        # Pub/sub again, not polling (every 1.5 s): messages cross in well under a poll.
        assert statistics.median(relays(visitor, counsellor, after)) < 0.3, relays(visitor, counsellor, after)

        stored = await adb(
            lambda: list(
                Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("seq", "client_id")
            )
        )()
        sent = [client_id for pair in during + after for client_id in pair]
        assert sorted(client_id for _, client_id in stored) == sorted(sent)  # every ack stored once
        seqs = [seq for seq, _ in stored]
        assert seqs == list(range(1, len(sent) + 1))
        assert counsellor.seqs() == seqs  # once each, in order, none missing
        assert visitor.seqs() == seqs  # the resumed socket replayed from 0
    finally:
        for reader in readers:
            await reader.close()


async def redis_stopped(redis: RedisServer) -> None:
    await asyncio.to_thread(redis.stop, signal.SIGKILL)
    await asyncio.sleep(1.5)  # the processes' probes notice


async def queued_chat(console: Reader, expect_empty: bool = False, timeout: float = DEGRADED_LATENCY + 4) -> int:
    """The id of the chat waiting in the queue of the console's latest dashboard (or waits for an empty queue)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dashboards = [f for _, f in console.frames if f.get("type") == "dashboard"]
        if dashboards:
            queue = dashboards[-1]["queue"]
            if expect_empty and not queue:
                return 0
            if queue and not expect_empty:
                return int(queue[0]["id"])
        await asyncio.sleep(0.05)
    raise TimeoutError("the console's queue did not change")
