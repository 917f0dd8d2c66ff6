from celery import shared_task

from insights import services


@shared_task(acks_late=True)
def aggregate_daily_figures() -> int:
    """Recomputes the days not yet settled and settles those that are over; returns rows written.

    Idempotent: a rerun replaces the same days with the same numbers.
    """
    return services.aggregate_days().rows


@shared_task(acks_late=True)
def sample_counsellors_on_duty() -> int | None:
    """Records how many counsellors are on duty in this sampling slot (once per slot)."""
    sample = services.duty_sample()
    return None if sample is None else sample.on_duty
