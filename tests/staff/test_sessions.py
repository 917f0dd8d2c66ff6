"""Staff sessions end when idle and after their absolute lifetime, over HTTP and WebSocket."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from staff.access import scope_has_verified_role
from staff.roles import Role
from tests.staff.helpers import staff_member
from tests.staff.test_login import code_for, password_step

pytestmark = pytest.mark.django_db


def log_in(client, user):
    from tests.factories import confirmed_totp_device

    device = confirmed_totp_device(user)
    password_step(client, user)
    assert client.post(reverse("admin:staff_verify"), {"token": code_for(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_an_idle_session_ends(client, settings):
    user = staff_member(role=Role.ANALYST)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client, user)
    with time_machine.travel(start + timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES - 1), tick=False):
        assert client.get("/admin/").status_code == 200
    # Activity moved "last seen" on: idle counts from there.
    with time_machine.travel(start + timedelta(minutes=2 * settings.STAFF_SESSION_IDLE_MINUTES - 2), tick=False):
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=3 * settings.STAFF_SESSION_IDLE_MINUTES), tick=False):
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert AuditEvent.objects.filter(action="staff.session.expired", actor=user).exists()
    # Logged out for good, not just for one request.
    assert client.get("/admin/").status_code == 302


def test_an_active_session_still_ends_at_its_absolute_lifetime(client, settings):
    settings.STAFF_SESSION_MAX_HOURS = 2
    user = staff_member(role=Role.ANALYST)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client, user)
    for minutes in range(20, 120, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/admin/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=121), tick=False):
        assert client.get("/admin/").status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_websocket_checks_refuse_an_expired_session(settings):
    from asgiref.sync import sync_to_async
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    from staff import sessions
    from staff.models import StaffTOTPDevice

    def make():
        user = staff_member(role=Role.COUNSELLOR)
        device = StaffTOTPDevice.objects.create(user=user, name="t", confirmed=True)
        session = SessionStore()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        sessions.start(session)
        return user, session

    try:
        user, session = await sync_to_async(make)()
        scope = {"user": user, "session": session}
        assert await scope_has_verified_role(scope, Role.COUNSELLOR)
        with time_machine.travel(timezone.now() + timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES + 1)):
            assert not await scope_has_verified_role(scope, Role.COUNSELLOR)
    finally:
        # The ORM ran in asgiref's worker thread: give its connection back.
        await sync_to_async(lambda: connection.close())()


def test_a_passive_refresh_does_not_keep_an_idle_session_alive(client, settings):
    user = staff_member(role=Role.ANALYST)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client, user)
    idle = settings.STAFF_SESSION_IDLE_MINUTES
    for minutes in range(5, idle, 5):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            # Served while the session lives, but not counted as activity.
            assert client.get("/admin/", headers={"X-Staff-Passive": "1"}).status_code == 200
    with time_machine.travel(start + timedelta(minutes=idle + 1), tick=False):
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
