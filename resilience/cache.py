"""Django's Redis cache, where an unreachable Redis is a miss instead of an error.

Django's built-in ``RedisCache`` has no option for this (django-redis's
``IGNORE_EXCEPTIONS`` is the same idea). Reads return the default, writes do
nothing, and a circuit breaker skips Redis for a few seconds after a failure,
so pages render from the database while Redis is away and no request waits
for a timeout that an earlier one has just seen.
"""

import asyncio
import re
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import redis
import redis.asyncio
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from resilience.breaker import CircuitBreaker, breaker_for
from resilience.sentinel import async_master_client

T = TypeVar("T")

# Errors that mean "Redis is not there" (down, restarting, failing over), not a bug.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ReadOnlyError)


_shared_clients: dict[tuple[str, str], "redis.Redis"] = {}
_shared_clients_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, with one connection pool per process and server.

    Django keeps a cache object per thread, and under ASGI every synchronous
    request runs in a thread of its own, so the stock client opened a new pool,
    and with it a new Redis connection (a TCP handshake, HELLO and a health
    check), for almost every request. redis-py's pools are thread-safe, so all
    threads of a process share one here (bench/pages.py measures the gain).
    """

    # Set by RedisCacheClient.__init__ (not in django-stubs).
    _servers: list[str]
    _pool_class: type[redis.ConnectionPool]
    _pool_options: dict[str, Any]
    _client: type[redis.Redis]
    _get_connection_pool_index: Callable[[bool], int]

    def get_client(self, key: Any = None, *, write: bool = False) -> "redis.Redis":
        server = self._servers[self._get_connection_pool_index(write)]
        identity = (server, repr(sorted(self._pool_options.items(), key=lambda item: item[0])))
        client = _shared_clients.get(identity)
        if client is None:
            with _shared_clients_lock:
                client = _shared_clients.get(identity)
                if client is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    client = _shared_clients[identity] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """``RedisCache`` whose connection errors are misses and no-ops.

    ``OPTIONS["CIRCUIT_BREAKER_SECONDS"]`` (default 5) is how long Redis is
    skipped after a failure. Every thread of a process shares one connection
    pool (:class:`SharedPoolRedisCacheClient`).
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        cooldown = float(options.pop("CIRCUIT_BREAKER_SECONDS", 5.0))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = SharedPoolRedisCacheClient
        self.location = re.split("[;,]", server)[0]
        self.client_options = options
        self.breaker: CircuitBreaker = breaker_for("Redis cache", cooldown)

    def guarded(self, call: Callable[[], T], fallback: T) -> T:
        """Runs ``call`` unless the breaker is open; an unavailable Redis gives ``fallback``."""
        if not self.breaker.allows():
            return fallback
        try:
            result = call()
        except UNAVAILABLE as exc:
            self.breaker.failed(exc)
            return fallback
        self.breaker.succeeded()
        return result

    async def aguarded(self, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """Async twin of :meth:`guarded`."""
        if not self.breaker.allows():
            return fallback
        try:
            result = await call()
        except UNAVAILABLE as exc:
            self.breaker.failed(exc)
            return fallback
        self.breaker.succeeded()
        return result

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self.guarded(lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self.guarded(lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self.guarded(lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self.guarded(lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self.guarded(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self.guarded(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self.guarded(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        result: int | None = self.guarded(lambda: super(ResilientRedisCache, self).incr(key, delta, version), None)
        if result is None:
            # What incr() does for a key that is not there: callers already handle it.
            raise ValueError("Key not found (cache unavailable).")
        return result

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self.guarded(lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), list(data))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self.guarded(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        self.guarded(lambda: super(ResilientRedisCache, self).clear(), None)

    def redis_client(self) -> "redis.Redis":
        """The client of this cache's connection pool, for atomic counters (``privacy.ratelimit``)."""
        client: redis.Redis = self._cache.get_client(write=True)
        return client


_ASYNC_OPTIONS = frozenset({"socket_timeout", "socket_connect_timeout", "max_connections", "health_check_interval"})
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, redis.asyncio.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def async_redis_client(cache: ResilientRedisCache) -> "redis.asyncio.Redis":
    """An asyncio client for the cache's Redis, one per event loop, with the cache's timeouts.

    In Sentinel mode (``OPTIONS["sentinels"]``) it asks the sentinels for the
    current primary, as the cache's own pool does (``resilience.sentinel``).
    """
    loop = asyncio.get_running_loop()
    clients = _async_clients.setdefault(loop, {})
    location = cache.location
    if location not in clients:
        options = {k: v for k, v in cache.client_options.items() if k in _ASYNC_OPTIONS}
        sentinels = cache.client_options.get("sentinels")
        if sentinels:
            options["password"] = cache.client_options.get("password")
            clients[location] = async_master_client(
                location, sentinels, cache.client_options.get("sentinel_kwargs"), **options
            )
        else:
            clients[location] = redis.asyncio.Redis.from_url(location, **options)
    return clients[location]
