"""Round-trips a task through the broker and a worker: an operator's smoke check."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ecpat_site.tasks import ping


class Command(BaseCommand):
    help = "Sends a ping task to each queue and waits for a worker's answer."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args: Any, **options: Any) -> None:
        for queue in ("default", "police_handoff"):
            result = ping.apply_async(queue=queue)
            try:
                answer = result.get(timeout=options["timeout"])
            except Exception as exc:
                raise CommandError(f"No worker answered on queue {queue!r}: {exc}") from exc
            self.stdout.write(f"{queue}: {answer}")
