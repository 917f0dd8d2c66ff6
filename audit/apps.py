from django.apps import AppConfig


class AuditConfig(AppConfig):
    """An append-only, hash-chained record of staff actions: who, what, when, never content."""

    name = "audit"
    role_permissions = {"administrator": {"audit.view_auditevent"}}
    verbose_name = "Granskningslogg"
    # Run by retention.tasks (retention sits above audit and finds this here);
    # the period is RETENTION_DAYS["audit_records"].
    retention_policies = {
        "audit_records": {"purge": "audit.services.purge_events_before", "every_seconds": 24 * 60 * 60},
    }
