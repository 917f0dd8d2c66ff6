"""Aggregates every existing day into the insights tables (after install, or on purpose from a date)."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights.services import aggregate_days


class Command(BaseCommand):
    help = (
        "Aggregates every day not yet settled, from the oldest data on, into the insights tables. "
        "--since recomputes settled days too: a purged day then loses its numbers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="Recompute from this day (YYYY-MM-DD), settled days included.")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = date.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError("--since takes a date as YYYY-MM-DD") from exc
        result = aggregate_days(since=since)
        self.stdout.write(
            self.style.SUCCESS(
                f"Aggregated {result.first} to {result.last} ({result.rows} rows); "
                f"settled through {result.settled_through}."
            )
        )
