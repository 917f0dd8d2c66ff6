from django.apps import AppConfig
from django.conf import settings


class EcpatSiteConfig(AppConfig):
    """The project itself: settings, ASGI, Celery, health and site-wide pages."""

    name = "ecpat_site"
    verbose_name = "ECPAT Sverige"

    def ready(self) -> None:
        # The embedded mode keeps its SQLite file and broker folders here;
        # kombu's filesystem transport needs its folders to exist.
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        for option in ("data_folder_in", "data_folder_out", "control_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(option)
            if folder:
                settings.DATA_DIR.joinpath(folder).mkdir(parents=True, exist_ok=True)
        if settings.CELERY_RESULT_BACKEND.startswith("file://"):
            settings.DATA_DIR.joinpath(settings.CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(
                parents=True, exist_ok=True
            )
