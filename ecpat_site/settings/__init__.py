"""Settings entry point: the environment alone chooses what is loaded.

``DJANGO_ENV=production`` loads the strict production profile, anything else
the base profile. Within either, ``DATABASE_URL`` and ``REDIS_URL`` choose
between the embedded default (SQLite, in-memory channel layer, filesystem
broker) and the services mode (PostgreSQL, Redis). Tests point pytest at
``ecpat_site.settings.test`` directly.
"""

from ecpat_site.settings.environment import env

if env("DJANGO_ENV") == "production":
    from ecpat_site.settings.production import *  # noqa: F403
else:
    from ecpat_site.settings.base import *  # noqa: F403
