"""Settings shared by every profile.

Two modes, picked by the environment alone:

* embedded (nothing set): SQLite, the in-memory channel layer, a local-memory
  cache and Celery over kombu's filesystem transport. One machine with only
  Python runs the whole site.
* services: ``DATABASE_URL`` points at PostgreSQL (psycopg 3, pooled) and
  ``REDIS_URL`` serves the channel layer, the Celery broker and results, and
  the cache; or ``REDIS_SENTINELS`` does, through Redis Sentinel.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP  # type: ignore[import-untyped,unused-ignore]  # Django 6 API, not in django-stubs yet
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from ecpat_site.settings.environment import BASE_DIR, env
from resilience.sentinel import sentinel_addresses

# "production" selects the strict profile (see ecpat_site/settings/__init__.py).
ENVIRONMENT: str = env("DJANGO_ENV")
DEBUG: bool = env("DEBUG")
SECRET_KEY: str = env("SECRET_KEY", default="insecure-local-development-key-never-use-in-production")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Runtime files of the embedded mode (SQLite, broker folders, collected static).
DATA_DIR = Path(env("DATA_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    # Django's admin, but every @admin.register lands on the two-factor staff
    # site (staff.sites.StaffAdminSite).
    "staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # /sitemap.xml (prevention.sitemaps).
    "django.contrib.sitemaps",
    "channels",
    "health_check",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Passkeys (WebAuthn) as a second factor beside TOTP (staff.passkey_views).
    "django_otp_webauthn",
    "axes",
    "reversion",
    # Our apps stand on floors: ecpat_site on top, then the features
    # (supportline, hotline, prevention), then the ground (privacy < audit <
    # retention, staff). Imports point only down (docs/architecture.md).
    "ecpat_site",
    "privacy",
    "audit",
    "retention",
    "staff",
    "supportline",
    "hotline",
    "prevention",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise, with asynchronous file bodies under ASGI (ecpat_site.static_files).
    "ecpat_site.static_files.AsyncWhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, reading only the address where the address decides the language.
    "ecpat_site.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Django's, with the message storage built only when something uses it.
    "ecpat_site.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Ends idle and over-age staff sessions; after authentication and OTP. The
    # chain is synchronous: ecpat_site.handler runs it and the view in one call
    # on the request's thread, one hop from the event loop per request.
    "staff.middleware.StaffSessionMiddleware",
]

# Threads for requests' synchronous work (ecpat_site.handler.RequestThreads): a
# request waits for a busy thread unless every busy one has been on its request
# this long (waiting on something slow); never more than REQUEST_THREADS at once.
REQUEST_THREAD_STALL_MS: int = env.int("REQUEST_THREAD_STALL_MS", default=25)
REQUEST_THREADS: int = env.int("REQUEST_THREADS", default=64)

ROOT_URLCONF = "ecpat_site.urls"
ASGI_APPLICATION = "ecpat_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "ecpat_site.context_processors.language_switch",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection reuse
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL plus immediate transactions
    # avoid "database is locked" under that light concurrency.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery ---------------------------------
REDIS_URL: str = env("REDIS_URL", default="")
# Redis Sentinel instead of REDIS_URL: "host:port" of each sentinel. Every
# client below then asks them for the current primary of the service and
# follows it through a failover (docs/scaling.md).
REDIS_SENTINELS: list[str] = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_SERVICE: str = env("REDIS_SENTINEL_SERVICE", default="mymaster")
REDIS_SENTINEL_DB: int = env.int("REDIS_SENTINEL_DB", default=0)
REDIS_PASSWORD: str = env("REDIS_PASSWORD", default="")  # of the primary and replicas
REDIS_SENTINEL_PASSWORD: str = env("REDIS_SENTINEL_PASSWORD", default="")  # of the sentinels
if REDIS_URL and REDIS_SENTINELS:
    raise ImproperlyConfigured("Set REDIS_URL or REDIS_SENTINELS, not both.")
# redis-py 8 raises "Too many connections" instead of waiting and times out
# blocking reads after 5 s; every Redis client below is configured explicitly.
REDIS_MAX_CONNECTIONS: int = env.int("REDIS_MAX_CONNECTIONS", default=500)

if REDIS_SENTINELS:
    _sentinels = sentinel_addresses(REDIS_SENTINELS)
    # Short timeouts: a dead sentinel must not hold up asking the next one.
    _sentinel_kwargs = {"socket_timeout": 1, "socket_connect_timeout": 1, "password": REDIS_SENTINEL_PASSWORD or None}
    _password = {"password": REDIS_PASSWORD} if REDIS_PASSWORD else {}
    _layer_target: dict[str, Any] = {
        "sentinels": _sentinels,
        "master_name": REDIS_SENTINEL_SERVICE,
        "sentinel_kwargs": _sentinel_kwargs,
        "db": REDIS_SENTINEL_DB,
        **_password,
    }
    _cache_location = f"redis://{REDIS_SENTINEL_SERVICE}/{REDIS_SENTINEL_DB}"
    _cache_target: dict[str, Any] = {
        "pool_class": "resilience.sentinel.SentinelMasterPool",
        "sentinels": _sentinels,
        "sentinel_kwargs": _sentinel_kwargs,
        **_password,
    }
    # kombu and Celery's result backend take the sentinels as a ";"-joined URL
    # (the first one's password is the primary's) and the rest as options.
    _auth = f":{quote(REDIS_PASSWORD, safe='')}@" if REDIS_PASSWORD else ""
    _celery_url = ";".join(f"sentinel://{_auth}{host}:{port}/{REDIS_SENTINEL_DB}" for host, port in _sentinels)
    _celery_target: dict[str, Any] = {"master_name": REDIS_SENTINEL_SERVICE, "sentinel_kwargs": _sentinel_kwargs}
else:
    _layer_target, _cache_location, _cache_target = {"address": REDIS_URL}, REDIS_URL, {}
    _celery_url, _celery_target = REDIS_URL, {}

if REDIS_URL or REDIS_SENTINELS:
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            # Measured: pub/sub relays 500 msg/s at p99 19 ms where the list-based
            # layer manages 115 msg/s. The chat's seq numbers and resume cover
            # pub/sub's at-most-once delivery. channels_redis's pub/sub layer, except
            # that a socket can open while Redis is down (resilience.channel_layer).
            "BACKEND": "resilience.channel_layer.ResilientPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        **_layer_target,
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "health_check_interval": 30,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                    }
                ],
                "prefix": env("CHANNEL_LAYER_PREFIX", default="ecpat-asgi"),
            },
        }
    }
    # Unreachable Redis is a cache miss (resilience.cache): pages render from
    # the database. Short timeouts, and a breaker skips Redis for a few seconds
    # after a failure, so no request waits long for it.
    _cache_timeout = env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=1.0)
    CACHES: dict[str, Any] = {
        "default": {
            "BACKEND": "resilience.cache.ResilientRedisCache",
            "LOCATION": _cache_location,
            "KEY_PREFIX": "ecpat-cache",
            "OPTIONS": {
                **_cache_target,
                "socket_timeout": _cache_timeout,
                "socket_connect_timeout": _cache_timeout,
                "max_connections": REDIS_MAX_CONNECTIONS,
                "CIRCUIT_BREAKER_SECONDS": env.float("REDIS_CACHE_BREAKER_SECONDS", default=5.0),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # A file cache, so that web, worker and beat processes share one view.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# {% cache %} fragments (the hotline form's unbound fields): markup that depends
# only on the code and the language, so each process keeps its own copy in
# memory and a deploy, which restarts the processes, renews it.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
    "TIMEOUT": 3600,
}

# --- Celery ---------------------------------------------------------------
if REDIS_URL or REDIS_SENTINELS:
    CELERY_BROKER_URL = _celery_url
    CELERY_RESULT_BACKEND = _celery_url
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS: dict[str, Any] = _celery_target
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        **_celery_target,
        "visibility_timeout": 3600,
        "socket_timeout": 30,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 25,
        "retry_on_timeout": True,
        "max_connections": REDIS_MAX_CONNECTIONS,
    }
    CELERY_REDIS_SOCKET_TIMEOUT = 30
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 5
    CELERY_REDIS_MAX_CONNECTIONS = REDIS_MAX_CONNECTIONS
    CELERY_REDIS_RETRY_ON_TIMEOUT = True
else:
    _broker_dir = DATA_DIR / "celery" / "broker"
    # The filesystem transport ignores the host; naming one keeps kombu from warning
    # "No hostname was supplied" in every process on every start.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(DATA_DIR / "celery" / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{DATA_DIR / 'celery' / 'results'}"

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("police_handoff"))
CELERY_TASK_ROUTES = {"hotline.tasks.deliver_police_handoff": {"queue": "police_handoff"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # Django's LOGGING (and its redaction) applies
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TIMEZONE = "Europe/Stockholm"
# CELERY_BEAT_SCHEDULE is declared at the end, after the settings it uses.

# --- Sessions, auth, security headers -------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout per username and client pseudonym (fast), with a per-username ceiling
# (slow): staff.lockout. The site never sees client addresses (privacy.asgi),
# and axes' access log (which would hold addresses and User-Agents) is off.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
STAFF_LOCKOUT_ACCOUNT_CEILING: int = env.int("STAFF_LOCKOUT_ACCOUNT_CEILING", default=50)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = "staff.lockout.lockout_parameters"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# axes.W006 asks to lock by IP address too; the site deliberately never sees one
# (it locks by a pseudonym of the client instead).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# A browser-session cookie: gone when the browser closes, so a shared or
# checked device does not show for a year that the chat or hotline was opened.
CSRF_COOKIE_AGE = None
# Form pages use same-origin instead (privacy.referrer): still nothing to other sites.
SECURE_REFERRER_POLICY = "no-referrer"
CSRF_FAILURE_VIEW = "ecpat_site.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Strict: no inline script, no inline style, nothing from another origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("Engelska"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files that browsers and phones ask for at the root (/favicon.ico,
# /apple-touch-icon.png), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "site_root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- The site's own settings ----------------------------------------------
# Where quick exit sends the visitor: a neutral site that reveals nothing.
QUICK_EXIT_URL: str = env("QUICK_EXIT_URL", default="https://www.google.com/")
# Fernet keys, newest first; older keys keep decrypting until data is rotated.
FIELD_ENCRYPTION_KEYS: list[str] = env.list(
    "FIELD_ENCRYPTION_KEYS",
    # A fixed key for local development only; production requires its own.
    default=["pKxw3Ui5Q-Dj_6FlXJ4kYh3xQzc8v7hZfJ6b0qCkq1w="],
)
# Who may name the client's address: the load balancer's addresses or
# networks ("*" for any peer, e.g. behind a unix socket). The very variable
# uvicorn's --forwarded-allow-ips reads, with uvicorn's default, so uvicorn
# (X-Forwarded-For) and privacy.asgi (CLIENT_ADDRESS_HEADER) trust the same peers.
FORWARDED_ALLOW_IPS: list[str] = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1"])
# A proxy header other than X-Forwarded-For that carries the client's address
# (e.g. CF-Connecting-IP), honoured from FORWARDED_ALLOW_IPS only; used only to
# derive the daily-rotating keyed hash for rate limits.
CLIENT_ADDRESS_HEADER: str = env("CLIENT_ADDRESS_HEADER", default="")

# --- Retention: every period in one place (shown in the admin) -------------
RETENTION_DAYS: dict[str, int] = {
    "transcripts": env.int("RETENTION_TRANSCRIPT_DAYS", default=30),
    "tip_contact_details": env.int("RETENTION_TIP_CONTACT_DAYS", default=90),
    "closed_tips": env.int("RETENTION_CLOSED_TIP_DAYS", default=365),
    "audit_records": env.int("RETENTION_AUDIT_DAYS", default=730),
    "feedback": env.int("RETENTION_FEEDBACK_DAYS", default=365),
    "partner_token_uses": env.int("RETENTION_PARTNER_TOKEN_USE_DAYS", default=365),
    "letters": env.int("RETENTION_LETTER_DAYS", default=90),
}

# --- Logging --------------------------------------------------------------
# Nothing may log a client address or User-Agent. Server access loggers are
# silenced, and every handler redacts anything shaped like an IP address.
LOG_LEVEL: str = env("LOG_LEVEL", default="INFO")
_silenced = {"handlers": [], "level": "CRITICAL", "propagate": False}
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_client": {"()": "privacy.logging.RedactClientFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_client"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # runserver's request log carries the client address.
        "django.server": _silenced,
        # SQL parameters and template contexts can carry what visitors typed
        # (search words, chat text): their DEBUG lines are never emitted.
        "django.db.backends": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.template": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # uvicorn logs "<client> - WebSocket ... [accepted]" at INFO here.
        "uvicorn.error": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "uvicorn.access": _silenced,
        "daphne": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "daphne.access": _silenced,
        "celery": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
ADMINS: list[tuple[str, str]] = []  # error e-mails would carry request data

# --- staff, audit, retention ------------------------------------------------
LOGIN_URL = "admin:login"
# Staff sessions end after this much inactivity, and in any case after the lifetime.
STAFF_SESSION_IDLE_MINUTES: int = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS: int = env.int("STAFF_SESSION_MAX_HOURS", default=12)
# Time allowed between the password and the second factor.
STAFF_LOGIN_STEP_MINUTES: int = env.int("STAFF_LOGIN_STEP_MINUTES", default=10)
STAFF_BACKUP_CODE_COUNT = 10
OTP_TOTP_ISSUER: str = env("OTP_TOTP_ISSUER", default="ECPAT Sverige")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys (django-otp-webauthn). The relying party id is the site's domain:
# a passkey works only there, and changing it orphans every registered one.
# The defaults fit a developer's http://localhost:8000; production sets all three.
OTP_WEBAUTHN_RP_ID: str = env("OTP_WEBAUTHN_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME: str = env("OTP_WEBAUTHN_RP_NAME", default="ECPAT Sverige")
OTP_WEBAUTHN_ALLOWED_ORIGINS: list[str] = env.list("OTP_WEBAUTHN_ALLOWED_ORIGINS", default=["http://localhost:8000"])
# A passkey is a second factor only: the password always comes first.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Axes stores no client address and no User-Agent, only a pseudonym (staff.lockout).
AXES_HANDLER = "staff.lockout.AnonymousClientHandler"
AXES_CLIENT_IP_CALLABLE = "staff.lockout.client_pseudonym"
AXES_CLIENT_STR_CALLABLE = "staff.lockout.client_description"
AXES_LOCKOUT_CALLABLE = "staff.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "token", "otp_token", "csrfmiddlewaretoken"]
# Locked accounts are unlocked from the user list (an action), not in axes' own admin.
AXES_ENABLE_ADMIN = False
# A retention kind whose last successful run is older than this counts as missed.
RETENTION_MISSED_AFTER_HOURS: int = env.int("RETENTION_MISSED_AFTER_HOURS", default=48)
# Keys the audit chain's HMACs, the purge anchors and the checkpoints. It must
# never be stored in the database: whoever can write the audit table should not
# also be able to re-sign it. A development default only; production.py requires its own.
AUDIT_CHAIN_KEY: str = env("AUDIT_CHAIN_KEY", default="insecure-local-audit-chain-key")
# Append-only file of signed checkpoints of the chain's head (also sent to the log),
# written by beat every AUDIT_CHECKPOINT_SECONDS; keep it on storage the database cannot reach.
AUDIT_CHECKPOINT_FILE = Path(env("AUDIT_CHECKPOINT_FILE", default=str(DATA_DIR / "audit" / "checkpoints.jsonl")))
AUDIT_CHECKPOINT_SECONDS: int = env.int("AUDIT_CHECKPOINT_SECONDS", default=300)

# --- hotline ---------------------------------------------------------------
# Keyed hashes of normalised URLs (de-duplication) and of receipt lookups.
# A development default only; production.py requires its own.
HOTLINE_HASH_KEY: str = env("HOTLINE_HASH_KEY", default="insecure-local-hotline-hash-key")
HOTLINE_DESCRIPTION_MAX_LENGTH: int = env.int("HOTLINE_DESCRIPTION_MAX_LENGTH", default=5000)
# New tips and receipt-code attempts per anonymous client and window.
HOTLINE_TIP_RATE_LIMIT: int = env.int("HOTLINE_TIP_RATE_LIMIT", default=5)
HOTLINE_TIP_RATE_WINDOW_SECONDS: int = env.int("HOTLINE_TIP_RATE_WINDOW_SECONDS", default=3600)
HOTLINE_STATUS_RATE_LIMIT: int = env.int("HOTLINE_STATUS_RATE_LIMIT", default=10)
HOTLINE_STATUS_RATE_WINDOW_SECONDS: int = env.int("HOTLINE_STATUS_RATE_WINDOW_SECONDS", default=600)
# scrypt cost for receipt codes (2**14 with r=8 takes ~50 ms and 16 MiB).
HOTLINE_RECEIPT_SCRYPT_N: int = env.int("HOTLINE_RECEIPT_SCRYPT_N", default=2**14)
# Police hand-off: "https" or "dropfolder".
POLICE_HANDOFF_BACKEND: str = env("POLICE_HANDOFF_BACKEND", default="dropfolder")
POLICE_HANDOFF_URL: str = env("POLICE_HANDOFF_URL", default="")
POLICE_HANDOFF_SECRET: str = env("POLICE_HANDOFF_SECRET", default="insecure-local-police-handoff-secret")
# Base64 Curve25519 public key of the receiver; when set, bodies are sealed to it.
POLICE_HANDOFF_PUBLIC_KEY: str = env("POLICE_HANDOFF_PUBLIC_KEY", default="")
# Sending the package readable to anyone who holds the TLS session is a decision, not a default
# (production refuses to start without a key unless this is set).
POLICE_HANDOFF_ALLOW_UNSEALED: bool = env.bool("POLICE_HANDOFF_ALLOW_UNSEALED", default=True)
# Plain http:// only for a local test receiver; production forces https.
POLICE_HANDOFF_REQUIRE_HTTPS: bool = env.bool("POLICE_HANDOFF_REQUIRE_HTTPS", default=True)
# A CA bundle to trust for the receiver (a private police CA); empty means the system store.
POLICE_HANDOFF_CA_FILE: str = env("POLICE_HANDOFF_CA_FILE", default="")
POLICE_HANDOFF_DROPFOLDER: str = env("POLICE_HANDOFF_DROPFOLDER", default=str(DATA_DIR / "police-handoff"))
POLICE_HANDOFF_TIMEOUT_SECONDS: float = env.float("POLICE_HANDOFF_TIMEOUT_SECONDS", default=20.0)
POLICE_HANDOFF_MAX_ATTEMPTS: int = env.int("POLICE_HANDOFF_MAX_ATTEMPTS", default=10)
POLICE_HANDOFF_RETRY_BASE_SECONDS: float = env.float("POLICE_HANDOFF_RETRY_BASE_SECONDS", default=30.0)
POLICE_HANDOFF_RETRY_MAX_SECONDS: float = env.float("POLICE_HANDOFF_RETRY_MAX_SECONDS", default=3600.0)
# A claimed attempt not finished within this lease counts as interrupted
# (worker killed); keep it above the timeout.
POLICE_HANDOFF_LEASE_SECONDS: float = env.float("POLICE_HANDOFF_LEASE_SECONDS", default=120.0)
POLICE_HANDOFF_SWEEP_SECONDS: float = env.float("POLICE_HANDOFF_SWEEP_SECONDS", default=60.0)
# /healthz (and the admin start page) warn when an urgent hand-off is undelivered
# this long, or the receiver failed this many attempts in a row.
POLICE_HANDOFF_ALERT_MINUTES: int = env.int("POLICE_HANDOFF_ALERT_MINUTES", default=10)
POLICE_HANDOFF_ALERT_FAILURES: int = env.int("POLICE_HANDOFF_ALERT_FAILURES", default=3)

# --- hotline: the partner feed and notice-and-takedown ----------------------
# Ed25519 keys that sign the feed, newest first: KEY_ID:BASE64_SEED[:EXPIRES].
# The first signs; the rest stay published until their date (docs/partner-feed.md).
# Unset here, a key is generated into FEED_SIGNING_KEY_FILE; production requires the setting.
FEED_SIGNING_KEYS: list[str] = env.list("FEED_SIGNING_KEYS", default=[])
FEED_SIGNING_KEY_FILE = Path(env("FEED_SIGNING_KEY_FILE", default=str(DATA_DIR / "feed" / "signing-key")))
# Entries per page of a full download, and changes per delta response.
FEED_PAGE_SIZE: int = env.int("FEED_PAGE_SIZE", default=100_000)
FEED_DELTA_LIMIT: int = env.int("FEED_DELTA_LIMIT", default=10_000)
# Requests per token and window.
FEED_RATE_LIMIT: int = env.int("FEED_RATE_LIMIT", default=120)
FEED_RATE_WINDOW_SECONDS: int = env.int("FEED_RATE_WINDOW_SECONDS", default=60)

# Takedown notices go out through Django's e-mail: any SMTP server in production
# (smtp+tls://user:password@host:587), the file backend under DATA_DIR here, so they can be read.
_email = env.email_url("EMAIL_URL", default="filemail://")
EMAIL_BACKEND: str = _email["EMAIL_BACKEND"]
# django-environ reads filemail:///a/b as the relative a/b; DATA_DIR/mail unless a path is given.
EMAIL_FILE_PATH: str = _email.get("EMAIL_FILE_PATH") or str(DATA_DIR / "mail")
EMAIL_HOST: str = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT: int = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER: str = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD: str = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS: bool = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL: bool = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 30
# Sender and reply address of notices; providers answer here.
NOTICE_FROM_EMAIL: str = env("NOTICE_FROM_EMAIL", default="hotline@ecpat.se")
# A reminder (a second notice) after this long without removal; analysts are flagged after this long.
NOTICE_REMINDER_HOURS: int = env.int("NOTICE_REMINDER_HOURS", default=24)
NOTICE_ESCALATE_HOURS: int = env.int("NOTICE_ESCALATE_HOURS", default=72)
NOTICE_SWEEP_SECONDS: int = env.int("NOTICE_SWEEP_SECONDS", default=300)

# --- prevention -------------------------------------------------------------
# How long a public article page may stay cached; every edit drops the cache sooner.
PREVENTION_CACHE_SECONDS: int = env.int("PREVENTION_CACHE_SECONDS", default=600)

# --- supportline -------------------------------------------------------------
# Parallel chats one counsellor may hold (a CounsellorProfile can override it).
SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR: int = env.int("SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR", default=3)
# Longest message, in characters.
SUPPORTLINE_MAX_MESSAGE_LENGTH: int = env.int("SUPPORTLINE_MAX_MESSAGE_LENGTH", default=4000)
# Messages per second, counted per connection and per visitor token.
SUPPORTLINE_MESSAGES_PER_SECOND: int = env.int("SUPPORTLINE_MESSAGES_PER_SECOND", default=5)
# New chats one anonymous client may start per hour.
SUPPORTLINE_STARTS_PER_HOUR: int = env.int("SUPPORTLINE_STARTS_PER_HOUR", default=10)
# From this wait (minutes) on, the queue offers something to read.
SUPPORTLINE_LONG_WAIT_MINUTES: int = env.int("SUPPORTLINE_LONG_WAIT_MINUTES", default=10)
# A queued chat whose visitor has been disconnected this long (minutes) ends.
SUPPORTLINE_ABANDON_MINUTES: int = env.int("SUPPORTLINE_ABANDON_MINUTES", default=15)
# Shortest block of a visitor token, in hours.
SUPPORTLINE_MIN_BLOCK_HOURS: int = env.int("SUPPORTLINE_MIN_BLOCK_HOURS", default=24)
# Threads (each with its own database connection) for the chat sockets' queries.
SUPPORTLINE_DB_THREADS: int = env.int("SUPPORTLINE_DB_THREADS", default=8)
# PostgreSQL only: the sockets store and read chat messages on the event loop (psycopg's async API, a pool
# per web process) instead of on the database threads. Off: every query goes through the threads.
SUPPORTLINE_ASYNC_DB: bool = env.bool("SUPPORTLINE_ASYNC_DB", default=True)
# That pool's connections per web process, and how long (seconds) a message waits for one or for PostgreSQL.
SUPPORTLINE_ASYNC_DB_CONNECTIONS: int = env.int("SUPPORTLINE_ASYNC_DB_CONNECTIONS", default=4)
SUPPORTLINE_ASYNC_DB_TIMEOUT: float = env.float("SUPPORTLINE_ASYNC_DB_TIMEOUT", default=5.0)

# --- supportline: letters (Brevlådan) ------------------------------------------
# The answer time promised on the letters page, in working days (Monday to Friday).
SUPPORTLINE_LETTER_ANSWER_WORKING_DAYS: int = env.int("SUPPORTLINE_LETTER_ANSWER_WORKING_DAYS", default=3)
# Longest letter or answer, in characters.
SUPPORTLINE_LETTER_MAX_LENGTH: int = env.int("SUPPORTLINE_LETTER_MAX_LENGTH", default=10000)
# New letters (and replies) and letter-code attempts per anonymous client and window.
SUPPORTLINE_LETTER_RATE_LIMIT: int = env.int("SUPPORTLINE_LETTER_RATE_LIMIT", default=5)
SUPPORTLINE_LETTER_RATE_WINDOW_SECONDS: int = env.int("SUPPORTLINE_LETTER_RATE_WINDOW_SECONDS", default=3600)
SUPPORTLINE_LETTER_CODE_RATE_LIMIT: int = env.int("SUPPORTLINE_LETTER_CODE_RATE_LIMIT", default=10)
SUPPORTLINE_LETTER_CODE_RATE_WINDOW_SECONDS: int = env.int("SUPPORTLINE_LETTER_CODE_RATE_WINDOW_SECONDS", default=600)
# HMAC key of letter-code lookups; a development default only, production.py requires its own.
SUPPORTLINE_LETTER_HASH_KEY: str = env("SUPPORTLINE_LETTER_HASH_KEY", default="insecure-local-letter-hash-key")
# scrypt cost for letter codes, as for hotline receipts.
SUPPORTLINE_LETTER_SCRYPT_N: int = env.int("SUPPORTLINE_LETTER_SCRYPT_N", default=2**14)
# How long an opened thread stays readable in the browser's session without the code again.
SUPPORTLINE_LETTER_UNLOCK_MINUTES: int = env.int("SUPPORTLINE_LETTER_UNLOCK_MINUTES", default=30)
# An answered letter thread the young person has not come back to in this many days is closed,
# so that its retention period (RETENTION_DAYS["letters"], after closing) starts.
SUPPORTLINE_LETTER_IDLE_CLOSE_DAYS: int = env.int("SUPPORTLINE_LETTER_IDLE_CLOSE_DAYS", default=60)

# --- Celery beat ----------------------------------------------------------
# Every interval in seconds. The retention jobs ("retention.<kind>") are not
# listed here: retention.apps.RetentionConfig adds one per policy that the
# apps declare (AppConfig.retention_policies), with its period in RETENTION_DAYS.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "hotline-sweep-police-handoffs": {
        "task": "hotline.tasks.sweep_police_handoffs",
        "schedule": POLICE_HANDOFF_SWEEP_SECONDS,
    },
    "hotline-notice-reminders": {"task": "hotline.tasks.notice_reminders", "schedule": NOTICE_SWEEP_SECONDS},
    # Catches a rebuild whose after-commit enqueue was lost; a no-op while the feed is current.
    "hotline-rebuild-feed-snapshots": {"task": "hotline.tasks.rebuild_feed_snapshots", "schedule": 60},
    "audit-write-checkpoint": {"task": "audit.tasks.write_audit_checkpoint", "schedule": AUDIT_CHECKPOINT_SECONDS},
    "prevention-publish-due-articles": {"task": "prevention.tasks.publish_due_articles", "schedule": 60},
    "supportline-sweep-abandoned": {"task": "supportline.tasks.sweep_abandoned", "schedule": 60},
    # Insights: the daily aggregates (docs/insights.md), and the on-duty roster's size every 5 minutes.
    "insights-aggregate-daily-figures": {"task": "insights.tasks.aggregate_daily_figures", "schedule": 15 * 60},
    "insights-sample-counsellors-on-duty": {"task": "insights.tasks.sample_counsellors_on_duty", "schedule": 5 * 60},
}
