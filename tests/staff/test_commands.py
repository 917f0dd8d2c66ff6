"""create_first_admin and the demo login both come with a TOTP device."""

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.oath import totp

from staff.models import BackupCode, StaffTOTPDevice
from staff.roles import Role, has_role
from tests.staff.helpers import found

pytestmark = pytest.mark.django_db


def code_from_otpauth(url: str) -> str:
    import base64

    secret = parse_qs(urlparse(url).query)["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def test_create_first_admin_prints_a_working_otpauth_url(client, monkeypatch):
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", "a-long-and-unusual-passphrase")
    out = io.StringIO()
    call_command("create_first_admin", "--username", "chief", stdout=out)
    output = out.getvalue()
    url = found(r"otpauth URL: (otpauth://totp/\S+)", output)
    assert "issuer=ECPAT" in url

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="chief")
    assert has_role(user, Role.ADMINISTRATOR) and not user.is_superuser
    assert StaffTOTPDevice.objects.get(user=user).confirmed
    assert BackupCode.objects.filter(device__user=user).count() == 10

    client.post("/admin/login/", {"username": "chief", "password": "a-long-and-unusual-passphrase"})
    assert client.post(reverse("admin:staff_verify"), {"token": code_from_otpauth(url)}).status_code == 302
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_first_admin", "--username", "second", stdout=io.StringIO())


def test_create_first_admin_applies_the_password_validators(monkeypatch):
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match=r"för kort|too short"):
        call_command("create_first_admin", "--username", "chief", stdout=io.StringIO())


def test_seed_demo_enrols_the_demo_account_and_keeps_its_device(client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = out.getvalue()
    assert "username: demo" in first
    password = found(r"password: (\S+)", first)
    url = found(r"otpauth URL: (\S+)", first)
    assert re.search(r"TOTP secret: [A-Z2-7]+", first)

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert url in again.getvalue()
    password = found(r"password: (\S+)", again.getvalue())

    client.post("/admin/login/", {"username": "demo", "password": password})
    assert client.post(reverse("admin:staff_verify"), {"token": code_from_otpauth(url)}).status_code == 302
    assert client.get("/admin/").status_code == 200
