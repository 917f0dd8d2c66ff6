"""Reads about staff members' second factors."""

from typing import Any

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential


def confirmed_totp_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def has_second_factor(user: Any) -> bool:
    # A passkey counts: otherwise its holder would be sent to enrolment, where
    # the password alone could add another factor.
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists() or has_passkey(user))


def backup_code_device(user: Any) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def has_passkey(user: Any) -> bool:
    return bool(WebAuthnCredential.objects.filter(user=user, confirmed=True).exists())


def passkeys(user: Any) -> list[WebAuthnCredential]:
    """``user``'s confirmed passkeys, oldest first."""
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "id"))
