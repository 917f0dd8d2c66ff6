"""The support line's own thread pool for database work from the sockets.

Channels' ``database_sync_to_async`` runs every call of the process on one
thread, so one slow query stalls every chat. :func:`run_db` runs a function
on a small bounded pool instead (``SUPPORTLINE_DB_THREADS`` threads), each
thread with its own connection, which goes back to Django's connection pool
after every call, exactly as ``database_sync_to_async`` would close it.

Broadcasts a service schedules for after its commit
(``services.broadcast_on_commit``) are not sent from the pool thread: there,
``async_to_sync`` would start a new event loop in a new thread, and the
channel layer a new Redis connection, for every event. The thread collects
them instead, and :func:`run_db` publishes them from the socket's event loop
once the call has returned, that is after the commit.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from supportline import outage

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
# Layer events committed during a run_db call, for the event loop to publish.
_committed_events: contextvars.ContextVar[list[tuple[str, dict[str, Any]]] | None] = contextvars.ContextVar(
    "supportline_committed_events", default=None
)


def defer_to_event_loop(group: str, event: dict[str, Any]) -> bool:
    """Inside a :func:`run_db` call: queues ``event`` for its event loop and returns True."""
    pending = _committed_events.get()
    if pending is None:
        return False
    if (group, event) not in pending:  # the receivers coalesce repeats anyway
        pending.append((group, event))
    return True


def executor() -> ThreadPoolExecutor:
    """The process's pool, created on first use (settings are read then, not at import)."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=settings.SUPPORTLINE_DB_THREADS, thread_name_prefix="supportline-db"
            )
        return _executor


def call_in_thread[**P, R](fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Runs ``fn`` on a pool thread's connection, handing the connection back afterwards."""
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def run_db[**P, R](fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Awaits ``fn(*args, **kwargs)`` run on the support line's database threads."""
    context = contextvars.copy_context()
    committed: list[tuple[str, dict[str, Any]]] = []
    context.run(_committed_events.set, committed)
    loop = asyncio.get_running_loop()
    call = functools.partial(call_in_thread, fn, *args, **kwargs)
    future = loop.run_in_executor(executor(), context.run, call)
    try:
        return await asyncio.shield(future)
    finally:
        if future.done():
            if committed:
                await _publish(committed)
        else:
            # Cancelled (the socket went away) while the thread still works: what
            # it commits is announced all the same, once it is done.
            future.add_done_callback(lambda _: _later(_publish(committed)))


_publishing: set[asyncio.Task[None]] = set()


def _later(publish: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(publish)
    _publishing.add(task)  # held until done: the loop keeps only weak references
    task.add_done_callback(_publishing.discard)


async def _publish(events: list[tuple[str, dict[str, Any]]]) -> None:
    # A layer outage must not turn a committed action into an error; the
    # sockets poll the database meanwhile (supportline.outage).
    layer = get_channel_layer()
    if layer is None:
        return
    watch = outage.layer_watch(layer)
    for group, event in events:
        await outage.layer_call(watch, layer.group_send(group, event))
