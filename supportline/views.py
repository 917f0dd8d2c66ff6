"""The young person's pages: the chat, the quick-exit beacon, and the feedback form."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from privacy.ratelimit import hit, request_client_key
from privacy.uncached import never_cache
from supportline import selectors, services
from supportline.models import Conversation, Feedback


def _chat_strings() -> dict[str, str | list[str]]:
    """Everything chat.js says, translated on the server."""
    return {
        "sending": _("Skickar …"),
        "sent": _("Skickat"),
        "retrying": _("Inte skickat, försöker igen"),
        "you": _("Du"),
        "counsellor": _("Rådgivaren"),
        "system": _("ECPAT"),
        "queue_position": _("Du är nummer %(position)s i kön."),
        "queue_first": _("Du är näst på tur."),
        # The forms for 1 and for 2: Swedish and English both use the first for exactly 1
        # only (plural=(n != 1)), so chat.js says "1 minut" and "2 minuter" correctly.
        "wait_estimate": [
            ngettext(
                "Det tar ungefär %(minutes)s minut innan någon svarar.",
                "Det tar ungefär %(minutes)s minuter innan någon svarar.",
                n,
            )
            for n in (1, 2)
        ],
        "wait_soon": _("Snart är det din tur. En rådgivare har tid för dig."),
        "wait_unknown": _("Vi vet inte exakt hur länge det tar, men vi svarar så snart vi kan."),
        "talking_with": _("Du chattar med %(name)s."),
        "joined": _("%(name)s har kommit in i chatten. Du chattar med %(name)s."),
        "back_in_queue": _("%(name)s har lämnat chatten. Du står i kön igen, så nästa rådgivare kan svara dig."),
        "new_counsellor": _("Nu chattar du med %(name)s i stället."),
        "typing": _("%(name)s skriver …"),
        "reconnecting": _("Anslutningen bröts. Vi försöker ansluta igen …"),
        "connected": _("Ansluten igen."),
        "ended_by_counsellor": _("Rådgivaren har avslutat chatten."),
        "closed": _("Chatten har precis stängt. Du kan inte starta en ny chatt just nu."),
        "chat_gone": _("Den här chatten är redan avslutad."),
        "blocked": _("Du kan inte chatta med oss just nu."),
        "too_long": _("Meddelandet är för långt. Dela upp det i flera delar."),
        "empty": _("Skriv något först."),
        "slow_down": _("Du skickar väldigt snabbt. Vi skickar meddelandet om en liten stund."),
        "pii_personnummer": _("Det ser ut som ett personnummer."),
        "pii_phone": _("Det ser ut som ett telefonnummer."),
        "pii_email": _("Det ser ut som en mejladress."),
        "pii_address": _("Det ser ut som en adress."),
        "pii_hint": _(
            "Du behöver inte berätta vem du är eller var du bor för att få hjälp. "
            "Vill du skicka det ändå? Tryck på Skicka igen."
        ),
        "error": _("Något gick fel. Försök igen."),
    }


@require_safe
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    status = selectors.opening_status()
    context = {
        "status": status,
        "other_help": selectors.other_help(),
        "age_bands": Conversation.AgeBand.choices,
        "topics": Conversation.Topic.choices,
        "retention_days": settings.RETENTION_DAYS["transcripts"],
        "max_length": settings.SUPPORTLINE_MAX_MESSAGE_LENGTH,
        "strings": _chat_strings(),
        "feedback_answers": Feedback.Answer.choices,
        "leave_url": reverse("supportline:leave"),
    }
    return render(request, "supportline/index.html", context)


@csrf_exempt  # the secret chat token is the authorisation; a beacon cannot carry a CSRF token
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """Quick exit: ends the chat as "left" even if the socket's own frame was lost."""
    if not hit("supportline-leave", request_client_key(request), limit=30, window_seconds=60):
        return HttpResponse(status=429)
    token = request.POST.get("token") or request.body[:200].decode("utf-8", "ignore")
    services.conversation_leave_by_token(token.strip())
    return HttpResponse(status=204)


@require_POST
def feedback(request: HttpRequest) -> HttpResponse:
    """One anonymous answer after a chat; it is not linked to the chat."""
    answer = request.POST.get("answer", "")
    if answer not in Feedback.Answer.values:
        return render(
            request,
            "supportline/feedback_thanks.html",
            {"error": _("Välj ett av svaren, eller hoppa över frågan."), "feedback_answers": Feedback.Answer.choices},
            status=400,
        )
    if hit("supportline-feedback", request_client_key(request), limit=10, window_seconds=3600):
        services.feedback_give(answer=answer)
    return redirect("supportline:feedback-thanks")


@require_safe
def feedback_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "supportline/feedback_thanks.html", {"feedback_answers": Feedback.Answer.choices})
