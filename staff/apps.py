from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    """Staff roles, two-factor login and access checks for the admin."""

    default = True
    name = "staff"
    verbose_name = "Personal"

    def ready(self) -> None:
        from staff import signals
        from staff.roles import sync_role_permissions

        # Deactivation, role changes, logout and new passwords reach open sockets.
        signals.connect()

        # Runs after every migrate, once all apps' permissions exist.
        post_migrate.connect(sync_role_permissions, dispatch_uid="staff.sync_role_permissions")


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, but every ``@admin.register`` lands on the two-factor site."""

    default = False
    default_site = "staff.sites.StaffAdminSite"
