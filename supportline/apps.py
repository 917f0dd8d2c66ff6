from django.apps import AppConfig


class SupportlineConfig(AppConfig):
    """Anonymous real-time chat between a young person and a counsellor."""

    name = "supportline"
    verbose_name = "Stödlinjen"
