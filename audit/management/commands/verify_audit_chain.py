from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import verify_chain


class Command(BaseCommand):
    help = (
        "Verifies the audit chain: the keyed link of every event, the retention anchor's signature, "
        "and that nothing the last checkpoint saw is missing. Exits non-zero on any problem."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        if not report.intact:
            raise CommandError("\n".join(report.problems))
        checked = f", tail checked against the checkpoint of {report.checkpoint.at}" if report.checkpoint else ""
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact ({report.events} events{checked})."))
