from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    """Staff roles, two-factor login and access checks for the admin."""

    name = "staff"
    verbose_name = "Personal"

    def ready(self) -> None:
        from staff.roles import sync_role_permissions

        # Runs after every migrate, once all apps' permissions exist.
        post_migrate.connect(sync_role_permissions, dispatch_uid="staff.sync_role_permissions")
