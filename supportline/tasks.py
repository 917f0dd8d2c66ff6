"""Beat jobs of the support line: retention and the abandoned-queue sweeper.

Each is idempotent: running one twice deletes or ends nothing twice.
"""

from celery import shared_task

from supportline import services


@shared_task(acks_late=True)
def purge_transcripts() -> int:
    """Deletes transcripts RETENTION_DAYS["transcripts"] days after their chat ended."""
    return services.run_transcript_retention().deleted


@shared_task(acks_late=True)
def purge_feedback() -> int:
    return services.run_feedback_retention().deleted


@shared_task(acks_late=True)
def sweep_abandoned() -> int:
    return services.sweep_abandoned()
