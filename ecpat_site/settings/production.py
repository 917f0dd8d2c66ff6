"""Production profile: secrets have no defaults, so a missing one stops startup."""

from django.core.exceptions import ImproperlyConfigured

from ecpat_site.settings.base import *  # noqa: F403
from ecpat_site.settings.base import (
    DATABASES,
    POLICE_HANDOFF_BACKEND,
    POLICE_HANDOFF_PUBLIC_KEY,
    POLICE_HANDOFF_URL,
    REDIS_SENTINELS,
    REDIS_URL,
)
from ecpat_site.settings.environment import env

# The embedded defaults (SQLite, the in-memory channel layer, the filesystem
# broker) lose chats between processes and tips on a redeploy: never in production.
if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs DATABASE_URL (a PostgreSQL URL); refusing to start on the embedded SQLite."
    )
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DJANGO_ENV=production needs DATABASE_URL to point at PostgreSQL.")
if not (REDIS_URL or REDIS_SENTINELS):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs REDIS_URL (or REDIS_SENTINELS); refusing to start on the in-memory "
        "channel layer and the filesystem broker."
    )

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# TLS ends at the load balancer, which must set this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# --- hotline ---
HOTLINE_HASH_KEY = env("HOTLINE_HASH_KEY")
POLICE_HANDOFF_SECRET = env("POLICE_HANDOFF_SECRET")
POLICE_HANDOFF_REQUIRE_HTTPS = True
POLICE_HANDOFF_ALLOW_UNSEALED = env.bool("POLICE_HANDOFF_ALLOW_UNSEALED", default=False)
if not POLICE_HANDOFF_PUBLIC_KEY and not POLICE_HANDOFF_ALLOW_UNSEALED:
    raise ImproperlyConfigured(
        "Set POLICE_HANDOFF_PUBLIC_KEY (the receiver's sealing key), "
        "or POLICE_HANDOFF_ALLOW_UNSEALED=true to send packages readable by the TLS endpoint on purpose."
    )
if POLICE_HANDOFF_BACKEND == "https" and not POLICE_HANDOFF_URL.startswith("https://"):
    raise ImproperlyConfigured("POLICE_HANDOFF_URL must be an https:// address in production.")

# A key generated into DATA_DIR would differ per host and vanish on redeploy:
# partners would see signatures change under them.
FEED_SIGNING_KEYS = env.list("FEED_SIGNING_KEYS")
if not FEED_SIGNING_KEYS:
    raise ImproperlyConfigured("Set FEED_SIGNING_KEYS (KEY_ID:BASE64_SEED, docs/partner-feed.md).")

# Takedown notices written to files on one host reach no provider.
if not env("EMAIL_URL", default=""):
    raise ImproperlyConfigured(
        "Set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.org:587) for takedown notices."
    )
# --- supportline ---
SUPPORTLINE_LETTER_HASH_KEY = env("SUPPORTLINE_LETTER_HASH_KEY")

# --- audit ---
AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY")
