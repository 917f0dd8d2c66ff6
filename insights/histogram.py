"""One histogram scale for every duration, so medians and percentiles work over any period.

A day stores how many durations fell in each bucket; a period adds the days'
buckets and reads its percentiles from the sum. Bucket ``i`` holds durations
``EDGES[i] <= seconds < EDGES[i + 1]``; the last bucket is open-ended. 24 h,
72 h and 7 days are edges, so "removed within 24 h / 72 h / 7 d" is exact.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR

EDGES: tuple[int, ...] = (
    0,
    30,
    1 * MINUTE,
    2 * MINUTE,
    3 * MINUTE,
    5 * MINUTE,
    7 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    20 * MINUTE,
    30 * MINUTE,
    45 * MINUTE,
    1 * HOUR,
    2 * HOUR,
    4 * HOUR,
    8 * HOUR,
    12 * HOUR,
    1 * DAY,
    2 * DAY,
    3 * DAY,
    5 * DAY,
    7 * DAY,
    14 * DAY,
    30 * DAY,
)


def bucket_of(seconds: float) -> int:
    """The bucket a duration falls in; negative durations (clock skew) count as 0."""
    return max(0, bisect.bisect_right(EDGES, seconds) - 1)


def total(buckets: Mapping[int, int]) -> int:
    return sum(buckets.values())


def percentile(buckets: Mapping[int, int], fraction: float) -> float | None:
    """The duration (seconds) below which ``fraction`` of the counted durations lie.

    Interpolated linearly inside the bucket where that rank falls (the usual
    grouped-data estimate); the open-ended last bucket answers its lower edge.
    None for an empty histogram.
    """
    count = total(buckets)
    if count == 0:
        return None
    rank = fraction * count
    seen = 0
    for index in range(len(EDGES)):
        in_bucket = buckets.get(index, 0)
        if in_bucket and seen + in_bucket >= rank:
            low = EDGES[index]
            if index + 1 >= len(EDGES):
                return float(low)
            high = EDGES[index + 1]
            return low + (high - low) * (rank - seen) / in_bucket
        seen += in_bucket
    return float(EDGES[-1])


def share_below(buckets: Mapping[int, int], seconds: int) -> float | None:
    """The share (0..1) of durations shorter than ``seconds``, which must be an edge."""
    count = total(buckets)
    if count == 0:
        return None
    limit = EDGES.index(seconds)
    return sum(n for index, n in buckets.items() if index < limit) / count
