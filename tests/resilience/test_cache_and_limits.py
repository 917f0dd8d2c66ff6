"""The cache, the rate limiter and the edge's client key against a private Redis that goes away."""

import asyncio
import threading
import time

import pytest
from django.core.cache import caches
from django.db import transaction

from privacy import ratelimit
from resilience.breaker import breaker_for
from resilience.cache import ResilientRedisCache
from resilience.on_commit import enqueue_after_commit, run_after_commit
from tests.processes import RedisServer

pytestmark = pytest.mark.services


@pytest.fixture
def private_redis(tmp_path):
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def outage_cache(settings, private_redis):
    """The default cache pointed at the private Redis, with short timeouts."""
    settings.CACHES = {
        "default": {
            "BACKEND": "resilience.cache.ResilientRedisCache",
            "LOCATION": private_redis.url,
            "KEY_PREFIX": "outage-test",
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "CIRCUIT_BREAKER_SECONDS": 1.0},
        }
    }
    breaker = breaker_for("Redis cache")
    breaker.succeeded()
    ratelimit.local_counters.clear()
    ratelimit._memo.clear()
    backend = caches["default"]
    assert isinstance(backend, ResilientRedisCache)
    yield backend
    breaker.succeeded()
    ratelimit._memo.clear()


def test_cache_errors_are_misses_and_the_breaker_skips_redis(outage_cache, private_redis):
    outage_cache.set("k", "v")
    assert outage_cache.get("k") == "v"
    private_redis.stop()
    started = time.monotonic()
    for _ in range(50):
        assert outage_cache.get("k", "default") == "default"
        outage_cache.set("k", "w")
        assert outage_cache.add("other", 1) is False
        assert outage_cache.get_many(["k"]) == {}
        with pytest.raises(ValueError):
            outage_cache.incr("k")
    assert time.monotonic() - started < 2, "each call waited for Redis"
    private_redis.start()
    time.sleep(1.1)  # the breaker's cool-down
    outage_cache.set("k", "back")
    assert outage_cache.get("k") == "back"


def test_requests_in_fresh_threads_share_one_redis_connection(outage_cache, private_redis):
    # Under ASGI every request runs in a new thread, which gets a new cache
    # object; before the shared pool each one opened its own connection.
    outage_cache.set("k", "v")
    probe = private_redis.client()
    connections_before = probe.info("stats")["total_connections_received"]
    answers = []

    def one_request() -> None:
        answers.append(caches["default"].get("k"))

    for _ in range(20):
        thread = threading.Thread(target=one_request)
        thread.start()
        thread.join()
    assert answers == ["v"] * 20
    assert probe.info("stats")["total_connections_received"] == connections_before


def test_redis_counter_is_atomic_and_its_window_is_not_extended(outage_cache):
    name, ttl = ratelimit._counter("test-bucket", "client-a", 60)
    client = outage_cache.redis_client()
    key = outage_cache.make_key(name)
    assert ratelimit.count(name, ttl) == 1
    client.expire(key, 30)  # as if 31 s of the window had passed
    assert ratelimit.count(name, ttl) == 2
    assert client.ttl(key) <= 30, "a hit reset the window"
    assert int(client.get(key)) == 2


async def test_async_counter_shares_the_key_and_lifetime_rule(outage_cache):
    name, ttl = ratelimit._counter("test-bucket", "client-b", 60)
    results = await asyncio.gather(*(ratelimit.acount(name, ttl) for _ in range(20)))
    assert sorted(results) == list(range(1, 21))
    assert ratelimit.count(name, ttl) == 21
    assert 0 < outage_cache.redis_client().ttl(outage_cache.make_key(name)) <= ttl


async def test_limits_fall_back_to_this_process_when_redis_is_down(outage_cache, private_redis):
    private_redis.stop()
    allowed = [ratelimit.hit("fallback", "client-c", limit=3, window_seconds=60) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    assert await ratelimit.ahit("fallback", "client-c", limit=3, window_seconds=60) is False
    assert await ratelimit.ahit("fallback", "client-d", limit=3, window_seconds=60) is True


async def test_the_edge_key_falls_back_to_a_process_key_without_the_cache(outage_cache, private_redis):
    shared = await ratelimit.anonymous_client_key("203.0.113.9")
    private_redis.stop()
    ratelimit._memo.clear()
    alone = await ratelimit.anonymous_client_key("203.0.113.9")
    assert len(alone) == 32 and alone != shared
    assert await ratelimit.anonymous_client_key("203.0.113.9") == alone
    assert await ratelimit.anonymous_client_key("203.0.113.10") != alone


@pytest.mark.django_db(transaction=True)
def test_work_after_commit_that_fails_is_logged_without_content_and_not_raised(caplog):
    ran = []

    def broken() -> None:
        raise ConnectionError("secret chat text")

    with transaction.atomic():
        run_after_commit(broken, what="broadcast chat.message")
        run_after_commit(lambda: ran.append(1), what="next")
    assert ran == [1]
    assert "broadcast chat.message failed (ConnectionError)" in caplog.text
    assert "secret chat text" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_enqueue_after_commit_survives_an_unreachable_broker(caplog, monkeypatch):
    # The real broker outage is in test_outages.py; here only the helper's contract.
    from kombu.exceptions import OperationalError

    from hotline.tasks import deliver_police_handoff

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(deliver_police_handoff, "delay", unreachable)
    with transaction.atomic():
        enqueue_after_commit(deliver_police_handoff, 123)
    assert "enqueue hotline.tasks.deliver_police_handoff failed (OperationalError)" in caplog.text
    assert "6379" not in caplog.text
