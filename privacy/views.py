import logging
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from privacy.uncached import never_cache

logger = logging.getLogger(__name__)


@never_cache
def quick_exit(request: HttpRequest) -> HttpResponse:
    """Forgets the visit and sends the browser to a neutral site.

    The page's script has already hidden the content and called
    ``location.replace`` so this page leaves no history entry; without
    script the button is a plain link to here. It answers even when the
    session store (the database) is down: the browser then drops the cookie
    (``Clear-Site-Data`` and an expired cookie) and the stored session ends
    with its normal lifetime.
    """
    response = HttpResponseRedirect(settings.QUICK_EXIT_URL)
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    try:
        request.session.flush()
    except Exception as exc:  # whatever the store raises, the exit must not fail
        logger.warning("quick exit: session store unavailable (%s); only the cookie is cleared", type(exc).__name__)
        # An empty, keyless session: the session middleware then only deletes the cookie.
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        response.delete_cookie(settings.SESSION_COOKIE_NAME, path=settings.SESSION_COOKIE_PATH)
    return response


@require_safe
def safety(request: HttpRequest) -> HttpResponse:
    """Explains honestly what quick exit does and what it cannot erase."""
    return render(request, "privacy/safety.html")
