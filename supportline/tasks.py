"""Beat jobs of the support line: the abandoned-queue sweeper (retention runs through retention.tasks).

Idempotent: running it twice ends nothing twice.
"""

from celery import shared_task

from supportline import services


@shared_task(acks_late=True)
def sweep_abandoned() -> int:
    return services.sweep_abandoned()
