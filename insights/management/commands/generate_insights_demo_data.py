"""Two years of synthetic chats, letters and tips for the insights pages and their benchmark."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from insights.demo import demo_database_allowed, generate_demo_data
from insights.services import aggregate_days


class Command(BaseCommand):
    help = (
        "Writes synthetic history (default: 200,000 chats, 50,000 tips over 730 days) and aggregates it. "
        'Only into a database whose name contains "demo" or "bench", and only under DEBUG or with --yes-i-know.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chats", type=int, default=200_000)
        parser.add_argument("--tips", type=int, default=50_000)
        parser.add_argument("--days", type=int, default=730)
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--yes-i-know", action="store_true", help="Allow it without DEBUG (still a demo database).")

    def handle(self, *args: Any, **options: Any) -> None:
        name = str(connection.settings_dict["NAME"])
        if not demo_database_allowed(name=name, debug=settings.DEBUG, confirmed=options["yes_i_know"]):
            raise CommandError(
                f'Refusing to write demo data into {name!r}: the database name must contain "demo" or "bench", '
                "and DEBUG must be on or --yes-i-know given."
            )
        if min(options["chats"], options["tips"], options["days"]) < 0 or options["days"] == 0:
            raise CommandError("--chats, --tips and --days must be positive.")
        started = time.monotonic()
        result = generate_demo_data(
            chats=options["chats"], tips=options["tips"], days=options["days"], seed=options["seed"]
        )
        written = time.monotonic()
        aggregated = aggregate_days()
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.chats} chats, {result.letters} letters, {result.tips} tips written in "
                f"{written - started:.1f} s; aggregated {aggregated.first} to {aggregated.last} "
                f"in {time.monotonic() - written:.1f} s."
            )
        )
