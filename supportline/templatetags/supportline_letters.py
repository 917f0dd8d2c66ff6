"""The console's Brev tab, rendered with its own context so the chat console's view stays as it is."""

from typing import Any

from django import template
from django.conf import settings
from django.utils.translation import gettext as _

register = template.Library()


def _strings() -> dict[str, str]:
    return {
        "empty": _("Inga brev väntar på svar."),
        "open": _("Öppna"),
        "letter_title": _("Brev #%(id)s"),
        "waited_minutes": _("%(n)s min"),
        "waited_hours": _("%(n)s tim"),
        "waited_days": _("%(n)s d"),
        "overdue": _("försenat"),
        "risk": _("Risk"),
        "young_person": _("Den unga"),
        "counsellor": _("Rådgivare"),
        "draft_saved": _("Utkastet är sparat. Den unga ser det inte."),
        "sent": _("Svaret är skickat."),
        "claimed": _("Brevet är ditt."),
        "closed": _("Brevet är avslutat."),
        "reassigned": _("Brevet är flyttat."),
        "risk_marked": _("Akut risk är markerad. Gå igenom checklistan."),
        "confirm_close": _("Avsluta brevet? Den unga kan inte svara mer."),
        "not_claimed": _("Ingen har tagit brevet än."),
        "claimed_by": _("Tagen av %(name)s"),
        "error": _("Det gick inte: %(code)s"),
        "load_failed": _("Brevlistan kunde inte hämtas. Försöker igen …"),
    }


@register.inclusion_tag("admin/supportline/letters/console_panel.html", takes_context=True)
def letters_console_panel(context: template.Context) -> dict[str, Any]:
    return {
        "csrf_token": context.get("csrf_token"),
        "user_id": context.get("user_id"),
        "counsellors": context.get("counsellors", []),
        "escalation_steps": context.get("escalation_steps", []),
        "letter_max_length": settings.SUPPORTLINE_LETTER_MAX_LENGTH,
        "letter_console_strings": _strings(),
    }
