"""The cache, the rate limiter and the edge's client key against a private Redis that goes away."""

import asyncio
import threading
import time

import pytest
from django.core.cache import caches
from django.db import transaction

from privacy import ratelimit
from resilience.on_commit import enqueue_after_commit, run_after_commit

pytestmark = pytest.mark.services


def test_cache_errors_are_misses_and_the_breaker_skips_redis(private_redis_cache, private_redis):
    private_redis_cache.set("k", "v")
    assert private_redis_cache.get("k") == "v"
    private_redis.stop()
    started = time.monotonic()
    for _ in range(50):
        assert private_redis_cache.get("k", "default") == "default"
        private_redis_cache.set("k", "w")
        assert private_redis_cache.add("other", 1) is False
        assert private_redis_cache.get_many(["k"]) == {}
        with pytest.raises(ValueError):
            private_redis_cache.incr("k")
    assert time.monotonic() - started < 2, "each call waited for Redis"
    private_redis.start()
    time.sleep(1.1)  # the breaker's cool-down
    private_redis_cache.set("k", "back")
    assert private_redis_cache.get("k") == "back"


def test_requests_in_fresh_threads_share_one_redis_connection(private_redis_cache, private_redis):
    # Under ASGI every request runs in a new thread, which gets a new cache
    # object; before the shared pool each one opened its own connection.
    private_redis_cache.set("k", "v")
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


def test_redis_counter_is_atomic_and_its_window_is_not_extended(private_redis_cache):
    name, ttl = ratelimit._counter("test-bucket", "client-a", 60)
    client = private_redis_cache.redis_client()
    key = private_redis_cache.make_key(name)
    assert ratelimit.count(name, ttl) == 1
    client.expire(key, 30)  # as if 31 s of the window had passed
    assert ratelimit.count(name, ttl) == 2
    assert client.ttl(key) <= 30, "a hit reset the window"
    assert int(client.get(key)) == 2


async def test_async_counter_shares_the_key_and_lifetime_rule(private_redis_cache):
    name, ttl = ratelimit._counter("test-bucket", "client-b", 60)
    results = await asyncio.gather(*(ratelimit.acount(name, ttl) for _ in range(20)))
    assert sorted(results) == list(range(1, 21))
    assert ratelimit.count(name, ttl) == 21
    assert 0 < private_redis_cache.redis_client().ttl(private_redis_cache.make_key(name)) <= ttl


async def test_limits_fall_back_to_this_process_when_redis_is_down(private_redis_cache, private_redis):
    private_redis.stop()
    allowed = [ratelimit.hit("fallback", "client-c", limit=3, window_seconds=60) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    assert await ratelimit.ahit("fallback", "client-c", limit=3, window_seconds=60) is False
    assert await ratelimit.ahit("fallback", "client-d", limit=3, window_seconds=60) is True


async def test_the_edge_key_falls_back_to_a_process_key_without_the_cache(private_redis_cache, private_redis):
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
