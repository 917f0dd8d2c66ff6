from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The organisation's own numbers, as aggregates that survive retention (docs/insights.md)."""

    name = "insights"
    verbose_name = "Statistik"

    # A card on the admin start page linking to each statistics page the member may open.
    admin_index_panels = [
        {"template": "admin/insights/index_panel.html", "context": "insights.views.index_panel_context"},
    ]
