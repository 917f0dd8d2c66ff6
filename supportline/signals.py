"""Opening hours and special days feed pages cached elsewhere (the start page says whether the chat
is open): any change to them, from the admin, a command or a migration, moves their generation on
after commit, so those cached pages go stale at once."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from resilience import generations
from resilience.on_commit import run_after_commit
from supportline.models import OpeningHours, SpecialDay
from supportline.selectors import OPENING_GENERATION_KEY


@receiver(post_save, sender=OpeningHours)
@receiver(post_delete, sender=OpeningHours)
@receiver(post_save, sender=SpecialDay)
@receiver(post_delete, sender=SpecialDay)
def opening_hours_changed(sender: type, **kwargs: Any) -> None:
    run_after_commit(lambda: generations.bump(OPENING_GENERATION_KEY), what="opening hours generation")
