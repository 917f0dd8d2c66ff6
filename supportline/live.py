"""Fan-out without re-rendering per recipient: a shared snapshot and coalesced updates.

A start, claim or presence change reaches every console and every queued
visitor of a process at about the same moment. Rather than each of them
querying the queue, the first asks :class:`SnapshotMemo` for a snapshot taken
after the change arrived; the others reuse it. :class:`Coalescer` then keeps
each socket to a few updates a second, always sending one after the last
change so the final state is shown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from supportline import selectors
from supportline.db import run_db
from supportline.loops import PerLoop

logger = logging.getLogger(__name__)


class SnapshotMemo:
    """The latest :class:`~supportline.selectors.LiveSnapshot` of this process and event loop.

    Under a burst of starts and claims every change asks for a snapshot newer
    than itself; computed back to back, they would keep a database thread and
    the event loop busy with nothing but the queue. A new snapshot therefore
    starts at most every ``MIN_INTERVAL`` seconds, and everyone who asked
    meanwhile shares it.
    """

    MIN_INTERVAL = 0.2
    # The recent real waits behind the queue estimate change slowly: read at most this often.
    WAITS_MAX_AGE = 60.0

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._snapshot: selectors.LiveSnapshot | None = None
        self._started = float("-inf")
        self._waits_read = float("-inf")
        self.computed = 0

    async def get(self, *, not_before: float) -> selectors.LiveSnapshot:
        """A snapshot whose queries began after ``not_before`` (a ``time.monotonic()``)."""
        async with self._lock:
            if self._snapshot is None or self._started <= not_before:
                pause = self._started + self.MIN_INTERVAL - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                started = time.monotonic()
                fresh_waits = started - self._waits_read >= self.WAITS_MAX_AGE or self._snapshot is None
                waits = None if fresh_waits or self._snapshot is None else self._snapshot.outlook.waits
                self._snapshot = await run_db(selectors.live_snapshot, waits=waits)
                self._started = started
                if fresh_waits:
                    self._waits_read = started
                self.computed += 1
            return self._snapshot


_memos: PerLoop[SnapshotMemo] = PerLoop()


def snapshot_memo() -> SnapshotMemo:
    """The memo of the running event loop (one per process in production)."""
    return _memos.get(SnapshotMemo)


async def live_snapshot(*, not_before: float | None = None) -> selectors.LiveSnapshot:
    """A snapshot reflecting every change that arrived up to ``not_before`` (default: now)."""
    return await snapshot_memo().get(not_before=time.monotonic() if not_before is None else not_before)


class Coalescer:
    """Calls ``flush(since)`` at most once per ``interval`` after :meth:`mark`, and always after the last mark.

    ``since`` is when the oldest change not yet flushed arrived, so the
    flush can ask for a snapshot newer than it.
    """

    # A short pause lets every socket of the process see the same change
    # before the first of them takes the snapshot they will all share.
    GATHER_SECONDS = 0.05

    def __init__(self, flush: Callable[[float], Awaitable[None]], interval: float) -> None:
        self._flush = flush
        self._interval = interval
        self._dirty_since: float | None = None
        self._last_flush = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def mark(self) -> None:
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def flushed(self) -> None:
        """Notes a flush done directly (on connect), so the next waits its turn."""
        self._last_flush = time.monotonic()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while self._dirty_since is not None:
            wait = max(self._last_flush + self._interval - time.monotonic(), self.GATHER_SECONDS)
            await asyncio.sleep(wait)
            since, self._dirty_since = self._dirty_since, None
            self._last_flush = time.monotonic()
            try:
                await self._flush(since)
            except Exception as exc:  # a failed update must not stop the later ones
                logger.warning("live update failed: %s", type(exc).__name__)
