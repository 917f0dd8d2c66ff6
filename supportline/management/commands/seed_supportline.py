"""Demo data for the support line: round-the-clock hours, help links, canned responses.

For the embedded demo (`make run`) only; real hours are set in the admin.
"""

from datetime import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from supportline.models import CannedResponse, OpeningHours, OtherHelp


class Command(BaseCommand):
    help = "Creates demo opening hours, other help and canned responses if there are none."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ENVIRONMENT == "production":
            raise CommandError("seed_supportline is for the demo, not for production.")
        if not OpeningHours.objects.exists():
            OpeningHours.objects.bulk_create(
                OpeningHours(weekday=day, opens=time(0, 0), closes=time(0, 0)) for day in range(7)
            )
        if not OtherHelp.objects.exists():
            OtherHelp.objects.bulk_create(
                [
                    OtherHelp(name="BRIS", phone="116 111", url="https://www.bris.se/", position=1),
                    OtherHelp(name="Polisen", phone="114 14", url="https://polisen.se/", position=2),
                    OtherHelp(name="1177 Vårdguiden", phone="1177", url="https://www.1177.se/", position=3),
                ]
            )
        if not CannedResponse.objects.exists():
            CannedResponse.objects.bulk_create(
                [
                    CannedResponse(title="Välkommen", text="Hej och välkommen! Vad vill du prata om?", position=1),
                    CannedResponse(
                        title="Inte ditt fel",
                        text="Det som har hänt är inte ditt fel. Det är bra att du berättar.",
                        position=2,
                    ),
                ]
            )
        self.stdout.write(self.style.SUCCESS("Support line demo data is in place."))
