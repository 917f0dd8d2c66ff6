"""Shared fixtures: real services, real processes, a real browser.

Tests marked ``services`` need PostgreSQL and Redis (``DATABASE_URL`` and
``REDIS_URL``). Without them they are skipped, unless ``REQUIRE_SERVICES=1``
(as in ``.ci/run``), which turns every skip into a failure.
"""

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.utils import translation

from tests import fast_flush
from tests.processes import (
    CHROMIUM,
    AsgiServer,
    NeutralSite,
    RedisServer,
    database_url_for_subprocess,
    service_env,
)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def services_available() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(settings.REDIS_URL)


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Every test starts in the site's language, whatever an earlier test's request activated.

    Django's LocaleMiddleware activates a request's language in the thread and
    leaves it there, so a request to /en/ would make later tests read English.
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("services") and not services_available():
        reason = "needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL"
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    if item.get_closest_marker("browser") and not Path(CHROMIUM).exists():
        reason = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if REQUIRE_SERVICES and report.skipped:
        # In CI nothing may be skipped: a skipped test proves nothing.
        report.outcome = "failed"
        report.longrepr = f"skipped under REQUIRE_SERVICES=1: {report.longrepr}"
    return report


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Closes psycopg pools before pytest-django drops the test database.

    Meanwhile the flush after each transactional test empties only the
    tables that hold rows (tests/fast_flush.py).
    """
    fast_flush.install()
    yield
    fast_flush.uninstall()
    with django_db_blocker.unblock():
        for connection in connections.all():
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()


@pytest.fixture
def tmp_data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def neutral_site() -> Iterator[NeutralSite]:
    site = NeutralSite()
    site.start()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def live_server_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live-data")


@pytest.fixture(scope="session")
def asgi_server(
    django_db_setup: None,
    django_db_blocker: object,
    neutral_site: NeutralSite,
    live_server_data_dir: Path,
) -> Iterator[AsgiServer]:
    """The real ASGI app under uvicorn, in a subprocess, on the test database.

    Tests that create data for it must use ``transactional_db`` so the data is
    committed where the server can see it.
    """
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(live_server_data_dir),
        QUICK_EXIT_URL=neutral_site.url,
    )
    server = AsgiServer(env=env)
    server.start()
    yield server
    server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running while a browser is
    # open, which async tests cannot share: browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One Chromium for the whole run (each test still gets a fresh context).

    Started by the first browser test; every test after it is a browser test
    too (see the sort above), so its event loop meets no async test.
    """
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM in
    # the test (fixtures, flushes) is still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(locale="sv-SE")  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own on a free port, so the test may stop it (never the shared one)."""
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def private_redis_cache(settings: Any, private_redis: RedisServer) -> Iterator[Any]:
    """The default cache on the test's own Redis, with short timeouts, a closed breaker and empty local limits."""
    from django.core.cache import caches

    from privacy import ratelimit
    from resilience import cache as resilient_cache
    from resilience.breaker import breaker_for
    from resilience.cache import ResilientRedisCache

    settings.CACHES = {
        "default": {
            "BACKEND": "resilience.cache.ResilientRedisCache",
            "LOCATION": private_redis.url,
            "KEY_PREFIX": "private-redis-test",
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "CIRCUIT_BREAKER_SECONDS": 1.0},
        }
    }
    breaker = breaker_for("Redis cache")
    breaker.succeeded()
    ratelimit.local_counters.clear()
    ratelimit._memo.clear()
    # The asyncio clients are kept per loop and address; a test's Redis may get the
    # port of an earlier test's stopped one, whose dead connections must not be reused.
    resilient_cache._async_clients.clear()
    backend = caches["default"]
    assert isinstance(backend, ResilientRedisCache)
    yield backend
    breaker.succeeded()
    ratelimit._memo.clear()
    resilient_cache._async_clients.clear()
