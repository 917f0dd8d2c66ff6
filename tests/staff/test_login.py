"""Password, then enrolment or a code: nothing in the admin without the second factor."""

import re
import time

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.oath import totp

from audit.models import AuditEvent
from staff.models import BackupCode, StaffTOTPDevice
from staff.roles import Role
from tests.factories import confirmed_totp_device
from tests.staff.helpers import found, staff_member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/admin/login/"


def code_for(device: StaffTOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def password_step(client, user, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": user.username, "password": password}, **extra)


def test_first_login_enrols_a_totp_device_and_shows_backup_codes_once(client):
    user = staff_member(role=Role.ANALYST)
    response = password_step(client, user)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:staff_enrol")
    # Password alone is not a login.
    assert client.get("/admin/").status_code == 302

    page = client.get(reverse("admin:staff_enrol"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "data:" not in html
    device = StaffTOTPDevice.objects.get(user=user, confirmed=False)
    secret = found(r'id="totp-secret">([A-Z2-7]+)<', html)
    assert secret and "no-store" in page["Cache-Control"]

    wrong = client.post(reverse("admin:staff_enrol"), {"token": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "Koden stämmer inte" in wrong.content.decode()

    done = client.post(reverse("admin:staff_enrol"), {"token": code_for(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="staff.second_factor.enrolled", object_id=str(user.pk)).exists()
    assert AuditEvent.objects.filter(action="staff.login.succeeded", actor=user).exists()
    # The codes are not shown again: the enrolment page now sends to the index.
    assert client.get(reverse("admin:staff_enrol")).status_code == 302


def test_enrolled_user_logs_in_with_a_code_from_the_app(client):
    user = staff_member(role=Role.ANALYST)
    device = confirmed_totp_device(user)
    response = password_step(client, user)
    assert response["Location"] == reverse("admin:staff_verify")
    assert client.get("/admin/").status_code == 302

    bad = client.post(
        reverse("admin:staff_verify"), {"token": "12 34 56" if code_for(device) != "123456" else "654321"}
    )
    assert bad.status_code == 200
    assert 'aria-invalid="true"' in bad.content.decode()
    assert client.get("/admin/").status_code == 302

    # django-otp throttles after a failure (1 s, doubling): wait it out.
    with time_machine.travel(time.time() + 2, tick=True):
        good = client.post(reverse("admin:staff_verify"), {"token": code_for(device)})
    assert good.status_code == 302
    assert good["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_works_once(client):
    from staff.services import replace_backup_codes

    user = staff_member(role=Role.EDITOR)
    confirmed_totp_device(user)
    code = replace_backup_codes(user)[0]
    password_step(client, user)
    assert client.post(reverse("admin:staff_verify"), {"token": code}).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert code not in {backup.token for backup in BackupCode.objects.filter(device__user=user)}
    assert BackupCode.objects.filter(device__user=user).count() == 9

    client.logout()
    password_step(client, user)
    again = client.post(reverse("admin:staff_verify"), {"token": code})
    assert again.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_next_url_survives_both_steps_but_not_to_another_site(client):
    user = staff_member(role=Role.ADMINISTRATOR)
    device = confirmed_totp_device(user)
    client.post(LOGIN + "?next=/admin/auth/user/", {"username": user.username, "password": PASSWORD})
    assert client.post(reverse("admin:staff_verify"), {"token": code_for(device)})["Location"] == "/admin/auth/user/"

    client.logout()
    client.post(LOGIN, {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"})
    device.refresh_from_db()
    response = client.post(reverse("admin:staff_verify"), {"token": code_for(device, offset=1)})
    assert response["Location"] == "/admin/"


def test_the_second_step_needs_the_first(client):
    assert client.get(reverse("admin:staff_verify"))["Location"] == LOGIN
    assert client.get(reverse("admin:staff_enrol"))["Location"] == LOGIN


def test_non_staff_cannot_even_start(client):
    user = staff_member(is_staff=False)
    response = password_step(client, user)
    assert response.status_code == 200
    assert not StaffTOTPDevice.objects.filter(user=user).exists()
    assert client.get(reverse("admin:staff_enrol"))["Location"] == LOGIN


def test_a_password_change_voids_a_half_finished_login(client):
    user = staff_member(role=Role.ANALYST)
    confirmed_totp_device(user)
    password_step(client, user)
    user.set_password("another-long-password-42")
    user.save()
    assert client.get(reverse("admin:staff_verify"))["Location"] == LOGIN


def test_wrong_password_keeps_the_username_and_says_so_in_swedish(client):
    user = staff_member()
    response = password_step(client, user, password="wrong")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Fel användarnamn eller lösenord" in html
    assert f'value="{user.username}"' in html


def test_lockout_after_repeated_failures_and_no_client_trace_stored(client, settings):
    user = staff_member(role=Role.COUNSELLOR)
    confirmed_totp_device(user)
    trace = {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "Secret/1.0", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = password_step(client, user, password="wrong", **trace)
        assert response.status_code in (200, 429)
    locked = password_step(client, user, **trace)
    assert locked.status_code == 429
    assert "tillfälligt låst" in locked.content.decode()
    assert client.get(reverse("admin:staff_verify"))["Location"] == LOGIN

    attempts = list(AccessAttempt.objects.all())
    assert attempts and all(a.username == user.username for a in attempts)
    for attempt in attempts:
        assert attempt.ip_address is None
        assert attempt.user_agent == ""
        assert attempt.http_accept == ""
        stored = " ".join(str(value) for value in attempt.__dict__.values())
        assert "203.0.113.9" not in stored and "Secret/1.0" not in stored and "198.51.100.7" not in stored
        assert PASSWORD not in stored and "wrong" not in stored


def test_an_administrator_unlocks_a_locked_account(client, settings):
    from staff.services import unlock_account

    user = staff_member(role=Role.COUNSELLOR)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        password_step(client, user, password="wrong")
    assert password_step(client, user).status_code == 429
    unlock_account(actor=None, user=user)
    assert password_step(client, user)["Location"] == reverse("admin:staff_enrol")
