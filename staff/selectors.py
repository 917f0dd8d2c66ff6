"""Reads about staff accounts: their second factors and the state the user admin may change."""

from dataclasses import dataclass

from django_otp_webauthn.models import WebAuthnCredential

from staff.models import BackupCodeDevice, StaffTOTPDevice
from staff.types import StaffUser


def confirmed_totp_device(user: StaffUser) -> StaffTOTPDevice | None:
    device: StaffTOTPDevice | None = StaffTOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    return device


def has_second_factor(user: StaffUser) -> bool:
    # A passkey counts: otherwise its holder would be sent to enrolment, where
    # the password alone could add another factor.
    return bool(StaffTOTPDevice.objects.filter(user=user, confirmed=True).exists() or has_passkey(user))


def backup_code_device(user: StaffUser) -> BackupCodeDevice | None:
    device: BackupCodeDevice | None = BackupCodeDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    return device


@dataclass(frozen=True)
class AccountState:
    """What the user admin can change about an account that decides its power."""

    groups: frozenset[str]
    is_active: bool
    is_staff: bool
    is_superuser: bool


def account_state(user: StaffUser) -> AccountState:
    """The account as stored now (not as an unsaved form may have changed it)."""
    return AccountState(
        groups=frozenset(user.groups.values_list("name", flat=True)) if user.pk else frozenset(),
        is_active=bool(user.is_active),
        is_staff=bool(user.is_staff),
        is_superuser=bool(user.is_superuser),
    )


def second_factor_kinds(user: StaffUser) -> tuple[str, ...]:
    """The kinds of confirmed second factor ``user`` holds, by name, never their secrets."""
    kinds = []
    if StaffTOTPDevice.objects.filter(user=user, confirmed=True).exists():
        kinds.append("totp")
    if has_passkey(user):
        kinds.append("passkey")
    if BackupCodeDevice.objects.filter(user=user, confirmed=True).exists():
        kinds.append("backup_codes")
    return tuple(kinds)


def has_passkey(user: StaffUser) -> bool:
    return bool(WebAuthnCredential.objects.filter(user=user, confirmed=True).exists())


def passkeys(user: StaffUser) -> list[WebAuthnCredential]:
    """``user``'s confirmed passkeys, oldest first."""
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "id"))
