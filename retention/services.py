from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from retention.models import RetentionRun
from retention.registry import retention_holds, retention_policy


def retention_cutoff(kind: str, now: datetime | None = None) -> datetime:
    """The moment before which data of ``kind`` is due for deletion."""
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS[kind])


def run_retention(kind: str, purge: Callable[[datetime], int]) -> RetentionRun:
    """Runs ``purge(cutoff)`` for ``kind`` and records the run, success or failure.

    ``purge`` deletes what is older than the cutoff and returns how many items
    it deleted. The cutoff never passes a hold another app declares for ``kind``
    (``retention.registry.retention_holds``). A failure is recorded (and shown in the admin and /healthz)
    and then re-raised so Celery sees it too.
    """
    if kind not in settings.RETENTION_DAYS:
        raise KeyError(f"No retention period configured for {kind!r} in RETENTION_DAYS")
    started = timezone.now()
    try:
        cutoff = retention_cutoff(kind, started)
        for hold in retention_holds(kind):
            cutoff = min(cutoff, hold(kind))
        deleted = purge(cutoff)
    except Exception as exc:
        RetentionRun.objects.create(
            kind=kind,
            started_at=started,
            finished_at=timezone.now(),
            outcome=RetentionRun.Outcome.FAILED,
            error=type(exc).__name__,
        )
        raise
    return RetentionRun.objects.create(kind=kind, started_at=started, finished_at=timezone.now(), deleted=deleted)


def run_policy(kind: str) -> RetentionRun:
    """Runs the purge function an app registered for ``kind`` (see ``retention.registry``) and records the run."""
    return run_retention(kind, retention_policy(kind).purge_function())
