"""Second-factor secrets are encrypted at rest (issue 10, item 3).

Someone with a database dump or backup must not be able to pass a staff
member's second factor: the dump, taken with the real ``pg_dump``, holds no
TOTP key (in hex or base32) and no backup code.
"""

import base64
import glob
import re
import shutil
import subprocess

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_otp.oath import totp

from staff.roles import Role
from tests.processes import database_url_for_subprocess
from tests.staff.helpers import found, staff_member

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple"


def pg_dump_binary() -> str:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump")) or [shutil.which("pg_dump") or ""]
    assert candidates[-1], "pg_dump is not installed"
    return candidates[-1]


def database_dump() -> str:
    assert connection.vendor == "postgresql", "the dump test needs PostgreSQL"
    result = subprocess.run(
        [pg_dump_binary(), "--data-only", "--no-owner", database_url_for_subprocess()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def enrol_through_the_login(user) -> tuple[str, list[str]]:
    """Password, enrolment page, code from the app: what a new staff member does. Returns secret and codes."""
    client = Client()
    client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    secret = found(r'id="totp-secret">([A-Z2-7]+)<', client.get("/admin/login/enrol/").content.decode())
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    done = client.post("/admin/login/enrol/", {"token": f"{totp(key):06d}"})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    return secret, codes


def test_a_database_dump_holds_no_totp_key_and_no_backup_code():
    secrets = []
    for role in (Role.COUNSELLOR, Role.ADMINISTRATOR):
        secret, codes = enrol_through_the_login(staff_member(role=role))
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        secrets += [secret, secret.lower(), key.hex(), key.hex().upper(), *codes]

    dump = database_dump()
    assert "COPY public.auth_user" in dump  # the dump is real and has the users in it
    leaked = [value for value in secrets if value in dump]
    assert not leaked, f"{len(leaked)} second-factor secrets in clear in the dump"


def test_the_migration_moves_clear_devices_into_encrypted_ones():
    """Rows django-otp wrote in clear before this change are moved, encrypted, and removed."""
    import importlib

    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from staff.models import BackupCodeDevice, StaffTOTPDevice
    from staff.services import verify_second_factor

    user = staff_member(role=Role.ANALYST)
    old = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    TOTPDevice.objects.create(user=get_user_model().objects.get(pk=user.pk), name="half", confirmed=False)
    static = StaticDevice.objects.create(user=user, name="codes", confirmed=True)
    StaticToken.objects.create(device=static, token="abcdefgh")
    clear_key = old.key

    migration = importlib.import_module("staff.migrations.0003_move_devices_to_encrypted")
    migration.encrypt_devices(apps, None)

    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    moved = StaffTOTPDevice.objects.get(user=user)
    assert moved.confirmed and moved.key == clear_key
    assert BackupCodeDevice.objects.get(user=user).token_set.count() == 1
    assert clear_key not in database_dump()
    assert verify_second_factor(user=user, token=f"{totp(moved.bin_key):06d}") is not None
    assert verify_second_factor(user=user, token="abcdefgh") is not None
