"""Referrer policy: nothing to anyone, except the site's own form posts.

The site-wide ``Referrer-Policy: no-referrer`` makes browsers send
``Origin: null`` on every form POST (Fetch standard), which Django's CSRF
check rightly refuses. Pages that post forms use ``same-origin`` instead: it
still sends nothing to any other site.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

FORM_PAGE_POLICY = "same-origin"


def same_origin_referrer(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Marks a view whose page posts a form: header and ``<meta name=referrer>`` say same-origin."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.referrer_policy = FORM_PAGE_POLICY  # type: ignore[attr-defined]  # read by base.html
        response = view(request, *args, **kwargs)
        response.headers["Referrer-Policy"] = FORM_PAGE_POLICY
        return response

    return wrapped
