from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from prevention.caching import cached_public_page
from supportline.selectors import OPENING_GENERATION_KEY, opening_status


def _chat_status_changes_at() -> datetime | None:
    status = opening_status()
    return status.closes_at if status.is_open else status.next_opening


@require_safe
@cached_public_page(changes_at=_chat_status_changes_at, also_keyed_on=(OPENING_GENERATION_KEY,))
def home(request: HttpRequest) -> HttpResponse:
    """The start page: talk (and whether the chat is open now), report, or read.

    The same for everyone, so it is served from the page cache, never past the
    moment the chat opens or closes.
    """
    return render(request, "home.html", {"chat_status": opening_status()})


def _error(request: HttpRequest, heading: str, status: int) -> HttpResponse:
    return render(request, "error.html", {"heading": heading}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, _("Något blev fel i det som skickades"), 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, _("Du har inte tillgång till sidan"), 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, _("Sidan finns inte"), 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Usually a form left open too long; the reason is for developers, not shown.
    return _error(request, _("Sidan hann bli för gammal. Gå tillbaka, ladda om sidan och försök igen."), 403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: whatever broke may be one of them.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
