from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from supportline.selectors import opening_status


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The start page: talk (and whether the chat is open now), report, or read."""
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
