"""Chat through a Redis outage: sockets stay open and messages flow, read from the database.

The test runs its own redis-server on a free port (never the shared one),
two ASGI processes on it, stops it under three live chats and starts it again.
"""

import asyncio
import shutil
import socket
import subprocess
import time
from typing import Any

import pytest

from staff.roles import Role
from supportline.models import Message
from tests.processes import AsgiServer, database_url_for_subprocess, free_port, service_env
from tests.supportline.helpers import Socket, adb, claimed_chat, open_all_week, verified_staff_cookie

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


class OwnRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def outage_servers(django_db_setup, django_db_blocker, tmp_path_factory):
    redis = OwnRedis()
    redis.start()
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        REDIS_URL=redis.url,
        DATA_DIR=str(tmp_path_factory.mktemp("supportline-outage")),
        SUPPORTLINE_STARTS_PER_HOUR="100000",
    )
    servers = []
    try:
        for _ in range(2):
            server = AsgiServer(env=env, extra_args=("--no-access-log",))
            server.start()
            servers.append(server)
        yield servers[0], servers[1], redis
    finally:
        for server in servers:
            server.stop()
        redis.stop()


class Recorder:
    """Reads every frame of a socket in the background, so waiting for one never drops another."""

    def __init__(self, sock: Socket) -> None:
        self.socket = sock
        self.frames: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            self.frames.append(await self.socket.recv(timeout=3600))

    async def wait(self, frame_type: str, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in self.frames:
                if frame.get("type") == frame_type and all(frame.get(k) == v for k, v in match.items()):
                    return frame
            if self.task.done():
                raise AssertionError(f"socket ended: {self.task.exception()!r}")
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no {frame_type} {match}")

    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.frames if f.get("type") == "message"]

    async def close(self) -> None:
        self.task.cancel()
        await self.socket.close()


async def test_chats_go_on_through_a_redis_outage_with_nothing_lost(outage_servers):
    visitor_server, counsellor_server, redis = outage_servers
    await adb(open_all_week)()
    _, cookie = await adb(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
    chats = []
    for _ in range(3):
        visitor, _, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
        chats.append((Recorder(visitor), Recorder(staff), conversation_id))

    async def exchange(tag: str, timeout: float) -> float:
        started = time.monotonic()
        for visitor, staff, conversation_id in chats:
            await visitor.socket.send(type="message", client_id=f"v{tag}", text=f"visitor {tag}")
            await staff.socket.send(
                type="message", conversation_id=conversation_id, client_id=f"c{tag}", text=f"counsellor {tag}"
            )
        for visitor, staff, conversation_id in chats:
            # Each sender's own message frame confirms its message (docs/chat-protocol.md).
            await visitor.wait("message", timeout, client_id=f"v{tag}")
            await staff.wait("message", timeout, client_id=f"c{tag}")
            await staff.wait("message", timeout, text=f"visitor {tag}", conversation_id=conversation_id)
            await visitor.wait("message", timeout, text=f"counsellor {tag}")
        return time.monotonic() - started

    try:
        await exchange("before", 10)
        redis.stop()
        await asyncio.sleep(1.5)
        degraded = [await exchange(f"down{n}", 20) for n in range(3)]
        assert max(degraded) < 10  # a few seconds' latency while polling
        redis.start()
        await asyncio.sleep(6)
        await exchange("after", 10)

        for visitor, staff, conversation_id in chats:
            stored = await adb(
                lambda cid=conversation_id: list(
                    Message.objects.filter(conversation_id=cid).order_by("seq").values_list("seq", "client_id")
                )
            )()
            # Every acknowledged message is stored once, and each side saw every seq once, in order.
            assert sorted(cid for _, cid in stored) == sorted(
                [f"v{t}" for t in ("before", "down0", "down1", "down2", "after")]
                + [f"c{t}" for t in ("before", "down0", "down1", "down2", "after")]
            )
            expected = [seq for seq, _ in stored]
            assert visitor.seqs() == expected
            assert staff.seqs() == expected
    finally:
        for visitor, staff, _ in chats:
            await visitor.close()
            await staff.close()
