"""The enrolment secret lives no longer than the page that showed it (issue 10, item 1)."""

import base64
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from staff.models import StaffTOTPDevice
from staff.roles import Role
from tests.staff.helpers import found, staff_member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
ENROL = "/admin/login/enrol/"


def code_from_secret(secret: str, offset: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, drift=offset):06d}"


def shown_secret(client: Client, user) -> str:
    assert client.post("/admin/login/", {"username": user.username, "password": PASSWORD})["Location"] == ENROL
    return found(r'id="totp-secret">([A-Z2-7]+)<', client.get(ENROL).content.decode())


def test_a_secret_seen_before_the_real_enrolment_is_no_second_factor_after_it():
    """Someone with the first password looks at the enrolment page; the real person enrols later."""
    user = staff_member(role=Role.COUNSELLOR)
    intruder, owner = Client(), Client()
    stolen = shown_secret(intruder, user)

    secret = shown_secret(owner, user)
    assert owner.post(ENROL, {"token": code_from_secret(secret)}).status_code == 200
    assert owner.get("/admin/").status_code == 200
    assert StaffTOTPDevice.objects.filter(user=user).count() == 1

    # A later time step, so a reused key would not be refused as a replayed code.
    with time_machine.travel(time.time() + 60, tick=True):
        assert intruder.post("/admin/login/", {"username": user.username, "password": PASSWORD})["Location"] == reverse(
            "admin:staff_verify"
        )
        attempt = intruder.post(reverse("admin:staff_verify"), {"token": code_from_secret(stolen)})
    assert attempt.status_code == 200
    assert intruder.get("/admin/").status_code == 302


def test_each_visit_shows_a_fresh_secret_and_an_unconfirmed_one_expires(settings):
    user = staff_member(role=Role.EDITOR)
    client = Client()
    first = shown_secret(client, user)
    second = found(r'id="totp-secret">([A-Z2-7]+)<', client.get(ENROL).content.decode())
    assert first != second

    later = time.time() + timedelta(minutes=settings.STAFF_LOGIN_STEP_MINUTES + 1).total_seconds()
    with time_machine.travel(later, tick=True):
        # The login step itself has expired too; start again, as a person would.
        third = shown_secret(client, user)
        stale = client.post(ENROL, {"token": code_from_secret(second)})
        assert "Koden stämmer inte" in stale.content.decode()
        # The expired ones are gone; a wrong code keeps the page's own secret for a retry.
        assert StaffTOTPDevice.objects.filter(user=user, confirmed=False).count() == 1
        assert found(r'id="totp-secret">([A-Z2-7]+)<', stale.content.decode()) == third
        assert client.post(ENROL, {"token": code_from_secret(third)}).status_code == 200
    assert StaffTOTPDevice.objects.filter(user=user, confirmed=False).count() == 0
    assert StaffTOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
