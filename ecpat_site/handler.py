"""Django's ASGI handler, with a request's synchronous work in one hop on a reused thread.

Django's own ``ASGIHandler`` builds its middleware chain in async mode. With
synchronous middleware (all of Django's, and ours) a page then crosses
between the event loop and a thread five or six times per request: the
``request_started`` signal, the chain, back to the loop for URL resolution,
the CSRF view check, the view, and ``response.close()``. Each request also
gets a new thread, plus a second one to join it (asgiref's
``ThreadSensitiveContext``). Under load every crossing waits for the GIL, which
is where most of a cached page's CPU and its latency tail went
(``bench/pages.py``, ``docs/benchmarks.md``).

This handler builds the chain in sync mode, as under WSGI, and runs the
``request_started`` signal, the chain and the view, and, for a response that is
already in memory, ``response.close()`` (which sends ``request_finished`` and
returns the database connection to the pool) in one call on one thread. A
streaming response is closed after its body is sent, on the same thread. The
thread comes from a free list of single-thread executors, one per request in
flight at a time, so a request still has its own thread for its database
connection and thread-sensitive code, as with Django's handler, without
starting one. Asynchronous views still work: Django calls them through
``async_to_sync`` from that thread, as it does under WSGI.

Requests do not each get a thread the moment they arrive (``RequestThreads``).
Only one thread holds Python's lock at a time, so twenty threads for twenty
requests in flight do not work faster than one: they take turns, every turn
is a switch that costs CPU, and a thread that comes back from a short wait on
the database or Redis waits up to the 5 ms switch interval for its turn. That
contention cost a form page more than half its CPU and most of its latency
tail (``docs/benchmarks.md``, fifth round). So a request waits for a free
thread, and a new thread starts only when every busy one has been on its
request for longer than ``REQUEST_THREAD_STALL_MS``: a thread that waits on
something slow (a database or Redis outage, a slow query) never holds up the
rest by more than that, and CPU-bound work stays on as few threads as keep
the process busy.
"""

import asyncio
import contextlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi, base
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

# Executors kept idle for later requests; beyond this, a burst's extra threads end.
IDLE_THREADS = 64


class RequestThreads:
    """Single-thread executors for requests: a new thread only when every busy one has stalled.

    ``acquire`` gives a request its executor: an idle one when no thread is busy
    or when every busy thread has been on its request for ``stall`` seconds or
    more (and fewer than ``limit`` are busy); otherwise the request waits in
    line for the next thread to come free or to stall. ``release`` hands the
    executor straight to the next request in line, or keeps it idle.
    """

    def __init__(self, *, stall: float, limit: int) -> None:
        self.stall = stall
        self.limit = max(1, limit)
        self._idle: list[ThreadPoolExecutor] = []
        # Busy executors and when (event-loop time) each took its current request.
        self._busy: dict[ThreadPoolExecutor, float] = {}
        self._line: deque[asyncio.Future[ThreadPoolExecutor]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def busy(self) -> int:
        return len(self._busy)

    @property
    def started(self) -> int:
        """Threads this process holds for requests now, busy or idle."""
        return len(self._busy) + len(self._idle)

    def _may_start_another(self, now: float) -> bool:
        if not self._busy:
            return True
        return len(self._busy) < self.limit and all(now - since >= self.stall for since in self._busy.values())

    def _take(self, now: float) -> ThreadPoolExecutor:
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="django-request")
        self._busy[executor] = now
        return executor

    async def acquire(self) -> ThreadPoolExecutor:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not self._line and self._may_start_another(now):
            return self._take(now)
        turn: asyncio.Future[ThreadPoolExecutor] = loop.create_future()
        self._line.append(turn)
        self._watch(loop)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed over just as the request was cancelled
                self.release(turn.result(), reusable=True)
            else:
                with contextlib.suppress(ValueError):
                    self._line.remove(turn)
            raise

    def release(self, executor: ThreadPoolExecutor, *, reusable: bool) -> None:
        """``executor``'s request is over; ``reusable`` when nothing it was given still runs on it."""
        self._busy.pop(executor, None)
        if reusable:
            while self._line:
                turn = self._line.popleft()
                if not turn.done():
                    self._busy[executor] = asyncio.get_running_loop().time()
                    turn.set_result(executor)
                    return
            if len(self._idle) < IDLE_THREADS:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)
        self._admit()

    def _admit(self) -> None:
        """Starts threads for requests in line while every busy thread has stalled."""
        self._timer = None
        while self._line and self._line[0].done():
            self._line.popleft()
        if not self._line:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._line and self._may_start_another(now):
            turn = self._line.popleft()
            if not turn.done():
                turn.set_result(self._take(now))
        self._watch(loop)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Looks again when the youngest busy thread will have stalled (if more may start)."""
        if self._timer is not None or not self._line or not self._busy or len(self._busy) >= self.limit:
            return
        youngest = max(self._busy.values())
        self._timer = loop.call_at(youngest + self.stall, self._admit)


class ASGIHandler(asgi.ASGIHandler):
    """HTTP requests for Django: one hop from the event loop per request, on a reused thread."""

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = RequestThreads(stall=settings.REQUEST_THREAD_STALL_MS / 1000, limit=settings.REQUEST_THREADS)
        # One wrapper for every request (it keeps no state between calls): building
        # it inspects the function and copies its attributes, each time.
        self._respond_on_thread = sync_to_async(self._respond, thread_sensitive=True)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = await self.threads.acquire()
        reusable = False
        try:
            # Thread-sensitive calls made while this request runs (Django's and
            # ours) go to this request's thread, as with Django's handler.
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
            # Every call handed to the executor has been awaited, so its one
            # thread is free for the next request.
            reusable = True
        finally:
            self.threads.release(executor, reusable=reusable)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """Django's ``ASGIHandler.handle``, with the synchronous work in one call."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(asgi.get_script_prefix(scope))

        async def process_request() -> HttpResponseBase:
            response = await self._respond_on_thread(scope, body_file)
            with contextlib.suppress(asyncio.CancelledError):  # the client left during the body
                await self.send_response(response, send)
            return response

        # Watch for a disconnect while the response is made (as Django does).
        responding = asyncio.create_task(process_request())
        tasks = [asyncio.create_task(self.listen_for_disconnect(receive)), responding]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = responding.result()
        except asyncio.CancelledError:
            # Queued behind the abandoned view on the request's thread, so the
            # thread is free again when this returns.
            await signals.request_finished.asend(sender=self.__class__)
        else:
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=True)()
        body_file.close()

    def _respond(self, scope: Any, body_file: Any) -> HttpResponseBase:
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            response = cast(HttpResponseBase, error_response)  # Django returns one or the other
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]  # as Django's handler sets it
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # The body is in memory: end the request here, not in another hop after sending.
            response.close()
        return response
