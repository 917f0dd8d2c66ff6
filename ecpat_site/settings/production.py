"""Production profile: secrets have no defaults, so a missing one stops startup."""

from ecpat_site.settings.base import *  # noqa: F403
from ecpat_site.settings.environment import env

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

# --- audit ---
AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY")
