from datetime import datetime

from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from bilingual import english_address
from ecpat_site.sitemaps import SITEMAPS
from prevention.caching import cached_public_page
from supportline.selectors import OPENING_GENERATION_KEY, opening_status

OLD_ENGLISH_ADDRESS = "old-english-address"


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


@require_safe
@cached_public_page
def sitemap(request: HttpRequest) -> HttpResponse:
    """Every public page in both languages, each with its twin (``xhtml:link`` alternates)."""
    return sitemap_view(request, sitemaps=SITEMAPS)


# A redirect changes nothing, and the page it leads to checks CSRF itself (or, like the
# chat's leave beacon and the search, needs none): a token check here would only turn
# a beacon sent to an old address into a 403.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def old_english_address(request: HttpRequest, rest: str) -> HttpResponse:
    """An English page's address from before its words were English: a permanent redirect to today's.

    A form posted from a page cached before the move keeps its POST (308).
    """
    target = english_address(request.path_info, old_address_view=OLD_ENGLISH_ADDRESS)
    if target is None:
        raise Http404
    if query := request.META.get("QUERY_STRING"):
        target = f"{target}?{query}"
    response = HttpResponsePermanentRedirect(target)
    if request.method == "POST":
        response.status_code = 308
    return response


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
