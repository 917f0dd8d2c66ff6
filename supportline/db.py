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

On PostgreSQL the two statements of every chat message (the sender's store,
each receiver's read of the new rows) do not hop to a thread at all: they run
on the socket's event loop through psycopg's async API, on a small pool of
connections per event loop (:func:`on_event_loop`,
``SUPPORTLINE_ASYNC_DB_CONNECTIONS``, closed on shutdown by
:func:`close_async_pools`). Everything else, and everything on SQLite, stays on
the threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connections
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from supportline import outage
from supportline.loops import PerLoop

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
        if event["type"] in NOTICE_TYPES:
            notice_throttle().add(group, event)
        else:
            await outage.layer_call(watch, layer.group_send(group, event))


# "The queue / the dashboards changed, read them again": events that carry no
# state, whose receivers coalesce them anyway (a queued page to one update a
# second, a console to two), and that reach every queued page and every
# console of every process.
NOTICE_TYPES = frozenset({"queue.changed", "staff.changed"})


class NoticeThrottle:
    """Publishes this event loop's queue and dashboard notices at most every ``INTERVAL`` per group.

    A burst of 200 starts and 200 claims published one notice per change to
    every queued page and every console: tens of thousands of layer events,
    each received, decoded and dispatched by its socket only to mark an update
    the socket would coalesce anyway. The first notice of a group goes out at
    once; notices within ``INTERVAL`` after it are merged into one that
    follows. A merged ``staff.changed`` keeps a ``new_conversation_id`` if any
    of its notices had one, so the consoles still hear that someone new is
    waiting (once, rather than once per newcomer).
    """

    INTERVAL = 0.25

    def __init__(self) -> None:
        self._pending: dict[str, dict[str, Any]] = {}
        self._last: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self.published = 0  # notices sent (tests count them)

    def add(self, group: str, event: dict[str, Any]) -> None:
        merged = self._pending.get(group)
        if merged is None:
            self._pending[group] = dict(event)
        elif event.get("new_conversation_id"):
            merged["new_conversation_id"] = event["new_conversation_id"]
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            now = loop.time()
            due = {g: self._last.get(g, float("-inf")) + self.INTERVAL for g in self._pending}
            ready = [g for g, at in due.items() if at <= now]
            if not ready:
                await asyncio.sleep(min(due.values()) - now)
                continue
            layer = get_channel_layer()
            for group in ready:
                event = self._pending.pop(group)
                self._last[group] = loop.time()
                if layer is None:
                    continue
                self.published += 1
                await outage.layer_call(outage.layer_watch(layer), layer.group_send(group, event))


_throttles: PerLoop[NoticeThrottle] = PerLoop()


def notice_throttle() -> NoticeThrottle:
    """The running event loop's :class:`NoticeThrottle` (one per process in production)."""
    return _throttles.get(NoticeThrottle)


# --- The event loop's own connections (PostgreSQL) ---------------------------------

_async_pools: dict[asyncio.AbstractEventLoop, asyncio.Task[AsyncConnectionPool]] = {}


def async_path() -> bool:
    """Whether chat messages are stored and read on the event loop (PostgreSQL and ``SUPPORTLINE_ASYNC_DB``)."""
    return bool(settings.SUPPORTLINE_ASYNC_DB) and connections["default"].vendor == "postgresql"


def _connection_kwargs() -> dict[str, Any]:
    # Django's own parameters (database, credentials, its UTC timestamp loaders);
    # its cursor class is a synchronous one, and the pool is this module's.
    params = dict(connections["default"].get_connection_params())
    params.pop("cursor_factory", None)
    # A single statement is its own transaction: no BEGIN/COMMIT round trips.
    params["autocommit"] = True
    # Only the statements executed with prepare=True are prepared.
    params["prepare_threshold"] = None
    return params


async def _open_pool() -> AsyncConnectionPool:
    timeout = float(settings.SUPPORTLINE_ASYNC_DB_TIMEOUT)
    pool: AsyncConnectionPool = AsyncConnectionPool(
        kwargs=_connection_kwargs(),
        min_size=1,
        max_size=max(1, int(settings.SUPPORTLINE_ASYNC_DB_CONNECTIONS)),
        timeout=timeout,
        # A failed connection attempt is not retried in the background (with a
        # backoff that outlasts a short outage): the next message asks for a
        # connection again, so the chat comes back as soon as PostgreSQL does.
        reconnect_timeout=0,
        name="supportline-async",
        open=False,
    )
    # Not waiting for the first connection: while PostgreSQL is down the
    # message itself waits at most ``timeout`` for one.
    await pool.open(wait=False)
    return pool


async def on_event_loop[R](work: Callable[[AsyncConnection[Any]], Awaitable[R]]) -> R:
    """Awaits ``work(connection)`` on a connection of this event loop's pool (autocommit).

    Waiting for a connection and the work together are bounded by
    ``SUPPORTLINE_ASYNC_DB_TIMEOUT``; a connection left mid-statement by the
    bound is discarded by the pool, never reused. A connection that
    PostgreSQL has closed meanwhile (a restart) fails the work once, which
    then runs again on another: ``work`` must be safe to repeat (the store is,
    by ``client_id``).
    """
    loop = asyncio.get_running_loop()
    opening = _async_pools.get(loop)
    if opening is None or (opening.done() and (opening.cancelled() or opening.exception() is not None)):
        opening = _async_pools[loop] = loop.create_task(_open_pool())
    pool = await opening
    async with asyncio.timeout(float(settings.SUPPORTLINE_ASYNC_DB_TIMEOUT)):
        for attempt in range(2):
            async with pool.connection() as connection:
                try:
                    return await work(connection)
                except psycopg.OperationalError:
                    if attempt or not connection.broken:
                        raise
        raise AssertionError("unreachable")


BATCH_MAX_ITEMS = 64


class Batched[T, R]:
    """Items submitted by one event loop's sockets, run together: one batch in flight at a time.

    ``submit`` waits for its item's result. An item submitted while no batch
    is in flight goes out on the loop's next turn, with whatever else was
    submitted in that turn; while a batch is in flight, what arrives meanwhile
    waits for it and goes in the next (at most ``max_items``). Alone, an item
    goes at once; under load one round trip carries many. ``run`` returns one
    result per item, in order; if it raises, every item of its batch gets the
    exception.
    """

    def __init__(self, run: Callable[[list[T]], Awaitable[list[R]]], *, max_items: int = BATCH_MAX_ITEMS) -> None:
        self._run = run
        self._max_items = max_items
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches: deque[int] = deque(maxlen=1000)  # sizes of the latest batches run (tests read them)

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_items], self._waiting[self._max_items :]
            self.batches.append(len(batch))
            try:
                results = await self._run([item for item, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        if isinstance(exc, asyncio.CancelledError):
                            future.cancel()
                        else:
                            future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


async def close_async_pools() -> None:
    """Closes the pool of the running event loop (server shutdown, end of a test), and forgets closed loops'."""
    loop = asyncio.get_running_loop()
    for other in [other for other in _async_pools if other.is_closed()]:
        del _async_pools[other]
    opening = _async_pools.pop(loop, None)
    if opening is None:
        return
    try:
        pool = await opening
    except Exception:
        return
    await pool.close()


async def finish_anyway[R](work: Coroutine[Any, Any, R]) -> R:
    """Awaits ``work``, which runs to its end even when the caller is cancelled (a socket went away).

    A statement cut off mid-way would cost its connection; its outcome is
    known to the client anyway through ``client_id`` on the resend.
    """
    task = asyncio.get_running_loop().create_task(work)
    _finishing.add(task)
    task.add_done_callback(_finished)
    return await asyncio.shield(task)


_finishing: set[asyncio.Task[Any]] = set()


def _finished(task: asyncio.Task[Any]) -> None:
    _finishing.discard(task)
    if not task.cancelled():
        # Retrieved, so that a failure nobody awaited any more is not logged with its details.
        task.exception()
