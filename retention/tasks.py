from celery import shared_task

from retention import services
from retention.registry import RUN_POLICY_TASK


@shared_task(name=RUN_POLICY_TASK, acks_late=True)
def run_retention_policy(kind: str) -> int:
    """Runs the registered policy for ``kind`` and records the run; returns how many items it deleted.

    Idempotent: a purge deletes only what is past its period, so a second run deletes nothing more.
    """
    return services.run_policy(kind).deleted
