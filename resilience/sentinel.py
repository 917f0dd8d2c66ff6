"""Redis Sentinel for Django's built-in Redis cache.

Django's ``RedisCache`` builds its connection pool with
``OPTIONS["pool_class"].from_url(LOCATION, **OPTIONS)``. :class:`SentinelMasterPool`
is such a pool class: it asks the sentinels for the current primary whenever it
opens a connection, so the cache follows a failover without a restart. Only
the pool changes, so any ``RedisCache`` subclass (for example one that treats
errors as misses) works with it unchanged.
"""

from typing import Any, Self
from urllib.parse import urlsplit

import redis.asyncio
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel, SentinelConnectionPool


def sentinel_addresses(entries: list[str]) -> list[tuple[str, int]]:
    """``["host:port", "host"]`` as ``[("host", port), ("host", 26379)]``; IPv6 as ``[::1]:port``."""
    addresses = []
    for entry in entries:
        host, colon, port = entry.strip().rpartition(":")
        if not colon or host.endswith(":"):
            host, port = entry.strip(), ""
        host = host.removeprefix("[").removesuffix("]")
        if not host:
            raise ValueError(f"not a sentinel address: {entry!r}")
        addresses.append((host, int(port or 26379)))
    return addresses


class SentinelMasterPool(SentinelConnectionPool):
    """A pool of connections to the primary that the sentinels currently name."""

    @classmethod
    def from_url(  # type: ignore[override]  # Django's RedisCache passes the sentinels as keywords
        cls,
        url: str,
        *,
        sentinels: list[tuple[str, int]],
        sentinel_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Self:
        """``url`` is ``redis://<service name>/<db>``: the sentinels' name for the primary, and the database."""
        service, db = _service_and_db(url)
        sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]  # unannotated in redis-py
        return cls(service, sentinel, db=db, **kwargs)


def _service_and_db(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    # netloc, not hostname: a service name keeps its case. A password goes in OPTIONS, not here.
    if parts.scheme != "redis" or not parts.netloc or "@" in parts.netloc:
        raise ValueError(f"expected redis://<service name>/<db>, got {url!r}")
    return parts.netloc, int(parts.path.strip("/") or 0)


def async_master_client(
    url: str, sentinels: list[tuple[str, int]], sentinel_kwargs: dict[str, Any] | None = None, **kwargs: Any
) -> redis.asyncio.Redis:
    """An asyncio client of the primary the sentinels name for ``redis://<service name>/<db>``."""
    service, db = _service_and_db(url)
    sentinel = AsyncSentinel(sentinels, sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]  # unannotated in redis-py
    client: redis.asyncio.Redis = sentinel.master_for(service, db=db, **kwargs)
    return client
