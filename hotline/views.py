"""The reporter's pages: the tip form, the one-time receipt, and the status page.

Every page here is ``never_cache``: nothing a reporter typed or was shown may
stay in a cache. Nothing about the reporter's network or device is read.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from hotline import selectors, services
from hotline.forms import ReceiptCodeForm, ReporterAnswerForm, TipForm
from hotline.models import Tip
from privacy.ratelimit import hit, request_client_key
from privacy.referrer import same_origin_referrer

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


RATE_LIMITED = _("Du har försökt många gånger på kort tid. Vänta en stund och försök sedan igen.")


@never_cache
@same_origin_referrer
@require_http_methods(["GET", "HEAD", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The tip form; a valid tip is stored and its receipt code shown once."""
    if request.method != "POST":
        return _page(request, "hotline/index.html", {"form": TipForm()})
    form = TipForm(request.POST)
    if form.is_honeypot_filled:
        return _page(request, "hotline/thanks.html")
    if not form.is_valid():
        return _page(request, "hotline/index.html", {"form": form}, status=400)
    allowed = hit(
        "hotline-tip",
        request_client_key(request),
        limit=settings.HOTLINE_TIP_RATE_LIMIT,
        window_seconds=settings.HOTLINE_TIP_RATE_WINDOW_SECONDS,
    )
    if not allowed:
        form.add_error(None, RATE_LIMITED)
        return _page(request, "hotline/index.html", {"form": form}, status=429)
    data = form.cleaned_data
    submitted = services.tip_submit(
        category=data["category"],
        urls=data["urls"],
        place=data["place"],
        occurred=data["occurred"],
        description=data["description"],
        contact=data["contact"],
        urgent=data["urgent"],
    )
    context = {"receipt_code": submitted.receipt_code, "urgent": submitted.tip.is_urgent}
    return _page(request, "hotline/receipt.html", context)


@never_cache
@same_origin_referrer
@require_http_methods(["GET", "HEAD", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """With a receipt code: the tip's status, the analyst's questions, and a form to answer."""
    if request.method != "POST":
        return _page(request, "hotline/status.html", {"code_form": ReceiptCodeForm()})
    code_form = ReceiptCodeForm(request.POST)
    allowed = hit(
        "hotline-status",
        request_client_key(request),
        limit=settings.HOTLINE_STATUS_RATE_LIMIT,
        window_seconds=settings.HOTLINE_STATUS_RATE_WINDOW_SECONDS,
    )
    if not allowed:
        code_form.add_error(None, RATE_LIMITED)
        return _page(request, "hotline/status.html", {"code_form": code_form}, status=429)
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
