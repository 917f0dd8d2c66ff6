"""The environment alone picks the mode; the settings module is the same."""

import json
import subprocess
import sys

import pytest
from django.db import connection

from tests.processes import ROOT, clean_env

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "module": settings.SETTINGS_MODULE,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "pool": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "results": settings.CELERY_RESULT_BACKEND,
    "broker_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "language": settings.LANGUAGE_CODE,
}))
"""


def probe_settings(tmp_path, **env):
    # Like manage.py: nothing sets DJANGO_SETTINGS_MODULE by hand.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'ecpat_site.settings')\n" + PROBE,
        ],
        cwd=ROOT,
        env=clean_env(DATA_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_set_gives_the_embedded_mode(tmp_path):
    found = probe_settings(tmp_path)
    assert found["module"] == "ecpat_site.settings"
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["layer"] == "channels.layers.InMemoryChannelLayer"
    assert found["broker"] == "filesystem://"
    assert found["results"].startswith("file://")
    assert found["language"] == "sv"


def test_database_and_redis_urls_give_the_services_mode(tmp_path):
    found = probe_settings(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/ecpat", REDIS_URL="redis://127.0.0.1:6379/1"
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["pool"]["max_size"] >= 1
    assert found["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert found["broker"] == found["results"] == "redis://127.0.0.1:6379/1"
    # redis-py 8 defaults (5 s socket timeout, failing pool) are overridden explicitly.
    [host] = found["layer_hosts"]
    assert host["socket_timeout"] is None
    assert host["max_connections"] >= 200
    assert found["broker_options"]["max_connections"] >= 200
    assert "socket_timeout" in found["broker_options"]


@pytest.mark.services
@pytest.mark.django_db
def test_services_mode_really_uses_postgresql_with_a_pool():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]
    assert connection.pool is not None  # type: ignore[attr-defined]
