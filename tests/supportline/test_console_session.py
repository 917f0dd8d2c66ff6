"""The counsellor's socket is staff activity: it keeps the session alive, and ends with it."""

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from ecpat_site.asgi import application
from staff.roles import Role
from supportline.consumers import SESSION_EXPIRED_CLOSE_CODE
from tests.supportline.helpers import verified_staff_cookie

pytestmark = pytest.mark.django_db(transaction=True)


class Console:
    """The counsellor socket, driven in-process so that time travel reaches the consumer.

    (channels.testing would import daphne, which the project does not use.)
    """

    def __init__(self, cookie: str) -> None:
        scope = {
            "type": "websocket",
            "path": "/ws/counsellor/",
            "raw_path": b"/ws/counsellor/",
            "query_string": b"",
            "headers": [(b"cookie", cookie.encode()), (b"origin", b"http://localhost"), (b"host", b"localhost")],
            "subprotocols": [],
            "client": ("127.0.0.1", 50000),
            "server": ("localhost", 80),
        }
        self.communicator = ApplicationCommunicator(application, scope)

    async def connect(self) -> bool:
        await self.communicator.send_input({"type": "websocket.connect"})
        return bool((await self.communicator.receive_output(10))["type"] == "websocket.accept")

    async def send(self, **frame: Any) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "text": json.dumps(frame)})

    async def output(self) -> dict[str, Any]:
        return dict(await self.communicator.receive_output(10))

    async def frame(self) -> dict[str, Any]:
        return dict(json.loads((await self.output())["text"]))

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(5)


async def test_console_work_keeps_the_session_alive_and_an_expired_session_closes_it(settings):
    idle = timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES)
    try:
        _, cookie = await database_sync_to_async(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
        with time_machine.travel(timezone.now()) as clock:
            console = Console(cookie)
            assert await console.connect()
            assert (await console.frame())["type"] == "dashboard"
            # Typing in the console is activity...
            await console.send(type="typing", conversation_id=999999, active=True)
            assert (await console.frame())["type"] == "error"
            clock.shift(idle - timedelta(minutes=5))
            await console.send(type="typing", conversation_id=999999, active=False)
            assert (await console.frame())["type"] == "error"
            # ...so the session lives on past the idle limit counted from login.
            clock.shift(timedelta(minutes=10))
            await console.send(type="ping")
            assert await console.frame() == {"type": "pong"}
            # Heartbeat pings are not activity: idle long enough, the console is closed.
            clock.shift(idle)
            await console.send(type="ping")
            assert await console.output() == {"type": "websocket.close", "code": SESSION_EXPIRED_CLOSE_CODE}
            await console.disconnect()
            # A new handshake with the expired session is refused too.
            assert not await Console(cookie).connect()
    finally:
        await database_sync_to_async(lambda: connection.close())()
