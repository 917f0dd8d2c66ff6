from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Anonymity by construction: scope scrubbing, log redaction, keyed rate
    limits, field encryption and quick exit, shared by every public app."""

    name = "privacy"
    verbose_name = "Integritet"
