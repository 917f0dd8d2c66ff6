from django.apps import AppConfig


class PreventionConfig(AppConfig):
    """Educational articles for children, youth and parents."""

    name = "prevention"
    verbose_name = "Förebyggande"

    # Applied to the role groups by staff.roles.sync_role_permissions after migrate.
    # Editors see prevention and nothing else; no other role sees it in the admin.
    role_permissions = {
        "editor": {
            f"prevention.{action}_{model}"
            for action in ("view", "add", "change", "delete")
            for model in ("article", "topic")
        },
    }
