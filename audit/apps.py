from django.apps import AppConfig


class AuditConfig(AppConfig):
    """An append-only, hash-chained record of staff actions: who, what, when, never content."""

    name = "audit"
    role_permissions = {"administrator": {"audit.view_auditevent"}}
    verbose_name = "Granskningslogg"
