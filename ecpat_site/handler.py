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
"""

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi, base
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

# Executors kept idle for later requests; beyond this, a burst's extra threads end.
IDLE_THREADS = 64


class ASGIHandler(asgi.ASGIHandler):
    """HTTP requests for Django: one hop from the event loop per request, on a reused thread."""

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="django-request")
        idle = False
        try:
            # Thread-sensitive calls made while this request runs (Django's and
            # ours) go to this request's thread, as with Django's handler.
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
            # Every call handed to the executor has been awaited, so its one
            # thread is free for the next request.
            idle = True
        finally:
            if idle and len(self._idle) < IDLE_THREADS:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """Django's ``ASGIHandler.handle``, with the synchronous work in one call."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(asgi.get_script_prefix(scope))

        async def process_request() -> HttpResponseBase:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
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
