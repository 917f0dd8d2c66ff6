from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.selectors import first_broken_link


class Command(BaseCommand):
    help = "Verifies the audit chain and reports the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = first_broken_link()
        if broken is not None:
            raise CommandError(
                f"Audit chain broken at event {broken.pk} ({broken}): it was edited, "
                "or an event before it was deleted or inserted."
            )
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact ({count} events)."))
