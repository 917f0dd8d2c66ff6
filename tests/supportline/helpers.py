"""Shared helpers for support-line tests: opening hours, sockets, verified staff, live web processes."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any

import websockets
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.test import Client
from websockets.typing import Origin

from staff.roles import Role
from supportline.models import CounsellorProfile, OpeningHours
from tests.factories import StaffUserFactory, login_verified
from tests.processes import AsgiServer, database_url_for_subprocess, service_env


def open_all_week():
    for weekday in range(7):
        OpeningHours.objects.create(weekday=weekday, opens=time(0, 0), closes=time(0, 0))


def verified_staff_cookie(role=Role.COUNSELLOR, alias="Maja"):
    """A staff member with an OTP-verified session in the database, and its cookie header."""
    user: Any = StaffUserFactory(role=role)
    CounsellorProfile.objects.create(user=user, alias=alias)
    client = Client()
    login_verified(client, user)
    return user, f"sessionid={client.cookies['sessionid'].value}"


def chat_site_env(data_dir: Path, chats_per_counsellor: int, **overrides: str) -> dict[str, str]:
    """The site's environment on the test database, with room for every chat a drill starts."""
    return service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(data_dir),
        SUPPORTLINE_STARTS_PER_HOUR="100000",
        SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR=str(chats_per_counsellor),
        **overrides,
    )


@contextlib.contextmanager
def web_processes(env: dict[str, str], log_dir: Path, count: int = 2) -> Iterator[list[AsgiServer]]:
    """``count`` ASGI servers on ``env``, booted side by side and stopped on leaving."""
    servers = [
        AsgiServer(env=env, extra_args=("--no-access-log",), log_path=log_dir / f"web-{n}.log") for n in range(count)
    ]
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_until_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def origin_of(server):
    return Origin(server.url.replace("127.0.0.1", "localhost"))


class Socket:
    """A JSON WebSocket client with small waiting helpers."""

    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def open(cls, server, path, cookie=None, origin=None):
        headers = {"Cookie": cookie} if cookie else None
        ws = await websockets.connect(
            f"{server.ws_url}{path}", origin=origin or origin_of(server), additional_headers=headers, open_timeout=20
        )
        return cls(ws)

    async def send(self, **frame):
        await self.ws.send(json.dumps(frame))

    async def send_raw(self, text):
        await self.ws.send(text)

    async def recv(self, timeout=10.0):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_type(self, frame_type, /, timeout=10.0, **match):
        """The next frame of ``frame_type`` (matching ``match``); other frames are skipped."""
        return await self._recv_until(
            lambda frame: frame.get("type") == frame_type and all(frame.get(k) == v for k, v in match.items()),
            timeout,
            f"no {frame_type} frame matching {match}",
        )

    async def confirmed(self, client_id, /, timeout=10.0):
        """The frame that confirms the message ``client_id`` was stored: its own ``message`` frame, or an ``ack``.

        The sender gets its message back as the confirmation; a separate ack
        only for a message its socket has already shown (a resend). Other frames
        are skipped.
        """
        return await self._recv_until(
            lambda frame: frame.get("type") in ("ack", "message") and frame.get("client_id") == client_id,
            timeout,
            f"no confirmation of {client_id}",
        )

    async def _recv_until(self, wanted, timeout, missing):
        """The next frame for which ``wanted(frame)`` holds, within ``timeout``; other frames are skipped."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(missing)
            frame = await self.recv(remaining)
            if wanted(frame):
                return frame

    async def collect(self, kind, quiet=1.0):
        """Every ``kind`` frame until nothing arrives for ``quiet`` seconds."""
        frames: list[dict[str, Any]] = []
        while True:
            try:
                frame = await self.recv(quiet)
            except TimeoutError:
                return frames
            if frame.get("type") == kind:
                frames.append(frame)

    async def alive(self):
        """Proves the connection still answers after an error."""
        await self.send(type="ping")
        await self.recv_type("pong", timeout=5)

    async def close(self):
        await self.ws.close()


def new_client_id():
    return uuid.uuid4().hex


async def start_chat(server, **choices):
    visitor = await Socket.open(server, "/ws/chat/")
    await visitor.send(type="start", **choices)
    session = await visitor.recv_type("session")
    return visitor, session["token"]


async def claimed_chat(visitor_server, counsellor_server, cookie):
    """A visitor on one server, claimed by a counsellor on the other."""
    visitor, token = await start_chat(visitor_server)
    counsellor = await Socket.open(counsellor_server, "/ws/counsellor/", cookie=cookie)
    dashboard = await counsellor.recv_type("dashboard")
    while not dashboard["queue"]:
        dashboard = await counsellor.recv_type("dashboard")
    conversation_id = dashboard["queue"][0]["id"]
    await counsellor.send(type="claim", conversation_id=conversation_id)
    await counsellor.recv_type("chat")
    await visitor.recv_type("state", status="active")
    return visitor, token, counsellor, conversation_id


adb = database_sync_to_async


class InProcessSocket:
    """A chat socket driven in-process against the full ASGI application (real layer and database).

    Tests use it where they must reach inside the server process: time
    travel, or wrapping the executor, the pool and the cipher. (channels.testing
    would import daphne, which the project does not use.)
    """

    def __init__(self, path: str, cookie: str = "") -> None:
        from ecpat_site.asgi import application

        headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        scope = {
            "type": "websocket",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "subprotocols": [],
            "client": ("127.0.0.1", 50000),
            "server": ("localhost", 80),
        }
        self.communicator = ApplicationCommunicator(application, scope)

    async def connect(self) -> bool:
        await self.communicator.send_input({"type": "websocket.connect"})
        return bool((await self.communicator.receive_output(10))["type"] == "websocket.accept")

    async def send(self, **frame: Any) -> None:
        await self.send_raw(json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def output(self, timeout: float = 10) -> dict[str, Any]:
        # Unlike receive_output(), a timeout here leaves the application running.
        if self.communicator.future.done():
            self.communicator.future.result()
        return dict(await asyncio.wait_for(self.communicator.output_queue.get(), timeout))

    async def frame(self, timeout: float = 10) -> dict[str, Any]:
        return dict(json.loads((await self.output(timeout))["text"]))

    async def frame_of(self, frame_type: str, /, timeout: float = 10, **match: Any) -> dict[str, Any]:
        """The next frame of ``frame_type`` (matching ``match``); other frames are skipped."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            frame = await self.frame(max(0.01, deadline - asyncio.get_running_loop().time()))
            if frame.get("type") == frame_type and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def confirmed(self, client_id: str, /, timeout: float = 10) -> dict[str, Any]:
        """The frame confirming the message ``client_id``: its own ``message`` frame, or an ``ack`` (a resend)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            frame = await self.frame(max(0.01, deadline - asyncio.get_running_loop().time()))
            if frame.get("type") in ("ack", "message") and frame.get("client_id") == client_id:
                return frame

    async def drain(self, quiet: float = 0.7) -> list[dict[str, Any]]:
        """Every frame until nothing arrives for ``quiet`` seconds."""
        frames = []
        while True:
            try:
                frames.append(await self.frame(quiet))
            except TimeoutError:
                return frames

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(5)
