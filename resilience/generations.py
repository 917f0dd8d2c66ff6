"""Generation counters: one cache key per kind of source data whose number moves on every change.

Cache entries derived from that data put the number in their own keys, so a
bump makes all of them stale at once without finding or deleting any. A lost
counter (evicted, or the cache was down) restarts from the clock, never from a
number an older entry could still carry.
"""

import time

from django.core.cache import cache


def current(key: str) -> int:
    """The counter's number now (created from the clock if it is missing)."""
    generation = cache.get(key)
    if generation is None:
        generation = time.time_ns()
        cache.add(key, generation, timeout=None)
        generation = cache.get(key, generation)
    return int(generation)


def bump(key: str) -> None:
    """Moves the counter on. Call after the change has committed."""
    try:
        cache.incr(key)
    except ValueError:  # the key was evicted or never set
        cache.set(key, time.time_ns(), timeout=None)
