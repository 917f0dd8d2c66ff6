"""Per-message limits decided in memory and reconciled with Redis in batches (``ReconciledCounters``)."""

import asyncio

import pytest

from privacy import ratelimit
from resilience.cache import ResilientRedisCache

pytestmark = pytest.mark.services


def shared_total(cache: ResilientRedisCache, identity: str) -> int:
    name, _ = ratelimit._counter("msg", identity, 60)
    return int(cache.redis_client().get(cache.make_key(name)) or 0)


async def test_one_process_never_exceeds_the_limit_and_batches_its_round_trips(private_redis_cache):
    counters = ratelimit.ReconciledCounters(flush_seconds=0.05)
    allowed = [counters.hit("msg", "token-a", limit=5, window_seconds=60) for _ in range(8)]
    assert allowed == [True] * 5 + [False] * 3
    await asyncio.sleep(0.3)
    assert counters.round_trips == 1, "eight hits should reach Redis in one round trip"
    assert shared_total(private_redis_cache, "token-a") == 5
    ttl = private_redis_cache.redis_client().ttl(
        private_redis_cache.make_key(ratelimit._counter("msg", "token-a", 60)[0])
    )
    assert 0 < ttl <= 61


async def test_processes_share_the_limit_within_the_documented_bound(private_redis_cache):
    first, second = ratelimit.ReconciledCounters(flush_seconds=0.05), ratelimit.ReconciledCounters(flush_seconds=0.05)
    assert all(first.hit("msg", "token-b", limit=6, window_seconds=60) for _ in range(4))
    await asyncio.sleep(0.3)  # reconciled: Redis holds 4
    # The second process has not seen the shared total yet: it admits within the bound
    # (at most the limit itself), and once reconciled both refuse.
    admitted = sum(second.hit("msg", "token-b", limit=6, window_seconds=60) for _ in range(10))
    assert admitted == 6
    await asyncio.sleep(0.3)
    assert shared_total(private_redis_cache, "token-b") == 10 <= 2 * 6
    assert not second.hit("msg", "token-b", limit=6, window_seconds=60)
    # The first learns the total at its next reconciliation; its next hits are refused.
    first.hit("msg", "token-b", limit=6, window_seconds=60)
    await asyncio.sleep(0.3)
    assert not first.hit("msg", "token-b", limit=6, window_seconds=60)
    # Another identity is not affected.
    assert first.hit("msg", "token-c", limit=6, window_seconds=60)


async def test_without_redis_each_process_still_counts_and_nothing_waits(private_redis_cache, private_redis):
    private_redis.stop()
    counters = ratelimit.ReconciledCounters(flush_seconds=0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    allowed = []
    for _ in range(6):
        allowed.append(counters.hit("msg", "token-d", limit=4, window_seconds=60))
        await asyncio.sleep(0.05)  # reconciliations fail meanwhile
    assert allowed == [True] * 4 + [False] * 2
    assert loop.time() - started < 3


async def test_hits_made_during_a_reconciliation_are_reconciled_without_another_hit(private_redis_cache, monkeypatch):
    counters = ratelimit.ReconciledCounters(flush_seconds=0.05)
    real_add = counters._add

    async def slow_add(counts):
        await asyncio.sleep(0.2)  # a slow round trip, so the next hit lands during it
        return await real_add(counts)

    monkeypatch.setattr(counters, "_add", slow_add)
    assert counters.hit("msg", "token-e", limit=10, window_seconds=60)
    await asyncio.sleep(0.1)  # the first reconciliation is under way
    assert counters.hit("msg", "token-e", limit=10, window_seconds=60)
    await asyncio.sleep(0.8)
    assert shared_total(private_redis_cache, "token-e") == 2
