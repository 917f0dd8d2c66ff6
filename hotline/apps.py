from django.apps import AppConfig


class HotlineConfig(AppConfig):
    """Anonymous tips about the sexual exploitation of children, and their path to the police."""

    name = "hotline"
    verbose_name = "Hotline"
    # Only analysts see tips. Counsellors, editors and administrators see none;
    # no role may delete a tip (retention alone purges closed tips).
    role_permissions = {
        "analyst": {
            "hotline.view_tip",
            "hotline.change_tip",
            "hotline.view_policehandoff",
            "hotline.retry_policehandoff",
        },
    }
