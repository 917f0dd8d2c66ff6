"""Rate limits without tracking: counters keyed on a daily-rotating keyed hash."""

import hashlib
import hmac
import secrets
import time

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

_KEY_TTL_SECONDS = 2 * 24 * 60 * 60
_MEMO_SECONDS = 60
_memo: dict[str, tuple[float, bytes]] = {}


def _key_name() -> str:
    return f"privacy:client-key:{timezone.now().date().isoformat()}"


async def _daily_key() -> bytes:
    name = _key_name()
    cached = _memo.get(name)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    # add() is atomic, so every process and server agrees on today's key.
    await cache.aadd(name, secrets.token_hex(32), timeout=_KEY_TTL_SECONDS)
    value = await cache.aget(name)
    key = str(value).encode()
    _memo.clear()
    _memo[name] = (time.monotonic() + _MEMO_SECONDS, key)
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


def hit(bucket: str, identity: str, *, limit: int, window_seconds: int) -> bool:
    """Counts one event for ``identity`` in ``bucket``; False once over ``limit``.

    A fixed window keeps it to two cache operations. An empty identity (no
    client key, as in internal calls) is never limited.
    """
    if not identity:
        return True
    name, ttl = _counter(bucket, identity, window_seconds)
    cache.add(name, 0, timeout=ttl)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=ttl)
        count = 1
    return count <= limit


async def ahit(bucket: str, identity: str, *, limit: int, window_seconds: int) -> bool:
    """Async twin of :func:`hit`, for consumers."""
    if not identity:
        return True
    name, ttl = _counter(bucket, identity, window_seconds)
    await cache.aadd(name, 0, timeout=ttl)
    try:
        count = await cache.aincr(name)
    except ValueError:  # expired between add and incr
        await cache.aset(name, 1, timeout=ttl)
        count = 1
    return count <= limit
