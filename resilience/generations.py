"""Generation counters: one cache key per kind of source data whose number moves on every change.

Cache entries derived from that data put the number in their own keys, so a
bump makes all of them stale at once without finding or deleting any. A lost
counter (evicted, or the cache was down) restarts from the clock, never from a
number an older entry could still carry.
"""

import time
from typing import Any

from django.core.cache import cache


def current(key: str) -> int:
    """The counter's number now (created from the clock if it is missing)."""
    return current_many([key])[0]


def current_many(keys: list[str]) -> list[int]:
    """Several counters' numbers in one cache round trip (each created from the clock if missing)."""
    return numbers_in(cache.get_many(keys), keys)


def numbers_in(found: dict[str, Any], keys: list[str]) -> list[int]:
    """The counters' numbers from a ``cache.get_many`` that read them (with other keys, in the
    same round trip); each missing one is created from the clock."""
    numbers = []
    for key in keys:
        generation = found.get(key)
        if generation is None:
            generation = time.time_ns()
            cache.add(key, generation, timeout=None)
            generation = cache.get(key, generation)
        numbers.append(int(generation))
    return numbers


def bump(key: str) -> None:
    """Moves the counter on. Call after the change has committed."""
    try:
        cache.incr(key)
    except ValueError:  # the key was evicted or never set
        cache.set(key, time.time_ns(), timeout=None)
