from django.apps import AppConfig


class PreventionConfig(AppConfig):
    """Educational articles for children, youth and parents."""

    name = "prevention"
    verbose_name = "Förebyggande"
