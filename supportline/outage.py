"""Chat through a channel-layer (Redis) outage: probe the layer, poll the database meanwhile.

Layer calls from the sockets go through :func:`layer_call`, which never
raises: a failure marks the process's layer as down. A :class:`LayerWatch`
per event loop also publishes a probe every second, so a process that only
receives notices an outage too. While the layer is down (and a few seconds
after it is back, until its subscriptions have surely been restored) every
watching socket polls the database for new ``seq``s; on recovery each socket
joins its groups again. Sockets opened during the outage have channels and
groups that exist only in-process (``resilience.channel_layer``); the probe
subscribes them at Redis as soon as it answers again, and the layer counts as
back only once they are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, Protocol

from resilience.channel_layer import restore_subscriptions
from supportline.loops import PerLoop

logger = logging.getLogger(__name__)

PROBE_GROUP = "supportline.probe"
PROBE_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 1.0
# A layer that only answers slowly may be a busy process, not a dead Redis. Declaring
# it down makes every socket poll the database, which a busy process can least
# afford (measured: 200 and 500 chats collapsed that way on a loaded machine). So a
# refused connection counts at once, silence only once no layer call of the process
# (probe, publish, join) has succeeded for this long.
SILENT_DOWN_AFTER_SECONDS = 3.0
LAYER_CALL_TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 1.5
# Keep polling this long after the layer is back: resubscribing takes a moment.
RECOVERY_GRACE_SECONDS = 4.0


class Watcher(Protocol):
    async def layer_down(self) -> None: ...

    async def layer_up(self) -> None: ...


class LayerWatch:
    """The health of one process's channel layer, and the sockets to tell about it."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.healthy = True
        self.changed_at = time.monotonic()
        self.watchers: set[Watcher] = set()
        self.last_answer = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def watch(self, watcher: Watcher) -> None:
        self.watchers.add(watcher)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._probe())

    def unwatch(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def answered(self) -> None:
        """A layer call succeeded: Redis is there, however slow the process."""
        self.last_answer = time.monotonic()

    def recently_recovered(self) -> bool:
        return self.healthy and time.monotonic() - self.changed_at < RECOVERY_GRACE_SECONDS

    async def report(self, healthy: bool, reason: str = "") -> None:
        if healthy == self.healthy:
            return
        self.healthy = healthy
        self.changed_at = time.monotonic()
        if healthy:
            logger.warning("channel layer is back")
        else:
            logger.warning("channel layer is down (%s): sockets poll the database", reason)
        for watcher in list(self.watchers):
            try:
                await (watcher.layer_up() if healthy else watcher.layer_down())
            except Exception as exc:
                logger.warning("a socket failed to switch: %s", type(exc).__name__)

    async def _probe(self) -> None:
        while self.watchers:
            reason = ""
            try:
                await asyncio.wait_for(
                    self.layer.group_send(PROBE_GROUP, {"type": "layer.probe"}), PROBE_TIMEOUT_SECONDS
                )
                self.answered()
                healthy = await self._restore()
                reason = "subscriptions not restored"
            except TimeoutError:
                healthy = time.monotonic() - self.last_answer < SILENT_DOWN_AFTER_SECONDS
                reason = "no answer"
            except Exception as exc:
                healthy, reason = False, type(exc).__name__
            await self.report(healthy, reason)
            await asyncio.sleep(PROBE_SECONDS)

    async def _restore(self) -> bool:
        """Subscribes at Redis what sockets opened during the outage subscribed in-process; True once all are."""
        try:
            missing = await restore_subscriptions(self.layer)
        except Exception as exc:
            logger.info("channel layer subscriptions not restored yet: %s", type(exc).__name__)
            return False
        return missing == 0


_watches: PerLoop[LayerWatch] = PerLoop()


def layer_watch(layer: Any) -> LayerWatch:
    """The watch of the running event loop's layer."""
    return _watches.get(lambda: LayerWatch(layer), fits=lambda watch: watch.layer is layer)


async def layer_call(watch: LayerWatch, call: Awaitable[Any]) -> bool:
    """Awaits a layer call (send, join, leave); True if it worked.

    An error reports the layer down; a timeout is left to the probe, which
    tells a busy process from a silent Redis (a join cut short is restored
    with the others, ``resilience.channel_layer``).
    """
    try:
        await asyncio.wait_for(call, LAYER_CALL_TIMEOUT_SECONDS)
    except TimeoutError:
        logger.info("channel layer call timed out")
        return False
    except Exception as exc:
        logger.info("channel layer call failed: %s", type(exc).__name__)
        await watch.report(False, type(exc).__name__)
        return False
    watch.answered()
    return True
