"""The demo staff login of `make run` (never in production)."""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model

from staff.models import StaffTOTPDevice
from staff.services import TOTP_DEVICE_NAME, totp_secret

DEMO_USERNAME = "demo"


class NotForProduction(Exception):
    """The demo login was asked for in the production profile."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    totp_secret: str
    otpauth_url: str


def demo_login_reset() -> DemoLogin:
    """Gives the demo staff account (every role) a fresh password; its TOTP device is kept across runs."""
    if settings.ENVIRONMENT == "production":
        raise NotForProduction("The demo login is for the embedded demo, not for production.")
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    # The same device across runs, so an authenticator app set up once keeps working.
    device = StaffTOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    if device is None:
        device = StaffTOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
    return DemoLogin(DEMO_USERNAME, password, totp_secret(device), device.config_url)
