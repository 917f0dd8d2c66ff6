"""Demo content and a demo staff login for `make run` (never for production)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ecpat_site.demo import NotForProduction, demo_login_reset


class Command(BaseCommand):
    help = "Creates the demo staff account (with a fresh password each run, and a TOTP device) and demo content."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            login = demo_login_reset()
        except NotForProduction as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("Demo staff login for /admin/ (password, then a code from an app):"))
        self.stdout.write(f"  username: {login.username}\n  password: {login.password}")
        self.stdout.write(f"  TOTP secret: {login.totp_secret}")
        self.stdout.write(f"  otpauth URL: {login.otpauth_url}")
