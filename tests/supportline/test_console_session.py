"""The counsellor's socket is staff activity: it keeps the session alive, and ends with it."""

from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from staff.roles import Role
from supportline.consumers import SESSION_EXPIRED_CLOSE_CODE
from tests.supportline.helpers import InProcessSocket, verified_staff_cookie

pytestmark = pytest.mark.django_db(transaction=True)


class Console(InProcessSocket):
    """The counsellor socket, driven in-process so that time travel reaches the consumer."""

    def __init__(self, cookie: str) -> None:
        super().__init__("/ws/counsellor/", cookie)


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
