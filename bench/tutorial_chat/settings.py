"""Minimal settings for the tutorial chat, on the site's own channel layer.

The layer is taken from the site's settings module, so the baseline always runs
on exactly the layer backend and options the site uses (its prefix comes from
``CHANNEL_LAYER_PREFIX``, which the benchmark sets apart from the site's).
"""

from ecpat_site.settings import base as site

if site.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer":
    raise RuntimeError("the tutorial baseline needs REDIS_URL: it must run on the site's Redis layer")

DEBUG = False
SECRET_KEY = site.SECRET_KEY
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
]
# AuthMiddlewareStack needs a session backend; the tutorial's sockets carry no
# cookie, so no query is ever made.
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "bench.tutorial_chat.urls"
ASGI_APPLICATION = "bench.tutorial_chat.asgi.application"
CHANNEL_LAYERS = site.CHANNEL_LAYERS
USE_TZ = True
