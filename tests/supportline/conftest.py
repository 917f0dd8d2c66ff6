import time

import pytest

from resilience import generations
from supportline import db
from supportline.selectors import OPENING_GENERATION_KEY
from tests.processes import AsgiServer, database_url_for_subprocess, service_env


@pytest.fixture(autouse=True)
def _fresh_opening_generation():
    # A test rolled back at its end never commits, so its opening hours never move the
    # generation on; without this, the next test could meet the start page cached for them.
    generations.bump(OPENING_GENERATION_KEY)


@pytest.fixture(autouse=True)
async def _chat_connections_closed():
    # Each test's event loop gets its own pool of the sockets' connections;
    # closed with it, so none outlives the test (or keeps the test database).
    yield
    await db.close_async_pools()


def _server(env):
    server = AsgiServer(env=env, extra_args=("--no-access-log",))
    server.start()
    return server


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two separate ASGI processes (own channel-layer instances) on one Redis and the test DB."""
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(tmp_path_factory.mktemp("supportline-live")),
        SUPPORTLINE_STARTS_PER_HOUR="100000",
    )
    visitor_side = _server(env)
    try:
        counsellor_side = _server(env)
    except Exception:
        visitor_side.stop()
        raise
    yield visitor_side, counsellor_side
    visitor_side.stop()
    counsellor_side.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """Lets the live servers finish a test's disconnects (and coalesced updates) before the database is flushed."""
    if "two_servers" in getattr(item, "fixturenames", ()):
        time.sleep(1.0)
