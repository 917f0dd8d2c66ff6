"""One object per running event loop: what a process's sockets share (one loop per process in production).

Tests run many loops one after another; an entry of a closed loop is dropped
when the next one is made.
"""

import asyncio
from collections.abc import Callable


class PerLoop[T]:
    """The running loop's ``T``: made by ``make`` on first use, or again when ``fits`` says it no longer does."""

    def __init__(self) -> None:
        self._items: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self, make: Callable[[], T], fits: Callable[[T], bool] | None = None) -> T:
        loop = asyncio.get_running_loop()
        item = self._items.get(loop)
        if item is None or (fits is not None and not fits(item)):
            for stale in [other for other in self._items if other.is_closed()]:
                del self._items[stale]
            item = self._items[loop] = make()
        return item
