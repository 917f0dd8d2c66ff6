"""Rate limits without tracking: counters keyed on a daily-rotating keyed hash.

With Redis, a counter is one atomic script (INCR, and EXPIRE only when the
key is new), so concurrent hits never lose a count and a window ends on time
however often it is hit. When Redis cannot be reached, each process counts
for itself in memory: limits stay in force, per process, instead of failing
the request or letting everything through.
"""

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time

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
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


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
