from django.apps import AppConfig


class HotlineConfig(AppConfig):
    """Anonymous tips about the sexual exploitation of children, and their path to the police."""

    name = "hotline"
    verbose_name = "Hotline"
