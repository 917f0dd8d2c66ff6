from django.apps import AppConfig
from django.conf import settings


class RetentionConfig(AppConfig):
    """Every retention period in one place, and a record of each enforcing run."""

    name = "retention"
    role_permissions = {"administrator": {"retention.view_retentionrun"}}
    verbose_name = "Gallring"
    # A failed or missed run is shown where administrators land (staff.index_panels).
    admin_index_panels = [
        {
            "template": "admin/retention/index_panel.html",
            "context": "retention.admin.index_panel_context",
            "permission": "retention.view_retentionrun",
        },
    ]

    def ready(self) -> None:
        from retention import checks  # noqa: F401  (registers the system check)
        from retention.registry import beat_schedule

        # The one place retention jobs are scheduled: every app's policies,
        # known only once the app registry is ready.
        settings.CELERY_BEAT_SCHEDULE.update(beat_schedule())
