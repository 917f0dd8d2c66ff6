"""Test profile: the base profile with fast hashing and an isolated data folder.

``DATABASE_URL`` and ``REDIS_URL`` still choose the mode, so CI runs the same
suite against PostgreSQL and Redis (``.ci/run``).
"""

from ecpat_site.settings.base import *  # noqa: F403
from ecpat_site.settings.base import DATA_DIR, DATABASES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a live ASGI server in a subprocess sees test data.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The audit tables refuse TRUNCATE (audit migration 0005); pytest-django's
    # flush between transactional tests needs it, and only this profile sets it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c ecpat.audit_truncate=on"

# Serve static files from the source folders without a collectstatic step.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
