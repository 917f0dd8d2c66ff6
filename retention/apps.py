from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """Every retention period in one place, and a record of each enforcing run."""

    name = "retention"
    role_permissions = {"administrator": {"retention.view_retentionrun"}}
    verbose_name = "Gallring"
