"""The reporter's pages: the tip form, the one-time receipt, and the status page.

Every page here is ``never_cache``: nothing a reporter typed or was shown may
stay in a cache. Nothing about the reporter's network or device is read.

The form is post/redirect/get: a stored tip answers with a redirect to the
receipt page, and the code crosses that redirect in a short-lived cookie,
encrypted, that the receipt page deletes as it shows the code. The server
keeps no copy of the code (only its hashes, hotline/receipts.py), and a
one-time form token (hotline/form_tokens.py) stops a second POST of the same
page from storing a second tip.
"""

import json
import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from hotline import form_tokens, selectors, services
from hotline.forms import ReceiptCodeForm, ReporterAnswerForm, TipForm
from hotline.models import Tip
from privacy import crypto
from privacy.ratelimit import hit, request_client_key, seconds_until_reset
from privacy.referrer import same_origin_referrer
from privacy.uncached import never_cache

# What a reporter may know about their tip: fixed texts, never an analyst's notes.
REPORTER_STATUS_TEXTS = {
    Tip.Status.RECEIVED: _("Vi har tagit emot ditt tips. Ingen har börjat granska det än."),
    Tip.Status.IN_ASSESSMENT: _("En av våra analytiker granskar ditt tips just nu."),
    Tip.Status.ASSESSED: _("Vi har granskat ditt tips."),
    Tip.Status.FORWARDED: _("Vi har granskat ditt tips och arbetar vidare med det."),
    Tip.Status.TAKEDOWN_SENT: _("Vi har granskat ditt tips och arbetar vidare med det."),
    Tip.Status.REMOVAL_CONFIRMED: _("Vi har granskat ditt tips och arbetar vidare med det."),
    Tip.Status.CLOSED: _("Vi är klara med ditt tips. Tack för att du hörde av dig."),
}


def _page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    return render(request, template, context, status=status)


def rate_limited(window_seconds: int) -> str:
    """The rate-limit message, with how many minutes are left of the window."""
    minutes = math.ceil(seconds_until_reset(window_seconds) / 60)
    return ngettext(
        "Du har försökt många gånger på kort tid. Vänta %(count)s minut och försök sedan igen.",
        "Du har försökt många gånger på kort tid. Vänta %(count)s minuter och försök sedan igen.",
        minutes,
    ) % {"count": minutes}


def _limited_page(request: HttpRequest, template: str, context: dict[str, Any], window_seconds: int) -> HttpResponse:
    response = _page(request, template, context, status=429)
    response["Retry-After"] = str(seconds_until_reset(window_seconds))
    return response


FORM_TOO_OLD = _("Sidan hann bli för gammal. Det du skrev finns kvar: kontrollera det och skicka igen.")

# The receipt code crosses the redirect in this cookie (named on the safety page).
RECEIPT_COOKIE = "hotline_receipt"
# The redirect is followed at once; a code older than this is not shown. The cookie itself
# lasts the browser session at most, like every cookie the public pages set.
RECEIPT_COOKIE_SECONDS = 300


def _receipt_redirect(code: str | None = None, *, urgent: bool = False) -> HttpResponse:
    """303 to the receipt page, carrying ``code`` there encrypted in a cookie only that page gets."""
    target = reverse("hotline:receipt")
    response = HttpResponseRedirect(target, status=303)
    if code is not None:
        response.set_cookie(
            RECEIPT_COOKIE,
            crypto.encrypt(json.dumps({"code": code, "urgent": urgent})),
            path=target,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Strict",
        )
    return response


@never_cache
@same_origin_referrer
@require_http_methods(["GET", "HEAD", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The tip form; a valid tip is stored once per form token, then the receipt page shows its code."""
    if request.method != "POST":
        # The empty form's fields come from a fragment cached per language; the
        # form itself (deep copies of every field) is built only when that misses.
        empty = SimpleLazyObject(TipForm)
        return _page(
            request, "hotline/index.html", {"form": empty, "empty_form": True, "form_token": form_tokens.issue()}
        )
    form = TipForm(request.POST)
    if form.is_honeypot_filled:
        return _page(request, "hotline/thanks.html")
    token = request.POST.get("form_token", "")
    if not form_tokens.is_valid(token):
        form.is_valid()  # show what else needs fixing, with what was typed kept
        form.add_error(None, FORM_TOO_OLD)
        return _page(request, "hotline/index.html", {"form": form, "form_token": form_tokens.issue()}, status=400)
    context = {"form": form, "form_token": token}
    if not form.is_valid():
        return _page(request, "hotline/index.html", context, status=400)
    window = settings.HOTLINE_TIP_RATE_WINDOW_SECONDS
    allowed = hit(
        "hotline-tip", request_client_key(request), limit=settings.HOTLINE_TIP_RATE_LIMIT, window_seconds=window
    )
    if not allowed:
        form.add_error(None, rate_limited(window))
        return _limited_page(request, "hotline/index.html", context, window)
    if form_tokens.claim(token) != form_tokens.Claim.CLAIMED:
        # This page was sent before (a reload, a double click): that tip stands, no second one.
        return _receipt_redirect()
    data = form.cleaned_data
    try:
        submitted = services.tip_submit(
            category=data["category"],
            found_via=data["found_via"],
            urls=data["urls"],
            place=data["place"],
            occurred=data["occurred"],
            description=data["description"],
            contact=data["contact"],
            urgent=data["urgent"],
        )
    except Exception:
        form_tokens.release(token)
        raise
    return _receipt_redirect(submitted.receipt_code, urgent=submitted.tip.is_urgent)


def _read_receipt_cookie(request: HttpRequest) -> dict[str, Any] | None:
    plain = crypto.decrypt_fresh(request.COOKIES.get(RECEIPT_COOKIE, ""), RECEIPT_COOKIE_SECONDS)
    if plain is None:
        return None
    try:
        value = json.loads(plain)
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("code"), str) else None


@never_cache
@require_http_methods(["GET", "HEAD"])
def receipt(request: HttpRequest) -> HttpResponse:
    """Shows a new tip's code once: the cookie that carried it is deleted in the same response."""
    carried = _read_receipt_cookie(request)
    if carried is None:
        response = _page(request, "hotline/receipt_shown.html")
    else:
        context = {"receipt_code": carried["code"], "urgent": bool(carried.get("urgent"))}
        response = _page(request, "hotline/receipt.html", context)
    if RECEIPT_COOKIE in request.COOKIES:
        response.delete_cookie(RECEIPT_COOKIE, path=reverse("hotline:receipt"), samesite="Strict")
    return response


@never_cache
@same_origin_referrer
@require_http_methods(["GET", "HEAD", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """With a receipt code: the tip's status, the analyst's questions, and a form to answer."""
    if request.method != "POST":
        return _page(request, "hotline/status.html", {"code_form": ReceiptCodeForm()})
    code_form = ReceiptCodeForm(request.POST)
    window = settings.HOTLINE_STATUS_RATE_WINDOW_SECONDS
    allowed = hit(
        "hotline-status", request_client_key(request), limit=settings.HOTLINE_STATUS_RATE_LIMIT, window_seconds=window
    )
    if not allowed:
        code_form.add_error(None, rate_limited(window))
        return _limited_page(request, "hotline/status.html", {"code_form": code_form}, window)
    if not code_form.is_valid():
        return _page(request, "hotline/status.html", {"code_form": code_form}, status=400)
    code = code_form.cleaned_data["code"]
    tip = selectors.tip_for_receipt(code)
    if tip is None:
        code_form.add_error("code", _("Vi hittar inget tips med den koden. Kontrollera att du har skrivit rätt."))
        return _page(request, "hotline/status.html", {"code_form": code_form}, status=404)

    answer_form = ReporterAnswerForm(initial={"code": code})
    answer_sent = False
    if "answer" in request.POST:
        answer_form = ReporterAnswerForm(request.POST)
        if answer_form.is_valid():
            try:
                services.tip_reply_as_reporter(tip_id=tip.pk, body=answer_form.cleaned_data["answer"])
            except services.TransitionError:
                answer_form.add_error(None, _("Ärendet är avslutat, så du kan inte svara längre."))
            else:
                answer_sent = True
                answer_form = ReporterAnswerForm(initial={"code": code})
    context = {
        "tip": tip,
        "status_text": REPORTER_STATUS_TEXTS[Tip.Status(tip.status)],
        "messages_with_analyst": selectors.reporter_messages(tip),
        "answer_form": answer_form if tip.status != Tip.Status.CLOSED else None,
        "answer_sent": answer_sent,
    }
    return _page(request, "hotline/status_detail.html", context)
