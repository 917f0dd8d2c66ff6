import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from staff.services import FirstAdministratorExists, create_first_administrator

PASSWORD_VARIABLE = "FIRST_ADMIN_PASSWORD"  # noqa: S105 - the name of a variable, not a password


class Command(BaseCommand):
    help = (
        "Creates the first administrator with a confirmed TOTP device and prints the otpauth URL. "
        f"The password is asked for, or read from {PASSWORD_VARIABLE}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        password = os.environ.get(PASSWORD_VARIABLE) or self._ask_password()
        try:
            created = create_first_administrator(username=username, password=password)
        except FirstAdministratorExists as exc:
            raise CommandError("An administrator already exists; add staff in the admin instead.") from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Administrator {created.user.get_username()} created."))
        self.stdout.write("Add this to an authenticator app (scan it as a QR code or open it on the phone):")
        self.stdout.write(f"  otpauth URL: {created.device.config_url}")
        self.stdout.write("Backup codes, each usable once (store them safely now, they are not shown again):")
        self.stdout.write("  " + " ".join(created.backup_codes))

    def _ask_password(self) -> str:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords did not match.")
        return password
