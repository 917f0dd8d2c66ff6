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
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "cache_options": settings.CACHES["default"].get("OPTIONS"),
    "broker": settings.CELERY_BROKER_URL,
    "results": settings.CELERY_RESULT_BACKEND,
    "broker_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "results_options": getattr(settings, "CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS", None),
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
    assert found["broker"] == "filesystem://localhost//"
    assert found["results"].startswith("file://")
    assert found["language"] == "sv"


def test_database_and_redis_urls_give_the_services_mode(tmp_path):
    found = probe_settings(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/ecpat", REDIS_URL="redis://127.0.0.1:6379/1"
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["pool"]["max_size"] >= 1
    assert found["layer"] == "resilience.channel_layer.ResilientPubSubChannelLayer"
    assert found["cache"] == "resilience.cache.ResilientRedisCache"
    assert found["broker"] == found["results"] == "redis://127.0.0.1:6379/1"
    # redis-py 8 defaults (5 s socket timeout, failing pool) are overridden explicitly.
    [host] = found["layer_hosts"]
    assert host["socket_timeout"] is None
    assert host["max_connections"] >= 200
    assert found["broker_options"]["max_connections"] >= 200
    assert "socket_timeout" in found["broker_options"]


def test_redis_sentinels_point_every_redis_client_at_the_sentinels(tmp_path):
    found = probe_settings(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/ecpat",
        REDIS_SENTINELS="10.0.0.1:26380,sentinel-2",
        REDIS_SENTINEL_SERVICE="ecpat",
        REDIS_SENTINEL_DB="2",
        REDIS_PASSWORD="p@ss",
    )
    sentinels = [["10.0.0.1", 26380], ["sentinel-2", 26379]]
    [host] = found["layer_hosts"]
    assert "address" not in host
    assert (host["sentinels"], host["master_name"], host["db"], host["password"]) == (sentinels, "ecpat", 2, "p@ss")
    assert host["socket_timeout"] is None  # the pub/sub connection waits for events
    assert found["cache"] == "resilience.cache.ResilientRedisCache"
    assert found["cache_location"] == "redis://ecpat/2"
    assert found["cache_options"]["pool_class"] == "resilience.sentinel.SentinelMasterPool"
    assert found["cache_options"]["sentinels"] == sentinels
    url = "sentinel://:p%40ss@10.0.0.1:26380/2;sentinel://:p%40ss@sentinel-2:26379/2"
    assert found["broker"] == found["results"] == url
    assert found["broker_options"]["master_name"] == found["results_options"]["master_name"] == "ecpat"
    assert found["broker_options"]["max_connections"] >= 200


def test_redis_url_and_sentinels_together_are_refused(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        probe_settings(tmp_path, REDIS_URL="redis://127.0.0.1:6379/1", REDIS_SENTINELS="127.0.0.1:26379")
    assert "Set REDIS_URL or REDIS_SENTINELS, not both" in refused.value.stderr


@pytest.mark.services
@pytest.mark.django_db
def test_services_mode_really_uses_postgresql_with_a_pool():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]
    assert connection.pool is not None  # type: ignore[attr-defined]
