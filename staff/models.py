"""Second-factor devices whose secrets are encrypted at rest: a small django-otp plugin of our own.

django-otp's own TOTP and static devices keep the TOTP key and the backup
codes in clear, so a database dump or backup was enough to pass anyone's
second factor. These models are the same devices with the secret columns
encrypted under ``FIELD_ENCRYPTION_KEYS`` (``privacy.fields``), the key ring
of every other sensitive text. docs/staff.md says why a device model of our
own rather than a wrapper around django-otp's fields.
"""

from base64 import b32encode
from os import urandom
from typing import Any

from django.db import models
from django.utils.crypto import constant_time_compare
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from privacy.fields import EncryptedTextField


class StaffTOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """A TOTP device (an authenticator app) whose key is stored encrypted.

    Fields and behaviour are django-otp's ``TOTPDevice``: its methods are
    reused as they are, only the ``key`` column differs.
    """

    key = EncryptedTextField(default=default_key, help_text="The hex-encoded secret key, encrypted at rest.")
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "TOTP-enhet"
        verbose_name_plural = "TOTP-enheter"

    # django-otp's own TOTP logic (drift, replay refusal, throttling, otpauth URL).
    bin_key = TOTPDevice.bin_key
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A set of single-use backup codes, each stored encrypted."""

    class Meta(Device.Meta):
        verbose_name = "reservkodsuppsättning"
        verbose_name_plural = "reservkodsuppsättningar"

    get_throttle_factor = StaticDevice.get_throttle_factor

    def verify_token(self, token: Any) -> bool:
        """Consumes the matching code. Callers lock the device row, so a code works once."""
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        # Encrypted codes cannot be looked up; a set holds ten, so compare each.
        match = next(
            (code for code in self.token_set.all() if constant_time_compare(code.token, str(token))),
            None,
        )
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    """One backup code of a ``BackupCodeDevice``, encrypted at rest."""

    device = models.ForeignKey(BackupCodeDevice, related_name="token_set", on_delete=models.CASCADE)
    token = EncryptedTextField()

    class Meta:
        verbose_name = "reservkod"
        verbose_name_plural = "reservkoder"

    def __str__(self) -> str:
        return f"reservkod {self.pk}"

    @staticmethod
    def random_token() -> str:
        """Eight base32 characters, as django-otp's static tokens."""
        return b32encode(urandom(5)).decode().lower()
