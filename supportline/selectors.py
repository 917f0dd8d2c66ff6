"""Reads for the support line: opening hours, the queue, transcripts, dashboards."""

from __future__ import annotations

import hashlib
import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from staff.roles import Role, has_role
from staff.types import StaffUser
from supportline.models import (
    CannedResponse,
    Classification,
    Conversation,
    CounsellorProfile,
    Message,
    OpeningHours,
    OtherHelp,
    SpecialDay,
    VisitorBlock,
)

# --- Tokens ------------------------------------------------------------------


def token_hash(token: str) -> str:
    """The stored form of a session token; the token itself is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def conversation_for_token(token: str) -> Conversation | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    return Conversation.objects.filter(token_hash=token_hash(token)).first()


def token_is_blocked(hashed: str, now: datetime | None = None) -> bool:
    return VisitorBlock.objects.filter(token_hash=hashed, expires_at__gt=now or timezone.now()).exists()


@dataclass(frozen=True)
class ResumeTarget:
    """What a visitor's token opens, and why it may not be resumed (``refusal``)."""

    conversation_id: int
    token_hash: str
    refusal: str | None


def conversation_for_resume(token: str) -> ResumeTarget | None:
    """The chat a visitor's token opens; None when no chat has the token.

    An ended chat carries a ``refusal`` of ``"blocked"`` (its token is blocked)
    or ``"chat_ended"``.
    """
    conversation = conversation_for_token(token)
    if conversation is None:
        return None
    hashed = conversation.token_hash or ""
    refusal = None
    if conversation.status == Conversation.Status.ENDED:
        refusal = "blocked" if token_is_blocked(hashed) else "chat_ended"
    return ResumeTarget(conversation.pk, hashed, refusal)


# --- Opening hours -------------------------------------------------------------


@dataclass
class OpeningStatus:
    is_open: bool
    next_opening: datetime | None
    weekly: list[OpeningHours] = field(default_factory=list)
    upcoming_special_days: list[SpecialDay] = field(default_factory=list)


def _intervals_for(
    day: date, special: dict[date, SpecialDay], weekly: list[OpeningHours]
) -> list[tuple[datetime, datetime]]:
    tz = timezone.get_current_timezone()
    if day in special:
        entry = special[day]
        pairs = [(entry.opens, entry.closes)] if entry.opens and entry.closes else []
    else:
        pairs = [(h.opens, h.closes) for h in weekly if h.weekday == day.weekday()]
    intervals = []
    for opens, closes in pairs:
        start = datetime.combine(day, opens, tzinfo=tz)
        end_day = day if closes > opens else day + timedelta(days=1)  # 00:00 or earlier: past midnight
        intervals.append((start, datetime.combine(end_day, closes, tzinfo=tz)))
    return intervals


def opening_status(now: datetime | None = None) -> OpeningStatus:
    """Whether the chat is open now and, if not, when it opens next (within two weeks)."""
    now = timezone.localtime(now or timezone.now())
    weekly = list(OpeningHours.objects.all())
    today = now.date()
    special = {s.date: s for s in SpecialDay.objects.filter(date__gte=today - timedelta(days=1))}
    is_open = False
    next_opening = None
    for offset in range(-1, 15):
        for start, end in _intervals_for(today + timedelta(days=offset), special, weekly):
            if start <= now < end:
                is_open = True
            elif start > now and (next_opening is None or start < next_opening):
                next_opening = start
        if next_opening is not None and offset >= 1:
            break
    upcoming = [s for d, s in sorted(special.items()) if today <= d <= today + timedelta(days=31)]
    return OpeningStatus(is_open, next_opening, weekly, upcoming)


def other_help() -> list[OtherHelp]:
    return list(OtherHelp.objects.all())


# --- Queue ---------------------------------------------------------------------


def queued_conversations() -> list[Conversation]:
    """The queue: urgent chats first, then the longest waiting."""
    return list(Conversation.objects.queued().in_queue_order())


def queue_position(conversation_id: int) -> int | None:
    """1-based place in the queue, or None when the chat is not queued."""
    for index, conversation in enumerate(queued_conversations(), start=1):
        if conversation.pk == conversation_id:
            return index
    return None


def estimated_wait_minutes(position: int, now: datetime | None = None) -> int | None:
    """An honest estimate from recent history, or None when there is too little to go on.

    With at least two chats answered in the last two hours it divides the
    position by that pace; otherwise it uses the median wait of the last
    twenty answered chats of the past week.
    """
    now = now or timezone.now()
    recent_claims = Conversation.objects.filter(claimed_at__gte=now - timedelta(hours=2)).count()
    if recent_claims >= 2:
        per_minute = recent_claims / 120
        return max(1, math.ceil(position / per_minute))
    waits = [
        (claimed - queued).total_seconds() / 60
        for queued, claimed in Conversation.objects.filter(
            claimed_at__gte=now - timedelta(days=7), queued_at__isnull=False
        )
        .order_by("-claimed_at")
        .values_list("queued_at", "claimed_at")[:20]
        if queued is not None and claimed is not None
    ]
    if not waits:
        return None
    return max(1, math.ceil(statistics.median(waits) * position))


def queue_frame(conversation_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """What a queued visitor sees: position, estimated wait, and whether the wait is long."""
    now = now or timezone.now()
    position = queue_position(conversation_id)
    if position is None:
        return None
    estimate = estimated_wait_minutes(position, now)
    queued_at = Conversation.objects.filter(pk=conversation_id).values_list("queued_at", flat=True).first()
    waited = (now - queued_at).total_seconds() / 60 if queued_at else 0
    long_after = settings.SUPPORTLINE_LONG_WAIT_MINUTES
    return {
        "type": "queue",
        "position": position,
        "estimated_wait_minutes": estimate,
        "long_wait": waited >= long_after or (estimate is not None and estimate >= long_after),
    }


# --- Conversations, as the two sides see them ------------------------------------


def counsellor_alias(user: StaffUser | None) -> str:
    if user is None:
        return ""
    profile = CounsellorProfile.objects.filter(user=user).first()
    return (profile.alias if profile else "") or user.first_name or _("rådgivaren")


def chat_cap(user: StaffUser) -> int:
    profile = CounsellorProfile.objects.filter(user=user).first()
    if profile and profile.max_chats:
        return int(profile.max_chats)
    return int(settings.SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR)


def visitor_state_frame(conversation_id: int) -> dict[str, Any]:
    conversation = Conversation.objects.select_related("counsellor").get(pk=conversation_id)
    return {
        "type": "state",
        "status": conversation.status,
        "counsellor": counsellor_alias(conversation.counsellor) if conversation.counsellor_id else None,
        "end_reason": conversation.end_reason or None,
    }


def message_frames_after(conversation_id: int, after_seq: int, *, for_staff: bool = False) -> list[dict[str, Any]]:
    """Every message after ``after_seq``, in order, as ``message`` frames."""
    frames = []
    for message in Message.objects.filter(conversation_id=conversation_id, seq__gt=after_seq).order_by("seq"):
        frame: dict[str, Any] = {
            "type": "message",
            "seq": message.seq,
            "sender": message.sender,
            "client_id": message.client_id,
            "text": message.text,
            "sent_at": message.created_at.isoformat(),
        }
        if for_staff:
            frame["conversation_id"] = conversation_id
        frames.append(frame)
    return frames


def can_write(user: StaffUser, conversation: Conversation) -> bool:
    return conversation.status == Conversation.Status.ACTIVE and conversation.counsellor_id == user.pk


def can_read(user: StaffUser, conversation: Conversation) -> bool:
    """The assigned counsellor reads their chat; a supervisor may read every chat."""
    return conversation.counsellor_id == user.pk or has_role(user, Role.SUPERVISOR)


def _summary(conversation: Conversation, now: datetime) -> dict[str, Any]:
    since = conversation.queued_at or conversation.created_at
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "age_band": conversation.get_age_band_display() if conversation.age_band else "",
        "topic": conversation.get_topic_display() if conversation.topic else "",
        "risk": conversation.is_urgent,
        "waited_seconds": int((now - since).total_seconds()),
        "visitor_connected": conversation.visitor_connected,
        "counsellor": counsellor_alias(conversation.counsellor) if conversation.counsellor_id else None,
        "counsellor_id": conversation.counsellor_id,
        "last_seq": conversation.last_seq,
        "escalation_steps": conversation.escalation_steps,
    }


def staff_dashboard(user: StaffUser, now: datetime | None = None) -> dict[str, Any]:
    """Everything the console shows: the queue, my chats, and (supervisors) every live chat."""
    now = now or timezone.now()
    mine = Conversation.objects.for_counsellor(user.pk).active() | (
        Conversation.objects.for_counsellor(user.pk).ended().unclassified()
    )
    frame: dict[str, Any] = {
        "type": "dashboard",
        "queue": [_summary(c, now) for c in queued_conversations()],
        "mine": [_summary(c, now) for c in mine.select_related("counsellor").order_by("claimed_at")],
        "cap": chat_cap(user),
        "supervisor": has_role(user, Role.SUPERVISOR),
        "live": [],
    }
    if frame["supervisor"]:
        live = Conversation.objects.active().exclude(counsellor_id=user.pk)
        frame["live"] = [_summary(c, now) for c in live.select_related("counsellor").order_by("claimed_at")]
    return frame


def counsellors_on_duty() -> list[dict[str, Any]]:
    """Counsellors a chat can be transferred to, by alias."""
    from django.contrib.auth import get_user_model

    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=[Role.COUNSELLOR, Role.SUPERVISOR])
        .distinct()
        .annotate(
            active=Count(
                "supportline_conversations",
                filter=Q(supportline_conversations__status=Conversation.Status.ACTIVE),
            )
        )
        .order_by("first_name", "username")
    )
    return [{"id": u.pk, "alias": counsellor_alias(u), "active": u.active} for u in users]


def canned_responses() -> list[CannedResponse]:
    return list(CannedResponse.objects.filter(active=True))


def active_chat_count(user: StaffUser) -> int:
    return Conversation.objects.for_counsellor(user.pk).active().count()


def may_signal_typing(conversation_id: int, user: StaffUser) -> bool:
    """Only the assigned counsellor's typing reaches the visitor: monitoring is silent."""
    return Conversation.objects.filter(pk=conversation_id).for_counsellor(user.pk).exists()


def readable_chat_frame(conversation_id: int, user: StaffUser) -> dict[str, Any] | None:
    """The chat as ``user``'s console shows it, or None once ``user`` may no longer read it."""
    conversation = Conversation.objects.get(pk=conversation_id)
    if not can_read(user, conversation):
        return None
    return staff_chat_frame(conversation_id, user)


def staff_chat_frame(conversation_id: int, user: StaffUser) -> dict[str, Any]:
    """One chat as the console shows it: summary, internal notes, and what ``user`` may do."""
    conversation = Conversation.objects.select_related("counsellor").get(pk=conversation_id)
    notes = [
        {"author": counsellor_alias(note.author), "text": note.text, "created_at": note.created_at.isoformat()}
        for note in conversation.notes.select_related("author")
    ]
    return {
        "type": "chat",
        "conversation": _summary(conversation, timezone.now()),
        "end_reason": conversation.end_reason or None,
        "notes": notes,
        "writable": can_write(user, conversation),
        "monitoring": conversation.counsellor_id != user.pk,
        "classified": Classification.objects.filter(conversation=conversation).exists(),
        "transcript_deleted": conversation.transcript_deleted_at is not None,
    }
