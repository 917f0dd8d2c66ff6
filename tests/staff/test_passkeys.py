"""Passkeys as a second factor: enrolled at the first login or added later, never with the password alone.

Driven over HTTP with a software passkey (``tests.staff.softkey``), as an
attacker with a stolen password would drive it.
"""

import json
import re

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from staff.access import scope_has_verified_role
from staff.models import StaffTOTPDevice
from staff.roles import Role
from staff.services import reset_second_factor
from tests.factories import confirmed_totp_device, login_verified
from tests.staff.helpers import staff_member
from tests.staff.softkey import SoftPasskey
from tests.staff.test_login import code_for, password_step

pytestmark = pytest.mark.django_db


def post_json(client, name, payload=None):
    body = json.dumps(payload) if payload is not None else ""
    return client.post(reverse(name), data=body, content_type="application/json")


def register(client, key: SoftPasskey):
    begin = post_json(client, "admin:staff_passkey_register_begin")
    assert begin.status_code == 200, begin.content
    return post_json(client, "admin:staff_passkey_register_complete", key.create(begin.json()))


def verify(client, key: SoftPasskey):
    begin = post_json(client, "admin:staff_passkey_verify_begin")
    assert begin.status_code == 200, begin.content
    return post_json(client, "admin:staff_passkey_verify_complete", key.get(begin.json()))


def enrol_passkey(client, user) -> SoftPasskey:
    """A first login that enrols a passkey; the client ends logged in and verified."""
    key = SoftPasskey()
    assert password_step(client, user)["Location"] == reverse("admin:staff_enrol")
    done = register(client, key)
    assert done.status_code == 200, done.content
    assert done.json()["redirect_url"] == reverse("admin:staff_passkey_backup_codes")
    return key


def test_first_login_enrols_a_passkey_and_shows_backup_codes_once(client):
    user = staff_member(role=Role.ANALYST)
    password_step(client, user)
    page = client.get(reverse("admin:staff_enrol")).content.decode()
    # The button and the library's script, from our own static files, config as a JSON block.
    assert 'id="passkey-register-button"' in page
    assert "/static/django_otp_webauthn/otp_webauthn_register.js" in page
    assert '<script id="otp_webauthn_config" type="application/json">' in page
    # The library's own script texts, in Swedish, from a same-origin catalog.
    assert "Nyckeln \\u00e4r tillagd!" in client.get(reverse("admin:staff_passkey_jsi18n")).content.decode()
    client.logout()

    enrol_passkey(client, user)
    assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == 1
    # The TOTP secret the enrolment page showed is gone with the enrolment.
    assert not StaffTOTPDevice.objects.filter(user=user).exists()
    assert client.get("/admin/").status_code == 200
    codes_page = client.get(reverse("admin:staff_passkey_backup_codes"))
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", codes_page.content.decode())
    assert len(codes) == 10 and "no-store" in codes_page["Cache-Control"]
    # Shown once.
    assert client.get(reverse("admin:staff_passkey_backup_codes")).status_code == 302
    assert AuditEvent.objects.filter(action="staff.second_factor.passkey_added", object_id=str(user.pk)).exists()
    assert AuditEvent.objects.filter(action="staff.login.succeeded", actor=user).exists()

    # A backup code still works for someone whose only other factor is a passkey.
    client.logout()
    password_step(client, user)
    assert client.post(reverse("admin:staff_verify"), {"token": codes[0]}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_passkey_verified_session_reaches_the_admin_and_an_unverified_one_does_not(client):
    user = staff_member(role=Role.ADMINISTRATOR)
    key = enrol_passkey(client, user)
    client.logout()

    # The password alone: sent to the second step, not to enrolment, and nothing in the admin.
    assert password_step(client, user)["Location"] == reverse("admin:staff_verify")
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/auth/user/").status_code == 302
    assert 'id="passkey-verification-button"' in client.get(reverse("admin:staff_verify")).content.decode()
    # Nor can the password alone add the attacker's own passkey.
    assert post_json(client, "admin:staff_passkey_register_begin").status_code == 403
    assert client.get(reverse("admin:staff_enrol"))["Location"] == reverse("admin:staff_verify")

    done = verify(client, key)
    assert done.status_code == 200, done.content
    assert done.json()["redirect_url"] == reverse("admin:index")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200


def test_the_password_alone_adds_no_passkey_to_an_account_with_totp(client):
    user = staff_member(role=Role.ADMINISTRATOR)
    confirmed_totp_device(user)
    password_step(client, user)
    assert post_json(client, "admin:staff_passkey_register_begin").status_code == 403
    assert post_json(client, "admin:staff_passkey_verify_begin").status_code == 403
    assert not WebAuthnCredential.objects.filter(user=user).exists()


def test_nothing_without_the_password_step(client):
    # No passwordless login: the ceremonies refuse an anonymous session.
    assert post_json(client, "admin:staff_passkey_verify_begin").status_code == 403
    assert post_json(client, "admin:staff_passkey_register_begin").status_code == 403


def test_someone_elses_passkey_and_a_replayed_answer_are_refused(client):
    victim = staff_member(role=Role.ADMINISTRATOR)
    attacker = staff_member(role=Role.EDITOR)
    enrol_passkey(client, victim)
    client.logout()
    attacker_key = enrol_passkey(client, attacker)
    client.logout()

    # The victim's password and the attacker's own passkey.
    password_step(client, victim)
    refused = verify(client, attacker_key)
    assert refused.status_code >= 400
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(action="staff.login.second_factor_failed", object_id=str(victim.pk)).exists()

    # An answer captured from an earlier ceremony: its challenge is spent.
    client.logout()
    password_step(client, attacker)
    begin = post_json(client, "admin:staff_passkey_verify_begin").json()
    answer = attacker_key.get(begin)
    assert post_json(client, "admin:staff_passkey_verify_complete", answer).status_code == 200
    client.logout()
    password_step(client, attacker)
    post_json(client, "admin:staff_passkey_verify_begin")
    assert post_json(client, "admin:staff_passkey_verify_complete", answer).status_code >= 400
    assert client.get("/admin/").status_code == 302


def test_a_totp_user_adds_a_passkey_once_verified_and_holds_both(client, django_user_model):
    superuser = staff_member(is_superuser=True)
    user = staff_member(role=Role.ADMINISTRATOR)
    login_verified(client, user)
    page = client.get(reverse("admin:staff_passkeys"))
    assert page.status_code == 200 and 'id="passkey-register-button"' in page.content.decode()
    done = register(client, SoftPasskey())
    assert done.status_code == 200, done.content
    assert done.json()["redirect_url"] == reverse("admin:staff_passkeys")
    assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == 1

    # Both factors work at the next login.
    client.logout()
    password_step(client, user)
    assert 'id="passkey-verification-button"' in client.get(reverse("admin:staff_verify")).content.decode()

    # An administrator sees which factors each account holds.
    admin_client = type(client)()
    login_verified(admin_client, superuser)
    listing = admin_client.get("/admin/auth/user/").content.decode()
    row = re.search(rf"{user.username}.*?</tr>", listing, re.S)
    assert row is not None and ">app, nyckel<" in row.group(0)

    # A reset removes the passkeys too: the next login enrols again.
    reset_second_factor(actor=superuser, user=user)
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    client.logout()
    assert password_step(client, user)["Location"] == reverse("admin:staff_enrol")


def test_the_staff_pages_refuse_to_add_a_passkey_without_verification(client):
    user = staff_member(role=Role.ADMINISTRATOR)
    device = confirmed_totp_device(user)
    assert client.get(reverse("admin:staff_passkeys")).status_code == 302
    password_step(client, user)
    assert client.get(reverse("admin:staff_passkeys")).status_code == 302
    assert client.post(reverse("admin:staff_verify"), {"token": code_for(device)}).status_code == 302
    assert client.get(reverse("admin:staff_passkeys")).status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_the_counsellor_socket_check_accepts_a_passkey_verified_session():
    from django.test import Client

    def log_in_with_a_passkey():
        user = staff_member(role=Role.COUNSELLOR)
        client = Client()
        key = enrol_passkey(client, user)
        client.logout()
        password_step(client, user)
        assert verify(client, key).status_code == 200
        # Logged in, but no second factor passed in this session.
        unverified = Client()
        unverified.force_login(user)
        return user, SessionStore(client.session.session_key), SessionStore(unverified.session.session_key)

    try:
        user, session, pending = await sync_to_async(log_in_with_a_passkey)()
        assert await scope_has_verified_role({"user": user, "session": session}, Role.COUNSELLOR)
        # A session that never passed a second factor is refused.
        assert not await scope_has_verified_role({"user": user, "session": pending}, Role.COUNSELLOR)
    finally:
        await sync_to_async(lambda: connection.close())()
