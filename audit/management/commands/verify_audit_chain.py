from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import verify_chain
from audit.services import checkpoint_write


class Command(BaseCommand):
    help = (
        "Verifies the audit chain: the keyed link of every event, the retention anchor's signature, "
        "and that nothing the last checkpoint saw is missing. Exits non-zero on any problem."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--new-checkpoint",
            action="store_true",
            help=(
                "After the report, write a checkpoint of the chain as it is now, even if its tail is missing "
                "(only once the loss is investigated and recorded, e.g. after restoring a backup)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if options["new_checkpoint"]:
            checkpoint = checkpoint_write(after_investigation=True)
            self.stdout.write(f"New checkpoint: event {checkpoint.head_id}, {checkpoint.count} events.")
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        if not report.intact:
            raise CommandError("\n".join(report.problems))
        checked = f", tail checked against the checkpoint of {report.checkpoint.at}" if report.checkpoint else ""
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact ({report.events} events{checked})."))
