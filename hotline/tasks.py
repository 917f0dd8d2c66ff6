"""Celery tasks: thin wrappers that load by id and call one service."""

from celery import shared_task
from celery.app.task import Task

from hotline import selectors, services


# ignore_result: nobody reads it, and enqueueing a task whose result is kept
# subscribes to the result store first, which retries for 20 s when Redis is down.
@shared_task(
    bind=True, name="hotline.tasks.deliver_police_handoff", acks_late=True, max_retries=None, ignore_result=True
)
def deliver_police_handoff(self: Task[[int], str], handoff_id: int) -> str:
    """Makes the next delivery attempt for one hand-off; idempotent against its status."""
    report = services.handoff_attempt(handoff_id=handoff_id)
    if report.retry_in is not None:
        raise self.retry(countdown=report.retry_in)
    return str(report.result)


@shared_task(name="hotline.tasks.sweep_police_handoffs", ignore_result=True)
def sweep_police_handoffs() -> int:
    """Re-enqueues hand-offs whose message was lost (broker restart, killed worker)."""
    due = selectors.handoffs_due_for_sweep()
    for handoff_id in due:
        deliver_police_handoff.delay(handoff_id)
    return len(due)


@shared_task(name="hotline.tasks.rebuild_feed_snapshots", ignore_result=True)
def rebuild_feed_snapshots() -> int:
    """Builds and signs the partner feed at its current version; does nothing when it is up to date."""
    return services.feed_rebuild_snapshots()


@shared_task(
    bind=True,
    name="hotline.tasks.send_takedown_notice",
    acks_late=True,
    max_retries=8,
    ignore_result=True,
)
def send_takedown_notice(self: Task[[int], str], notice_id: int) -> str:
    """Sends one notice (or its due reminder); idempotent against the notice's state, retried on mail errors."""
    try:
        return services.notice_deliver(notice_id=notice_id)
    except OSError as exc:  # SMTP and connection errors
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries)) from exc


@shared_task(name="hotline.tasks.notice_reminders", ignore_result=True)
def notice_reminders() -> int:
    """Beat: reminders after NOTICE_REMINDER_HOURS, a flag to analysts after NOTICE_ESCALATE_HOURS."""
    sweep = services.notice_sweep()
    return len(sweep.reminders) + len(sweep.escalated)
