from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The organisation's own numbers, as aggregates that survive retention (docs/insights.md)."""

    name = "insights"
    verbose_name = "Statistik"

    # Each page behind the role that owns its data; administrators see all three.
    role_permissions = {
        "supervisor": {"insights.view_support_insights"},
        "analyst": {"insights.view_hotline_insights"},
        "editor": {"insights.view_prevention_insights"},
        "administrator": {
            "insights.view_support_insights",
            "insights.view_hotline_insights",
            "insights.view_prevention_insights",
        },
    }
    # Read by retention.registry: these purges delete rows the daily aggregates count, so
    # their cutoff never passes the first day not yet settled (insights.services).
    retention_holds = {
        "feedback": "insights.services.retention_hold",
        "letters": "insights.services.retention_hold",
        "closed_tips": "insights.services.retention_hold",
    }
    # A card on the admin start page linking to each statistics page the member may open.
    admin_index_panels = [
        {"template": "admin/insights/index_panel.html", "context": "insights.views.index_panel_context"},
    ]
