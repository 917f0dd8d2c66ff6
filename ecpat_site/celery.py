"""The Celery application: `celery -A ecpat_site worker` serves both queues."""

import os

from celery import Celery

# Same default as manage.py and asgi.py: the settings package picks the mode.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecpat_site.settings")

app = Celery("ecpat_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
