"""Rate limits without tracking: counters keyed on a daily-rotating keyed hash.

With Redis, a counter is one atomic script (INCR, and EXPIRE only when the
key is new), so concurrent hits never lose a count and a window ends on time
however often it is hit. When Redis cannot be reached, each process counts
for itself in memory: limits stay in force, per process, instead of failing
the request or letting everything through.
"""

import asyncio
import hmac
import logging
import math
import secrets
import threading
import time
import weakref

from django.core.cache import cache, caches
from django.http import HttpRequest
from django.utils import timezone

from resilience.cache import ResilientRedisCache, async_redis_client

logger = logging.getLogger(__name__)

_KEY_TTL_SECONDS = 2 * 24 * 60 * 60
_MEMO_SECONDS = 60
# While the shared key is out of reach, look for it again this soon.
_FALLBACK_MEMO_SECONDS = 5
_memo: dict[str, tuple[float, bytes]] = {}
# The identity of every visitor whose address is unknown (privacy.asgi): they
# share one bucket per endpoint, so a missing address cannot switch limits off.
# Never a hash (those are hex), so it cannot collide with one.
SHARED_CLIENT = "shared:no-address"
_process_keys: dict[str, bytes] = {}

# INCR, and set the lifetime only on the first hit of a window: one round trip, atomic.
_INCR_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _key_name() -> str:
    return f"privacy:client-key:{timezone.now().date().isoformat()}"


def _process_key(name: str) -> bytes:
    """Today's key of this process alone, for when the shared one is out of reach."""
    if name not in _process_keys:
        _process_keys.clear()
        _process_keys[name] = secrets.token_hex(32).encode()
    return _process_keys[name]


async def _daily_key() -> bytes:
    name = _key_name()
    cached = _memo.get(name)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        # add() is atomic, so every process and server agrees on today's key.
        await cache.aadd(name, secrets.token_hex(32), timeout=_KEY_TTL_SECONDS)
        value = await cache.aget(name)
    except Exception as exc:  # any cache failure: the edge must still answer (quick exit)
        logger.warning("client key not in the cache (%s); using this process's key", type(exc).__name__)
        value = None
    if value is None:
        # Hashes then differ between processes until the cache is back:
        # rate limits count per process meanwhile, which is what they do anyway.
        key, lifetime = _process_key(name), _FALLBACK_MEMO_SECONDS
    else:
        key, lifetime = str(value).encode(), _MEMO_SECONDS
    _memo.clear()
    _memo[name] = (time.monotonic() + lifetime, key)
    return key


async def anonymous_client_key(address: str) -> str:
    """Returns today's keyed hash of a client address; the address is not kept."""
    key = await _daily_key()
    # hmac.digest: the same HMAC-SHA256 in one call, without building an HMAC object per request.
    return hmac.digest(key, address.encode(), "sha256").hex()[:32]


def request_client_key(request: HttpRequest) -> str:
    """The anonymous client key of a request, or "" when there is none."""
    scope = getattr(request, "scope", None) or {}
    return str(scope.get("anonymous_client", ""))


def _counter(bucket: str, identity: str, window_seconds: int) -> tuple[str, int]:
    """The cache key of the current fixed window, and how long it must live."""
    window = int(time.time() // window_seconds)
    return f"privacy:rl:{bucket}:{identity}:{window}", window_seconds + 1


class LocalCounters:
    """Fixed-window counters in this process's memory: the fallback when Redis is away."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def incr(self, name: str, ttl: int) -> int:
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.get(name, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + ttl
                if len(self._counts) >= self._max_keys:
                    self._prune(now)
            self._counts[name] = (count + 1, expires)
            return count + 1

    def _prune(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        if len(self._counts) >= self._max_keys:
            self._counts.clear()  # a flood of identities: forget rather than grow

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


local_counters = LocalCounters()


def _cache_count(name: str, ttl: int) -> int:
    """A counter in a cache without scripts (the embedded file cache)."""
    cache.add(name, 0, timeout=ttl)
    try:
        return int(cache.incr(name))
    except ValueError:  # expired between add and incr, or the cache is away
        return local_counters.incr(name, ttl)


def count(name: str, ttl: int) -> int:
    """Counts one hit on counter ``name`` living ``ttl`` seconds from its first hit."""
    backend = caches["default"]
    if not isinstance(backend, ResilientRedisCache):
        return _cache_count(name, ttl)
    key = backend.make_key(name)
    counted = backend.guarded(lambda: int(backend.redis_client().eval(_INCR_SCRIPT, 1, key, ttl)), None)
    return counted if counted is not None else local_counters.incr(name, ttl)


async def acount(name: str, ttl: int) -> int:
    """Async twin of :func:`count`: straight to Redis, no thread hop."""
    backend = caches["default"]
    if not isinstance(backend, ResilientRedisCache):
        return await _acache_count(name, ttl)
    key = backend.make_key(name)

    async def incr() -> int:
        return int(await async_redis_client(backend).eval(_INCR_SCRIPT, 1, key, ttl))

    counted = await backend.aguarded(incr, None)
    return counted if counted is not None else local_counters.incr(name, ttl)


async def _acache_count(name: str, ttl: int) -> int:
    await cache.aadd(name, 0, timeout=ttl)
    try:
        return int(await cache.aincr(name))
    except ValueError:
        return local_counters.incr(name, ttl)


def seconds_until_reset(window_seconds: int) -> int:
    """How long until the current fixed window of ``window_seconds`` ends: what a limited visitor must wait."""
    return max(1, math.ceil(window_seconds - time.time() % window_seconds))


def hit(bucket: str, identity: str, *, limit: int, window_seconds: int) -> bool:
    """Counts one event for ``identity`` in ``bucket``; False once over ``limit``.

    An empty identity (no client key, as in internal calls) is never limited;
    every connection from outside has one, :data:`SHARED_CLIENT` at worst.
    """
    if not identity:
        return True
    return count(*_counter(bucket, identity, window_seconds)) <= limit


async def ahit(bucket: str, identity: str, *, limit: int, window_seconds: int) -> bool:
    """Async twin of :func:`hit`, for consumers."""
    if not identity:
        return True
    return await acount(*_counter(bucket, identity, window_seconds)) <= limit


# INCRBY each key by its ARGV count, setting the lifetime when a key is new; returns the totals.
_INCRBY_MANY_SCRIPT = """
local totals = {}
for i, key in ipairs(KEYS) do
  local added = tonumber(ARGV[i + 1])
  local total = redis.call('INCRBY', key, added)
  if total == added then redis.call('EXPIRE', key, ARGV[1]) end
  totals[i] = total
end
return totals
"""


class _Window:
    """One counter of one fixed window as this process sees it."""

    __slots__ = ("expires", "flushing", "known", "pending")

    def __init__(self, expires: float) -> None:
        self.expires = expires
        self.known = 0  # the shared total at the last reconciliation (this process's hits included)
        self.pending = 0  # this process's hits not yet added to the shared total
        self.flushing = 0  # hits on their way to Redis now


class ReconciledCounters:
    """Fixed-window limits decided in this process's memory, reconciled with Redis in batches.

    For limits hit on every chat message, where a Redis round trip per hit
    costs more CPU than the rest of the check. A hit is decided at once from
    the shared total last seen plus this process's hits since; the hits of
    every counter touched are added to the shared counters at most every
    ``flush_seconds`` in one round trip (an atomic script), which returns the
    new totals. So one process never lets more than ``limit`` through in a
    window, and several processes together let through at most ``limit`` plus
    what the others admitted within one reconciliation (``flush_seconds`` plus
    a round trip); never more than ``limit`` times the number of processes. When Redis is away
    the hits stay pending and each process keeps its own count.

    One instance per event loop (:func:`reconciled_counters`); not thread-safe.
    """

    def __init__(self, flush_seconds: float = 0.1, max_keys: int = 100_000) -> None:
        self.flush_seconds = flush_seconds
        self.max_keys = max_keys
        self.round_trips = 0
        self._windows: dict[str, _Window] = {}
        self._ttls: dict[str, int] = {}
        self._flush_task: asyncio.Task[None] | None = None

    def hit(self, bucket: str, identity: str, *, limit: int, window_seconds: int) -> bool:
        """Counts one hit for ``identity`` in ``bucket``; False (not counted) once over ``limit``."""
        if not identity:
            return True
        name, ttl = _counter(bucket, identity, window_seconds)
        window = self._windows.get(name)
        if window is None:
            if len(self._windows) >= self.max_keys:
                self._prune(time.monotonic())
            window = self._windows[name] = _Window(time.monotonic() + ttl)
            self._ttls[name] = ttl
        if window.known + window.flushing + window.pending >= limit:
            return False
        window.pending += 1
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_soon())
        return True

    async def _flush_soon(self) -> None:
        # Hits made while a reconciliation was under way (or that Redis refused)
        # go with the next one, until nothing is pending or their windows ended.
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()
            if not any(window.pending for window in self._windows.values()):
                return

    async def flush(self) -> None:
        """Adds the pending hits to the shared counters and takes their totals."""
        now = time.monotonic()
        self._prune(now)
        batch = [(name, window) for name, window in self._windows.items() if window.pending]
        if not batch:
            return
        for _, window in batch:
            window.flushing, window.pending = window.pending, 0
        totals = await self._add([(name, window.flushing, self._ttls[name]) for name, window in batch])
        for index, (_, window) in enumerate(batch):
            if totals is None:  # Redis away: keep counting here, try again with the next hit
                window.pending += window.flushing
            else:
                window.known = max(window.known + window.flushing, int(totals[index]))
            window.flushing = 0

    async def _add(self, counts: list[tuple[str, int, int]]) -> list[int] | None:
        backend = caches["default"]
        if not isinstance(backend, ResilientRedisCache):
            # Without Redis (the embedded file cache) this process is the only one.
            return None
        keys = [backend.make_key(name) for name, _, _ in counts]
        ttl = max(ttl for _, _, ttl in counts)

        async def add() -> list[int]:
            self.round_trips += 1
            client = async_redis_client(backend)
            return list(await client.eval(_INCRBY_MANY_SCRIPT, len(keys), *keys, ttl, *(n for _, n, _ in counts)))

        try:
            return await backend.aguarded(add, None)
        except Exception as exc:  # a limiter must never fail the message
            logger.warning("rate-limit reconciliation failed (%s)", type(exc).__name__)
            return None

    def _prune(self, now: float) -> None:
        expired = [name for name, window in self._windows.items() if window.expires <= now and not window.flushing]
        for name in expired:
            del self._windows[name]
            del self._ttls[name]
        if len(self._windows) >= self.max_keys:  # a flood of identities: forget rather than grow
            self._windows.clear()
            self._ttls.clear()


_reconciled: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReconciledCounters]" = weakref.WeakKeyDictionary()


def reconciled_counters() -> ReconciledCounters:
    """The running event loop's :class:`ReconciledCounters` (one per process in production)."""
    loop = asyncio.get_running_loop()
    counters = _reconciled.get(loop)
    if counters is None:
        counters = _reconciled[loop] = ReconciledCounters()
    return counters
