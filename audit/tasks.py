from celery import shared_task

from audit import services


@shared_task(name="audit.tasks.write_audit_checkpoint")
def write_audit_checkpoint() -> int:
    """Writes a signed checkpoint of the audit chain's head outside the database; returns the head's id.

    Safe to run twice: each run only appends another checkpoint of the same chain.
    """
    return services.checkpoint_write().head_id
