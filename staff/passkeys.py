"""Writes for passkeys (WebAuthn) as a second factor, beside TOTP.

django-otp-webauthn checks the ceremonies (challenge, origin, relying party,
signature, sign count); this module decides who may run them and records
what changed. A passkey never replaces the password: it is the second step.
"""

from typing import Any

from django.db import transaction
from django_otp_webauthn.exceptions import CredentialDisabled, OTPWebAuthnApiError
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions

from audit.services import record_event
from staff.models import StaffTOTPDevice
from staff.services import replace_backup_codes
from staff.types import StaffUser

PASSKEY_ADDED = "staff.second_factor.passkey_added"
PASSKEY_FAILED = "staff.login.second_factor_failed"


def register_passkey(
    *, helper: WebAuthnHelper, user: StaffUser, state: dict[str, Any], data: Any
) -> WebAuthnCredential:
    """Verifies a new credential for ``user`` and stores it, confirmed.

    Raises the library's API errors when the browser's answer does not match
    the challenge, origin or relying party.
    """
    # No logger: the library would log the browser's answer with the traceback.
    with transaction.atomic(), rewrite_exceptions(logger=None):
        device: WebAuthnCredential = helper.register_complete(user=user, state=state, data=data)
        # A TOTP secret shown on the enrolment page but never confirmed must
        # not outlive the enrolment, whichever factor finished it.
        StaffTOTPDevice.objects.filter(user=user, confirmed=False).delete()
        record_event(actor=user, action=PASSKEY_ADDED, object_type="auth.User", object_id=user.pk)
    return device


def verify_passkey(*, helper: WebAuthnHelper, user: StaffUser, state: dict[str, Any], data: Any) -> WebAuthnCredential:
    """The confirmed passkey of ``user`` that signed this challenge; a failure is audited and re-raised."""
    try:
        with rewrite_exceptions(logger=None):
            device: WebAuthnCredential = helper.authenticate_complete(user=user, state=state, data=data)
        if not device.confirmed:
            raise CredentialDisabled
    except OTPWebAuthnApiError:
        record_event(actor=user, action=PASSKEY_FAILED, object_type="auth.User", object_id=user.pk)
        raise
    return device


def issue_backup_codes(user: StaffUser) -> list[str]:
    """Backup codes for someone whose first second factor is a passkey."""
    with transaction.atomic():
        return replace_backup_codes(user)
