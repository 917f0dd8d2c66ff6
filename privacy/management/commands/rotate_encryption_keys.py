"""manage.py rotate_encryption_keys: move every encrypted column to the newest key."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.key_rotation import encrypted_columns, rotate_column, stale_count


class Command(BaseCommand):
    help = (
        "Re-encrypts every EncryptedTextField value with the newest FIELD_ENCRYPTION_KEYS key, in batches. "
        "Safe to stop and run again: rows already under the newest key are skipped. When it reports "
        "nothing left (or --check exits 0), the older keys can be removed from FIELD_ENCRYPTION_KEYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")
        parser.add_argument(
            "--max-batches", type=int, default=None, help="stop each column after this many batches; run again later"
        )
        parser.add_argument(
            "--check", action="store_true", help="write nothing; exit 1 while any value still needs an older key"
        )

    def handle(self, *args: Any, batch_size: int, max_batches: int | None, check: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        columns = encrypted_columns()
        keys = len(settings.FIELD_ENCRYPTION_KEYS)
        self.stdout.write(f"{len(columns)} encrypted columns, {keys} key(s) configured; the first is the newest.")
        if check:
            self._check(columns)
            return
        unreadable = 0
        for column in columns:
            progress = None
            for progress in rotate_column(column, batch_size=batch_size, max_batches=max_batches):
                self.stdout.write(
                    f"  {column.label}: batch {progress.batches}, {progress.read} read, "
                    f"{progress.rotated} re-encrypted, {progress.current} already current"
                )
            if progress is None:
                self.stdout.write(f"{column.label}: nothing stored")
                continue
            unreadable += progress.unreadable
            self.stdout.write(
                self.style.SUCCESS(
                    f"{column.label}: {progress.rotated} re-encrypted, {progress.current} already current, "
                    f"{progress.changed} rewritten meanwhile, {progress.unreadable} unreadable"
                )
            )
        if unreadable:
            raise CommandError(f"{unreadable} values cannot be decrypted with any configured key; none was changed.")
        if max_batches is None:
            self.stdout.write(self.style.SUCCESS("Done: every value is under the newest key."))
        else:
            self.stdout.write("Stopped after --max-batches; run again to continue.")

    def _check(self, columns: list[Any]) -> None:
        total = 0
        for column in columns:
            stale = stale_count(column)
            total += stale
            self.stdout.write(f"{column.label}: {stale} under an older key")
        if total:
            raise CommandError(f"{total} values still need an older key; run rotate_encryption_keys.")
        self.stdout.write(self.style.SUCCESS("Every value is under the newest key; older keys can be removed."))
