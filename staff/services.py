"""Writes for staff login: enrolling a second factor, backup codes, first administrator.

Secrets (TOTP keys, backup codes) are created here and handed back once; the
callers show them to the staff member and never log them.
"""

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from audit.services import record_event
from staff.models import BackupCode, BackupCodeDevice, StaffTOTPDevice
from staff.roles import Role
from staff.selectors import AccountState, second_factor_kinds
from staff.types import StaffUser

TOTP_DEVICE_NAME = "Autentiseringsapp"
BACKUP_DEVICE_NAME = "Reservkoder"
_ACTION_MAX_LENGTH = AuditEvent._meta.get_field("action").max_length or 100


class EnrolmentError(Exception):
    """The code did not match the device being enrolled."""


@dataclass(frozen=True)
class Enrolment:
    device: StaffTOTPDevice
    backup_codes: list[str]


def totp_secret(device: StaffTOTPDevice) -> str:
    """The device key as base32, the form authenticator apps accept when typed in."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def _enrolment_cutoff() -> datetime:
    # An unconfirmed device lives no longer than the login step that showed it.
    return timezone.now() - timedelta(minutes=settings.STAFF_LOGIN_STEP_MINUTES)


def start_totp_enrolment(user: StaffUser) -> StaffTOTPDevice:
    """A new unconfirmed device with a fresh key, for one showing of the enrolment page.

    Every showing gets its own secret, so whoever saw an earlier page (with a
    stolen first password) holds a key that dies at the real enrolment.
    Expired unconfirmed devices of ``user`` are removed on the way.
    """
    StaffTOTPDevice.objects.filter(user=user, confirmed=False, created_at__lt=_enrolment_cutoff()).delete()
    device: StaffTOTPDevice = StaffTOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def pending_totp_device(*, user: StaffUser, device_id: int | None) -> StaffTOTPDevice | None:
    """The unconfirmed device ``device_id`` of ``user``, while it has not expired."""
    if device_id is None:
        return None
    device: StaffTOTPDevice | None = StaffTOTPDevice.objects.filter(
        pk=device_id, user=user, confirmed=False, created_at__gte=_enrolment_cutoff()
    ).first()
    return device


def replace_backup_codes(user: StaffUser) -> list[str]:
    """Creates a fresh set of single-use backup codes; any old set stops working."""
    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [BackupCode.random_token() for _ in range(settings.STAFF_BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(BackupCode(device=device, token=code) for code in codes)
    return codes


def confirm_enrolment(*, user: StaffUser, device_id: int, token: str) -> Enrolment:
    """Confirms ``user``'s pending TOTP device with a code from the app, and issues backup codes."""
    with transaction.atomic():
        device = (
            StaffTOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False, created_at__gte=_enrolment_cutoff())
            .first()
        )
        if device is None or not device.verify_token(token):
            raise EnrolmentError
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Every other half-finished enrolment dies with it: a secret shown on
        # another visit of the page must not become a second way in.
        StaffTOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = replace_backup_codes(user)
        record_event(actor=user, action="staff.second_factor.enrolled", object_type="auth.User", object_id=user.pk)
    return Enrolment(device=device, backup_codes=codes)


def verify_second_factor(*, user: StaffUser, token: str) -> Device | None:
    """The device that accepts ``token``: the app for a six-digit code, otherwise a backup code.

    Each device throttles failed attempts itself (django-otp), so guessing
    codes slows down quickly.
    """
    token = "".join(token.split()).lower()
    model: type[Device] = StaffTOTPDevice if token.isdigit() and len(token) == 6 else BackupCodeDevice
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
        if device is None:
            return None
        if device.verify_token(token):
            return device
    record_event(actor=user, action="staff.login.second_factor_failed", object_type="auth.User", object_id=user.pk)
    return None


class AccountChangeRefused(PermissionDenied):
    """The change would let someone raise their own power or touch a superuser's account."""


def check_may_manage(*, actor: StaffUser | None, user: StaffUser) -> None:
    """Only a superuser changes anything about a superuser's account."""
    if user.is_superuser and not getattr(actor, "is_superuser", False):
        raise AccountChangeRefused


def check_account_change(*, actor: StaffUser, user: StaffUser, before: AccountState, after: AccountState) -> None:
    """Refuses escalation through the user admin, whatever the form let through.

    Nobody edits their own groups (an administrator would give itself the
    analyst role); only a superuser changes a superuser or grants superuser.
    """
    if user.pk is not None and user.pk == actor.pk and before.groups != after.groups:
        raise AccountChangeRefused
    if (before.is_superuser or after.is_superuser) and not actor.is_superuser:
        raise AccountChangeRefused


def _names(values: Iterable[str]) -> str:
    return ",".join(sorted(values)) or "none"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def record_account_changes(*, actor: StaffUser, user: StaffUser, before: AccountState, after: AccountState) -> None:
    """One audit event per changed field, naming it and its value before and after.

    The audit chain has no room beside the action, so the change is spelled
    in it: ``staff.account.groups:counsellor->analyst,counsellor``. Groups that
    would not fit are recorded one added or removed group at a time.
    """
    actions: list[str] = []
    if before.groups != after.groups:
        action = f"staff.account.groups:{_names(before.groups)}->{_names(after.groups)}"
        if len(action) <= _ACTION_MAX_LENGTH:
            actions.append(action)
        else:
            actions += [f"staff.account.groups:+{name}" for name in sorted(after.groups - before.groups)]
            actions += [f"staff.account.groups:-{name}" for name in sorted(before.groups - after.groups)]
    for flag in ("is_active", "is_staff", "is_superuser"):
        old, new = getattr(before, flag), getattr(after, flag)
        if old != new:
            actions.append(f"staff.account.{flag}:{_flag(old)}->{_flag(new)}")
    for action in actions:
        record_event(actor=actor, action=action[:_ACTION_MAX_LENGTH], object_type="auth.User", object_id=user.pk)


def record_password_changed(*, actor: StaffUser, user: StaffUser) -> None:
    """The password changed: said, never the password or its hash."""
    record_event(actor=actor, action="staff.account.password:changed", object_type="auth.User", object_id=user.pk)


def reset_second_factor(*, actor: StaffUser, user: StaffUser) -> None:
    """Removes every device of ``user``: at the next login they enrol again."""
    check_may_manage(actor=actor, user=user)
    with transaction.atomic():
        before = second_factor_kinds(user)
        StaffTOTPDevice.objects.filter(user=user).delete()
        BackupCodeDevice.objects.filter(user=user).delete()
        WebAuthnCredential.objects.filter(user=user).delete()
        record_event(
            actor=actor,
            action=f"staff.second_factor.reset:{_names(before)}->none",
            object_type="auth.User",
            object_id=user.pk,
        )


def unlock_account(*, actor: StaffUser | None, user: StaffUser) -> None:
    """Clears the failed-login count that locked ``user`` out (django-axes)."""
    check_may_manage(actor=actor, user=user)
    axes_reset(username=user.get_username())
    record_event(actor=actor, action="staff.account.unlocked", object_type="auth.User", object_id=user.pk)


def deactivate_account(*, actor: StaffUser, user: StaffUser) -> None:
    """Stops ``user`` from logging in; their open sessions stop working at the next request."""
    check_may_manage(actor=actor, user=user)
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        record_event(actor=actor, action="staff.account.deactivated", object_type="auth.User", object_id=user.pk)


@dataclass(frozen=True)
class FirstAdministrator:
    user: StaffUser
    device: StaffTOTPDevice
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
        device = StaffTOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
        codes = replace_backup_codes(user)
        record_event(actor=None, action="staff.first_administrator.created", object_type="auth.User", object_id=user.pk)
    return FirstAdministrator(user=user, device=device, backup_codes=codes)
