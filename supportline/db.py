"""The support line's own thread pool for database work from the sockets.

Channels' ``database_sync_to_async`` runs every call of the process on one
thread, so one slow query stalls every chat. :func:`run_db` runs a function
on a small bounded pool instead (``SUPPORTLINE_DB_THREADS`` threads), each
thread with its own connection, which goes back to Django's connection pool
after every call, exactly as ``database_sync_to_async`` would close it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


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
    loop = asyncio.get_running_loop()
    call = functools.partial(call_in_thread, fn, *args, **kwargs)
    return await loop.run_in_executor(executor(), context.run, call)
