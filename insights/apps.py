from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The organisation's own numbers, as aggregates that survive retention (docs/insights.md)."""

    name = "insights"
    verbose_name = "Statistik"
