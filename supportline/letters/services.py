"""Every write on letters. Check first, then act; staff actions are audited.

Failures a caller should show raise :class:`LetterError` with a stable
``code``. Audit events carry ids only, never text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record_event
from staff.roles import Role, has_role
from staff.types import StaffUser
from supportline.letters import codes, selectors
from supportline.letters.models import Letter, LetterMessage
from supportline.models import Conversation
from supportline.selectors import answers_young_people


class LetterError(Exception):
    """A refused action; ``code`` is stable and shown to staff as is."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _audit(actor: StaffUser, action: str, letter_id: int) -> None:
    """One audit event about a letter: who did what, never what was written."""
    record_event(
        actor=actor, action=f"supportline.letter.{action}", object_type="supportline.Letter", object_id=letter_id
    )


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise LetterError("empty")
    if len(text) > settings.SUPPORTLINE_LETTER_MAX_LENGTH:
        raise LetterError("text_too_long")
    return text


# --- The young person -----------------------------------------------------------------


@dataclass(frozen=True)
class WrittenLetter:
    letter: Letter
    code: str


def letter_write(*, text: str, age_band: str = "", topic: str = "") -> WrittenLetter:
    """Stores a new letter and returns it with its code, which is shown once and never stored."""
    text = _clean_text(text)
    if age_band not in ("", *Conversation.AgeBand.values):
        raise LetterError("invalid_age_band")
    if topic not in ("", *Conversation.Topic.values):
        raise LetterError("invalid_topic")
    for _attempt in range(5):
        code = codes.generate()
        try:
            with transaction.atomic():
                now = timezone.now()
                letter = Letter.objects.create(
                    code_lookup=codes.lookup_hash(code.lookup),
                    code_verifier=codes.hash_verifier(code.verifier),
                    age_band=age_band,
                    topic=topic,
                    waiting_since=now,
                )
                LetterMessage.objects.create(letter=letter, sender=LetterMessage.Sender.YOUNG_PERSON, text=text)
        except IntegrityError:  # a lookup collision (about 1 in 2**38): draw another code
            continue
        return WrittenLetter(letter=letter, code=code.code)
    raise LetterError("no_code")


def letter_reply_as_young_person(*, letter_id: int, text: str) -> LetterMessage:
    """The young person writes back; the letter waits for an answer again."""
    text = _clean_text(text)
    with transaction.atomic():
        letter = Letter.objects.select_for_update().get(pk=letter_id)
        if letter.status == Letter.Status.CLOSED:
            raise LetterError("closed")
        message = LetterMessage.objects.create(letter=letter, sender=LetterMessage.Sender.YOUNG_PERSON, text=text)
        if letter.status != Letter.Status.WAITING:
            letter.status = Letter.Status.WAITING
            letter.waiting_since = timezone.now()
            letter.save(update_fields=["status", "waiting_since"])
    return message


def letter_close_by_young_person(*, letter_id: int) -> Letter:
    with transaction.atomic():
        letter = Letter.objects.select_for_update().get(pk=letter_id)
        if letter.status != Letter.Status.CLOSED:
            _close(letter, Letter.ClosedBy.YOUNG_PERSON)
    return letter


def _close(letter: Letter, by: Letter.ClosedBy) -> None:
    letter.status = Letter.Status.CLOSED
    letter.closed_at = timezone.now()
    letter.closed_by = by
    letter.draft = ""
    letter.draft_saved_at = None
    letter.save(update_fields=["status", "closed_at", "closed_by", "draft", "draft_saved_at"])


# --- Counsellors ------------------------------------------------------------------------


def _require_staff(user: StaffUser) -> None:
    if not answers_young_people(user):
        raise LetterError("forbidden")


def _locked_for(letter_id: int, user: StaffUser) -> Letter:
    """The letter, locked, when ``user`` holds it (or is a supervisor)."""
    letter = Letter.objects.select_for_update().filter(pk=letter_id).first()
    if letter is None:
        raise LetterError("not_found")
    if letter.claimed_by_id != user.pk and not has_role(user, Role.SUPERVISOR):
        raise LetterError("forbidden")
    return letter


def letter_opened(*, letter_id: int, user: StaffUser) -> Letter:
    """Checks that ``user`` may read the letter, and audits the read."""
    _require_staff(user)
    letter = Letter.objects.filter(pk=letter_id).first()
    if letter is None:
        raise LetterError("not_found")
    if not selectors.can_read(user, letter):
        raise LetterError("forbidden")
    _audit(user, "viewed", letter.pk)
    return letter


def letter_claim(*, letter_id: int, counsellor: StaffUser) -> Letter:
    """Gives an unclaimed letter to a counsellor."""
    _require_staff(counsellor)
    with transaction.atomic():
        letter = Letter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None:
            raise LetterError("not_found")
        if letter.status == Letter.Status.CLOSED:
            raise LetterError("closed")
        if letter.claimed_by_id not in (None, counsellor.pk):
            raise LetterError("already_claimed")
        letter.claimed_by = counsellor
        letter.claimed_at = timezone.now()
        letter.save(update_fields=["claimed_by", "claimed_at"])
        _audit(counsellor, "claimed", letter.pk)
    return letter


def letter_save_draft(*, letter_id: int, counsellor: StaffUser, text: str) -> Letter:
    """Keeps the counsellor's answer unsent; an empty text clears the draft."""
    _require_staff(counsellor)
    text = (text or "").strip()
    if len(text) > settings.SUPPORTLINE_LETTER_MAX_LENGTH:
        raise LetterError("text_too_long")
    with transaction.atomic():
        letter = _locked_for(letter_id, counsellor)
        if not selectors.can_write(counsellor, letter):
            raise LetterError("not_yours")
        letter.draft = text
        letter.draft_saved_at = timezone.now() if text else None
        letter.save(update_fields=["draft", "draft_saved_at"])
    return letter


def letter_answer(*, letter_id: int, counsellor: StaffUser, text: str) -> LetterMessage:
    """Sends the counsellor's answer to the young person and clears the draft."""
    _require_staff(counsellor)
    text = _clean_text(text)
    with transaction.atomic():
        letter = _locked_for(letter_id, counsellor)
        if not selectors.can_write(counsellor, letter):
            raise LetterError("not_yours")
        message = LetterMessage.objects.create(
            letter=letter, sender=LetterMessage.Sender.COUNSELLOR, author=counsellor, text=text
        )
        letter.status = Letter.Status.ANSWERED
        letter.answered_at = timezone.now()
        letter.draft = ""
        letter.draft_saved_at = None
        letter.save(update_fields=["status", "answered_at", "draft", "draft_saved_at"])
        _audit(counsellor, "answered", letter.pk)
    return message


def letter_close_by_staff(*, letter_id: int, actor: StaffUser) -> Letter:
    _require_staff(actor)
    with transaction.atomic():
        letter = _locked_for(letter_id, actor)
        if letter.status != Letter.Status.CLOSED:
            _close(letter, Letter.ClosedBy.COUNSELLOR)
        _audit(actor, "closed", letter.pk)
    return letter


def letter_mark_risk(*, letter_id: int, actor: StaffUser) -> Letter:
    """Marks imminent risk: the letter goes first in the queue and the escalation checklist opens."""
    _require_staff(actor)
    with transaction.atomic():
        letter = _locked_for(letter_id, actor)
        if not letter.imminent_risk:
            letter.imminent_risk = True
            letter.risk_marked_at = timezone.now()
            letter.save(update_fields=["imminent_risk", "risk_marked_at"])
        _audit(actor, "risk_marked", letter.pk)
    return letter


def letter_escalation_step_done(*, letter_id: int, actor: StaffUser, step: str) -> Letter:
    """Ticks one step of the imminent-risk checklist (idempotent; each tick is audited)."""
    if step not in Conversation.EscalationStep.values:
        raise LetterError("invalid_step")
    _require_staff(actor)
    with transaction.atomic():
        letter = _locked_for(letter_id, actor)
        if step not in letter.escalation_steps:
            letter.escalation_steps = [*letter.escalation_steps, step]
            letter.save(update_fields=["escalation_steps"])
        _audit(actor, f"escalation.{step}", letter.pk)
    return letter


def letter_reassign(*, letter_id: int, supervisor: StaffUser, to_user_id: int | None) -> Letter:
    """A supervisor gives a letter to another counsellor, or back to the queue (``None``)."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise LetterError("forbidden")
    to_user = None
    if to_user_id is not None:
        to_user = get_user_model().objects.filter(pk=to_user_id, is_active=True).first()
        if to_user is None or not answers_young_people(to_user):
            raise LetterError("invalid_counsellor")
    with transaction.atomic():
        letter = Letter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None:
            raise LetterError("not_found")
        if letter.status == Letter.Status.CLOSED:
            raise LetterError("closed")
        letter.claimed_by = to_user
        letter.claimed_at = timezone.now() if to_user else None
        # A draft is the previous counsellor's words: it does not travel.
        letter.draft = ""
        letter.draft_saved_at = None
        letter.save(update_fields=["claimed_by", "claimed_at", "draft", "draft_saved_at"])
        _audit(supervisor, "reassigned", letter.pk)
    return letter


# --- Retention ----------------------------------------------------------------------------


def close_idle_letters(now: datetime | None = None) -> int:
    """Closes answered threads the young person has not come back to within
    ``SUPPORTLINE_LETTER_IDLE_CLOSE_DAYS``; returns how many. A thread waiting for
    a counsellor is never closed this way."""
    now = now or timezone.now()
    idle_since = now - timedelta(days=settings.SUPPORTLINE_LETTER_IDLE_CLOSE_DAYS)
    return Letter.objects.filter(status=Letter.Status.ANSWERED, answered_at__lt=idle_since).update(
        status=Letter.Status.CLOSED,
        closed_at=now,
        closed_by=Letter.ClosedBy.INACTIVITY,
        draft="",
        draft_saved_at=None,
    )


def purge_letters(cutoff: datetime) -> int:
    """Closes idle answered threads, then deletes letter threads closed before ``cutoff``,
    with every message; returns how many messages were deleted."""
    close_idle_letters()
    with transaction.atomic():
        ids = list(Letter.objects.closed().filter(closed_at__lt=cutoff).values_list("pk", flat=True))
        deleted, _ = LetterMessage.objects.filter(letter_id__in=ids).delete()
        Letter.objects.filter(pk__in=ids).delete()
    return deleted
