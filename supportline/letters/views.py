"""The young person's letter pages under /chat/brev/ (English: /en/chat/letters/).

Post/redirect/get throughout, so a reload never sends a letter twice. The
code is only ever posted in a form body, never put in a URL: the new code
waits in the session for the one page that shows it, and an opened thread
is remembered in the session by id (quick exit flushes the session).
"""

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from privacy.ratelimit import hit, request_client_key
from privacy.referrer import same_origin_referrer
from privacy.uncached import never_cache
from supportline.letters import selectors, services
from supportline.letters.forms import LetterCodeForm, LetterForm, LetterReplyForm
from supportline.letters.models import Letter

NEW_CODE_KEY = "supportline.letters.new_code"
OPEN_KEY = "supportline.letters.open"
SENT_KEY = "supportline.letters.sent"
CLOSED_KEY = "supportline.letters.closed"


def _rate_limited() -> str:
    return _("Du har försökt många gånger på kort tid. Vänta en stund och försök sedan igen.")


def _may_write(request: HttpRequest) -> bool:
    return hit(
        "supportline-letter",
        request_client_key(request),
        limit=settings.SUPPORTLINE_LETTER_RATE_LIMIT,
        window_seconds=settings.SUPPORTLINE_LETTER_RATE_WINDOW_SECONDS,
    )


def _page_strings() -> dict[str, str]:
    """What letters.js says: the PII nudge (as in the chat) and the copy button."""
    return {
        "pii_personnummer": _("Det ser ut som ett personnummer."),
        "pii_phone": _("Det ser ut som ett telefonnummer."),
        "pii_email": _("Det ser ut som en mejladress."),
        "pii_address": _("Det ser ut som en adress."),
        "pii_hint": _(
            "Du behöver inte berätta vem du är eller var du bor för att få hjälp. "
            "Vill du skicka det ändå? Tryck på Skicka igen."
        ),
        "copied": _("Koden är kopierad."),
        "copy_failed": _("Det gick inte att kopiera. Skriv av koden i stället."),
    }


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {
        "promise": selectors.answer_promise(),
        "retention_days": settings.RETENTION_DAYS["letters"],
        "letter_strings": _page_strings(),
        **context,
    }
    return render(request, template, context, status=status)


def _index(
    request: HttpRequest,
    *,
    letter_form: LetterForm | None = None,
    code_form: LetterCodeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "letter_form": letter_form or LetterForm(),
        "code_form": code_form or LetterCodeForm(),
        "closed_notice": request.session.pop(CLOSED_KEY, False),
        "thread_open": _opened_letter(request) is not None,
    }
    return _render(request, "supportline/letters/index.html", context, status)


@never_cache
@same_origin_referrer
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Write a letter, or come back with a code to read the answer."""
    return _index(request)


@never_cache
@same_origin_referrer
@require_POST
def write(request: HttpRequest) -> HttpResponse:
    form = LetterForm(request.POST)
    if not form.is_valid():
        return _index(request, letter_form=form, status=400)
    if not _may_write(request):
        form.add_error(None, _rate_limited())
        return _index(request, letter_form=form, status=429)
    data = form.cleaned_data
    written = services.letter_write(text=data["text"], age_band=data["age_band"], topic=data["topic"])
    request.session[NEW_CODE_KEY] = written.code
    return redirect("supportline:letters-code")


@never_cache
@same_origin_referrer
@require_GET  # not HEAD: a probe must not use up the one showing
def code(request: HttpRequest) -> HttpResponse:
    """Shows a new letter's code once; a reload finds it gone and goes back to the start."""
    new_code = request.session.pop(NEW_CODE_KEY, None)
    if not new_code:
        return redirect("supportline:letters")
    return _render(request, "supportline/letters/code.html", {"letter_code": new_code})


@never_cache
@same_origin_referrer
@require_POST
def open_thread(request: HttpRequest) -> HttpResponse:
    """Checks a code and opens its thread for this session."""
    form = LetterCodeForm(request.POST)
    allowed = hit(
        "supportline-letter-code",
        request_client_key(request),
        limit=settings.SUPPORTLINE_LETTER_CODE_RATE_LIMIT,
        window_seconds=settings.SUPPORTLINE_LETTER_CODE_RATE_WINDOW_SECONDS,
    )
    if not allowed:
        form.add_error(None, _rate_limited())
        return _index(request, code_form=form, status=429)
    if not form.is_valid():
        return _index(request, code_form=form, status=400)
    letter = selectors.letter_for_code(form.cleaned_data["code"])
    if letter is None:
        form.add_error("code", _("Vi hittar inget brev med den koden. Kontrollera att du har skrivit rätt."))
        return _index(request, code_form=form, status=404)
    request.session.cycle_key()
    request.session[OPEN_KEY] = {
        "id": letter.pk,
        "until": time.time() + settings.SUPPORTLINE_LETTER_UNLOCK_MINUTES * 60,
    }
    return redirect("supportline:letters-thread")


def _opened_letter(request: HttpRequest) -> Letter | None:
    opened = request.session.get(OPEN_KEY)
    if not isinstance(opened, dict) or opened.get("until", 0) < time.time():
        request.session.pop(OPEN_KEY, None)
        return None
    return selectors.letter_for_young_person(int(opened["id"]))


@never_cache
@same_origin_referrer
@require_http_methods(["GET", "HEAD", "POST"])
def thread(request: HttpRequest) -> HttpResponse:
    """The opened thread: every message, and a form to write back while it is open."""
    letter = _opened_letter(request)
    if letter is None:
        return redirect("supportline:letters")
    form = LetterReplyForm()
    status = 200
    if request.method == "POST":
        form = LetterReplyForm(request.POST)
        if form.is_valid() and not _may_write(request):
            form.add_error(None, _rate_limited())
            status = 429
        elif form.is_valid():
            try:
                services.letter_reply_as_young_person(letter_id=letter.pk, text=form.cleaned_data["text"])
            except services.LetterError:
                form.add_error(None, _("Brevet är avslutat, så du kan inte svara längre."))
                status = 409
            else:
                request.session[SENT_KEY] = True
                return redirect("supportline:letters-thread")
        else:
            status = 400
    context = {
        "letter": letter,
        "thread": selectors.thread_for_young_person(letter),
        "reply_form": form if letter.status != Letter.Status.CLOSED else None,
        "sent": request.session.pop(SENT_KEY, False),
    }
    return _render(request, "supportline/letters/thread.html", context, status)


@never_cache
@require_POST
def close(request: HttpRequest) -> HttpResponse:
    """The young person ends the thread; it is then deleted after the retention period."""
    letter = _opened_letter(request)
    if letter is not None:
        services.letter_close_by_young_person(letter_id=letter.pk)
        request.session[CLOSED_KEY] = True
    request.session.pop(OPEN_KEY, None)
    return redirect("supportline:letters")


@never_cache
@require_POST
def lock(request: HttpRequest) -> HttpResponseRedirect:
    """Forgets the opened thread in this browser; the code opens it again."""
    request.session.pop(OPEN_KEY, None)
    return redirect("supportline:letters")
