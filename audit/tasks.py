from celery import shared_task

from audit.services import purge_events_before
from retention.services import run_retention


@shared_task(name="audit.tasks.purge_audit_records")
def purge_audit_records() -> int:
    """Deletes audit events past RETENTION_DAYS["audit_records"]; idempotent, records the run."""
    return run_retention("audit_records", purge_events_before).deleted
