"""Writes for staff login: enrolling a second factor, backup codes, first administrator.

Secrets (TOTP keys, backup codes) are created here and handed back once; the
callers show them to the staff member and never log them.
"""

import base64
from dataclasses import dataclass
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from audit.services import record_event
from staff.roles import Role

TOTP_DEVICE_NAME = "Autentiseringsapp"
BACKUP_DEVICE_NAME = "Reservkoder"


class EnrolmentError(Exception):
    """The code did not match the device being enrolled."""


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    backup_codes: list[str]


def totp_secret(device: TOTPDevice) -> str:
    """The device key as base32, the form authenticator apps accept when typed in."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def pending_totp_device(user: Any) -> TOTPDevice:
    """The unconfirmed device shown on the enrolment page; the same one until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def replace_backup_codes(user: Any) -> list[str]:
    """Creates a fresh set of single-use backup codes; any old set stops working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.STAFF_BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def confirm_enrolment(*, user: Any, device_id: int, token: str) -> Enrolment:
    """Confirms ``user``'s pending TOTP device with a code from the app, and issues backup codes."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
        if device is None or not device.verify_token(token):
            raise EnrolmentError
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Any other half-finished enrolment is abandoned.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = replace_backup_codes(user)
        record_event(actor=user, action="staff.second_factor.enrolled", object_type="auth.User", object_id=user.pk)
    return Enrolment(device=device, backup_codes=codes)


def verify_second_factor(*, user: Any, token: str) -> Device | None:
    """The device that accepts ``token``: the app for a six-digit code, otherwise a backup code.

    Each device throttles failed attempts itself (django-otp), so guessing
    codes slows down quickly.
    """
    token = "".join(token.split()).lower()
    model: type[Device] = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
        if device is None:
            return None
        if device.verify_token(token):
            return device
    record_event(actor=user, action="staff.login.second_factor_failed", object_type="auth.User", object_id=user.pk)
    return None


def reset_second_factor(*, actor: Any, user: Any) -> None:
    """Removes every device of ``user``: at the next login they enrol again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        WebAuthnCredential.objects.filter(user=user).delete()
        record_event(actor=actor, action="staff.second_factor.reset", object_type="auth.User", object_id=user.pk)


def unlock_account(*, actor: Any, user: Any) -> None:
    """Clears the failed-login count that locked ``user`` out (django-axes)."""
    axes_reset(username=user.get_username())
    record_event(actor=actor, action="staff.account.unlocked", object_type="auth.User", object_id=user.pk)


def deactivate_account(*, actor: Any, user: Any) -> None:
    """Stops ``user`` from logging in; their open sessions stop working at the next request."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        record_event(actor=actor, action="staff.account.deactivated", object_type="auth.User", object_id=user.pk)


@dataclass(frozen=True)
class FirstAdministrator:
    user: Any
    device: TOTPDevice
    backup_codes: list[str]


class FirstAdministratorExists(Exception):
    pass


def create_first_administrator(*, username: str, password: str) -> FirstAdministrator:
    """Creates the first administrator with a confirmed TOTP device and backup codes.

    Refuses when an active administrator already exists: later staff are
    created in the admin and enrol at their first login.
    """
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(is_active=True, is_staff=True, groups__name=Role.ADMINISTRATOR.value).exists():
            raise FirstAdministratorExists
        user = user_model(username=username, is_staff=True)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=Role.ADMINISTRATOR.value))
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
        codes = replace_backup_codes(user)
        record_event(actor=None, action="staff.first_administrator.created", object_type="auth.User", object_id=user.pk)
    return FirstAdministrator(user=user, device=device, backup_codes=codes)
