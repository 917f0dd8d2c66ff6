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
    # Reminds editors on the admin start page when a fact-check is over a year old.
    admin_index_panels = [
        {
            "template": "admin/prevention/review_panel.html",
            "context": "prevention.admin.review_panel_context",
            "permission": "prevention.change_article",
        },
    ]
