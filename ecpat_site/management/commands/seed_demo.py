"""Demo content and a demo staff login for `make run` (never for production)."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from staff.models import StaffTOTPDevice
from staff.services import TOTP_DEVICE_NAME, totp_secret


class Command(BaseCommand):
    help = "Creates the demo staff account (with a fresh password each run, and a TOTP device) and demo content."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ENVIRONMENT == "production":
            raise CommandError("seed_demo is for the embedded demo, not for production.")
        password = secrets.token_urlsafe(12)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username="demo", defaults={"is_staff": True, "is_superuser": True})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        # The same device across runs, so an authenticator app set up once keeps working.
        device = StaffTOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
        if device is None:
            device = StaffTOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
        self.stdout.write(self.style.SUCCESS("Demo staff login for /admin/ (password, then a code from an app):"))
        self.stdout.write(f"  username: demo\n  password: {password}")
        self.stdout.write(f"  TOTP secret: {totp_secret(device)}")
        self.stdout.write(f"  otpauth URL: {device.config_url}")
