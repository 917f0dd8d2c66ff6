"""``never_cache`` for pages that no browser or proxy may keep: Django's headers, for less work.

Django's ``never_cache`` formats the date through ``email.utils`` and builds
``Cache-Control`` by parsing and rewriting the header twice, on every response;
on the search page that cost more CPU than a search's SQL statement. This one
sets the very same two headers (a test compares them with Django's) and leaves
a response that already has either header to Django's own code. Every
never-cached view of the site (public pages and the staff admin) uses it, so
there is one way to say "never keep this".
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers as django_add_never_cache_headers
from django.utils.http import http_date

# What Django's add_never_cache_headers writes on a response without the header.
NEVER_CACHE_CONTROL = "max-age=0, no-cache, no-store, must-revalidate, private"

# The Expires value of the current second, as (second, header): an HTTP date has no finer unit.
_expires: list[tuple[int, str]] = [(-1, "")]


def _expires_now() -> str:
    second = int(time.time())
    kept_second, header = _expires[0]
    if kept_second != second:
        header = http_date(second)
        _expires[0] = (second, header)
    return header


def add_never_cache_headers(response: HttpResponseBase) -> None:
    """Django's ``add_never_cache_headers``: ``Expires`` now and ``Cache-Control`` that forbids keeping."""
    if response.has_header("Expires") or response.has_header("Cache-Control"):
        django_add_never_cache_headers(response)
        return
    response.headers["Expires"] = _expires_now()
    response.headers["Cache-Control"] = NEVER_CACHE_CONTROL


def never_cache[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Django's ``never_cache`` for a synchronous view."""
    if iscoroutinefunction(view):
        raise TypeError("privacy.uncached.never_cache is for synchronous views; use Django's for async ones")

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return cast(V, wrapper)
