"""Reads for letters: the young person's thread, the console's queue, the start-page counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from staff.roles import Role, has_role
from staff.types import StaffUser
from supportline.letters import codes
from supportline.letters.models import Letter, LetterMessage
from supportline.models import Conversation, CounsellorProfile
from supportline.selectors import answers_young_people


def letter_for_code(code: str) -> Letter | None:
    """The letter a code belongs to, or None; a wrong code costs as much time as a right one."""
    parsed = codes.parse(code)
    if parsed is None:
        codes.check_verifier("0" * 12, None)
        return None
    lookup, verifier = parsed
    letter = Letter.objects.filter(code_lookup=codes.lookup_hash(lookup)).first()
    if not codes.check_verifier(verifier, letter.code_verifier if letter else None):
        return None
    return letter


def letter_for_young_person(letter_id: int) -> Letter | None:
    return Letter.objects.filter(pk=letter_id).first()


@dataclass(frozen=True)
class ThreadMessage:
    mine: bool
    text: str
    created_at: datetime


def thread_for_young_person(letter: Letter) -> list[ThreadMessage]:
    """The thread as the young person sees it: who wrote ("you" or "ECPAT"), never a counsellor's name."""
    return [
        ThreadMessage(mine=m.sender == LetterMessage.Sender.YOUNG_PERSON, text=m.text, created_at=m.created_at)
        for m in letter.messages.all()
    ]


def answer_promise() -> str:
    """ "Vi svarar inom tre vardagar.", from SUPPORTLINE_LETTER_ANSWER_WORKING_DAYS."""
    days = settings.SUPPORTLINE_LETTER_ANSWER_WORKING_DAYS
    words = {
        1: pgettext("antal dagar", "en"),
        2: pgettext("antal dagar", "två"),
        3: pgettext("antal dagar", "tre"),
        4: pgettext("antal dagar", "fyra"),
        5: pgettext("antal dagar", "fem"),
        6: pgettext("antal dagar", "sex"),
        7: pgettext("antal dagar", "sju"),
        8: pgettext("antal dagar", "åtta"),
        9: pgettext("antal dagar", "nio"),
        10: pgettext("antal dagar", "tio"),
    }
    number = words.get(days, str(days))
    return ngettext("Vi svarar inom %(days)s vardag.", "Vi svarar inom %(days)s vardagar.", days) % {"days": number}


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` moved ``days`` working days (Monday to Friday) on, at the same time of day."""
    moved = start
    remaining = days
    while remaining > 0:
        moved += timedelta(days=1)
        if moved.weekday() < 5:
            remaining -= 1
    return moved


def answer_due(letter: Letter) -> datetime | None:
    if letter.status != Letter.Status.WAITING or letter.waiting_since is None:
        return None
    local = timezone.localtime(letter.waiting_since)
    return add_working_days(local, settings.SUPPORTLINE_LETTER_ANSWER_WORKING_DAYS)


def is_overdue(letter: Letter, now: datetime | None = None) -> bool:
    due = answer_due(letter)
    return due is not None and due < (now or timezone.now())


# --- Staff ------------------------------------------------------------------------------


def _alias(user: Any) -> str:
    """A counsellor's alias from a ``select_related`` profile: no query per row."""
    if user is None:
        return ""
    try:
        alias = user.counsellor_profile.alias
    except CounsellorProfile.DoesNotExist:
        alias = ""
    return alias or user.first_name or _("rådgivaren")


def can_read(user: StaffUser, letter: Letter) -> bool:
    """Anyone in the chat roles may open an unclaimed letter (to decide); a claimed one is its counsellor's."""
    if has_role(user, Role.SUPERVISOR):
        return True
    return answers_young_people(user) and letter.claimed_by_id in (None, user.pk)


def can_write(user: StaffUser, letter: Letter) -> bool:
    return letter.status != Letter.Status.CLOSED and letter.claimed_by_id == user.pk


def _summary(letter: Letter, now: datetime) -> dict[str, Any]:
    waited = int((now - letter.waiting_since).total_seconds()) if letter.waiting_since else 0
    return {
        "id": letter.pk,
        "status": letter.status,
        "status_label": letter.get_status_display(),
        "age_band": letter.get_age_band_display() if letter.age_band else "",
        "topic": letter.get_topic_display() if letter.topic else "",
        "risk": letter.is_urgent,
        "waited_seconds": waited,
        "overdue": is_overdue(letter, now),
        "claimed_by": _alias(letter.claimed_by) if letter.claimed_by_id else None,
        "claimed_by_id": letter.claimed_by_id,
        "has_draft": bool(letter.draft_saved_at),
    }


def letters_board(user: StaffUser, now: datetime | None = None) -> dict[str, Any]:
    """The Brev tab: waiting letters by waiting time, the user's open letters, and (supervisors) the overdue ones."""
    now = now or timezone.now()
    waiting = list(
        Letter.objects.waiting().select_related("claimed_by", "claimed_by__counsellor_profile").in_queue_order()
    )
    mine = list(
        Letter.objects.open()
        .filter(claimed_by_id=user.pk)
        .select_related("claimed_by", "claimed_by__counsellor_profile")
        .order_by("waiting_since", "pk")
    )
    queue = [_summary(letter, now) for letter in waiting]
    return {
        "queue": queue,
        "mine": [_summary(letter, now) for letter in mine],
        "overdue": [row for row in queue if row["overdue"]],
        "supervisor": has_role(user, Role.SUPERVISOR),
    }


def letter_detail(letter_id: int, user: StaffUser, now: datetime | None = None) -> dict[str, Any]:
    """One letter as the console shows it: its messages, the user's draft and what the user may do."""
    now = now or timezone.now()
    letter = Letter.objects.select_related("claimed_by", "claimed_by__counsellor_profile").get(pk=letter_id)
    messages = [
        {
            "sender": m.sender,
            "author": _alias(m.author) if m.author_id else "",
            "text": m.text,
            "created_at": m.created_at.isoformat(),
        }
        for m in letter.messages.select_related("author", "author__counsellor_profile")
    ]
    writable = can_write(user, letter)
    return {
        "letter": _summary(letter, now),
        "messages": messages,
        "draft": letter.draft if writable else "",
        "writable": writable,
        "claimable": letter.status != Letter.Status.CLOSED and letter.claimed_by_id is None,
        "closed": letter.status == Letter.Status.CLOSED,
        "escalation_steps": letter.escalation_steps,
        "imminent_risk": letter.imminent_risk,
    }


@dataclass(frozen=True)
class WaitingCounts:
    chats: int
    letters: int


def waiting_counts() -> WaitingCounts:
    """Queued chats and unanswered letters, for the admin start page."""
    return WaitingCounts(chats=Conversation.objects.queued().count(), letters=Letter.objects.waiting().count())
