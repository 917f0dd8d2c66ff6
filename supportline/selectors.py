"""Reads for the support line: opening hours, the queue, transcripts, dashboards."""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import AsyncConnection

from staff.roles import Role, has_role
from staff.types import StaffUser
from supportline import db
from supportline.loops import PerLoop
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
from supportline.recent import recent_messages

logger = logging.getLogger(__name__)

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
    # While open: when the current opening ends (None when that is more than a day away).
    closes_at: datetime | None = None


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


# Moved on whenever opening hours or special days change (supportline.signals).
OPENING_GENERATION_KEY = "supportline:opening-generation"


def opening_status(now: datetime | None = None) -> OpeningStatus:
    """Whether the chat is open now and, if not, when it opens next (within two weeks)."""
    now = timezone.localtime(now or timezone.now())
    weekly = list(OpeningHours.objects.all())
    today = now.date()
    special = {s.date: s for s in SpecialDay.objects.filter(date__gte=today - timedelta(days=1))}
    is_open = False
    next_opening = None
    closes_at = None
    intervals: list[tuple[datetime, datetime]] = []
    for offset in range(-1, 15):
        for start, end in _intervals_for(today + timedelta(days=offset), special, weekly):
            intervals.append((start, end))
            if start <= now < end:
                is_open = True
                closes_at = end if closes_at is None else max(closes_at, end)
            elif start > now and (next_opening is None or start < next_opening):
                next_opening = start
        if next_opening is not None and offset >= 1:
            break
    # Back-to-back openings (one that closes at midnight, the next that opens then) are one.
    extended = True
    while closes_at is not None and extended:
        extended = False
        for start, end in intervals:
            if start <= closes_at < end:
                closes_at, extended = end, True
    if closes_at is not None and closes_at - now > timedelta(hours=24):
        closes_at = None  # open around the clock: no closing time worth showing
    upcoming = [s for d, s in sorted(special.items()) if today <= d <= today + timedelta(days=31)]
    return OpeningStatus(is_open, next_opening, weekly, upcoming, closes_at)


def other_help() -> list[OtherHelp]:
    return list(OtherHelp.objects.all())


# --- Queue and dashboards: one snapshot per change ---------------------------------


# How far back real waits count, how many of the newest are used, and how many a
# group of comparable queue positions needs before its median is worth saying.
WAIT_HISTORY_DAYS = 14
WAIT_HISTORY_SIZE = 300
WAIT_MIN_SAMPLES = 5
# Those ahead of a young person joined at most this long before them.
WAIT_LOOKBACK = timedelta(hours=6)
# A console refreshes its counsellor's presence on its pings (every 15 s); a
# counsellor whose console has gone quiet for longer is no longer on duty.
ON_DUTY_SECONDS = 75


def on_duty_key(user_id: int) -> str:
    """The cache key that says a counsellor has the console open."""
    return f"supportline.on-duty.{int(user_id)}"


def position_band(position: int) -> int:
    """Comparable queue positions share a band: 1, 2, 3–4, 5–8, 9–16, …"""  # noqa: RUF002
    return 1 + (max(position, 1) - 1).bit_length()


@dataclass(frozen=True)
class WaitEstimate:
    """What the queue screen says about the wait: ``soon``, a number of minutes, or nothing (``None``)."""

    soon: bool
    minutes: int | None


@dataclass(frozen=True)
class QueueOutlook:
    """What the counsellors on duty now and the recent real waits say about waiting.

    ``on_duty`` counts the counsellors with the console open and
    ``free_places`` the chats they can still take at once (both ``None`` when
    the roster cannot be known); ``waits`` holds recent real waits in minutes,
    by :func:`position_band` of the place each young person had on joining.
    """

    on_duty: int | None
    free_places: int | None
    waits: dict[int, list[float]]

    def estimate(self, position: int) -> WaitEstimate:
        """ "Soon" when the counsellors on duty have a free place for everyone up to
        ``position``; otherwise the median real wait at comparable positions, or
        nothing when nobody is on duty or that history is too thin."""
        if self.free_places is not None and self.free_places >= position:
            return WaitEstimate(soon=True, minutes=None)
        if self.on_duty == 0:
            return WaitEstimate(soon=False, minutes=None)
        waits = self.waits.get(position_band(position), [])
        if len(waits) < WAIT_MIN_SAMPLES:
            return WaitEstimate(soon=False, minutes=None)
        return WaitEstimate(soon=False, minutes=max(1, math.ceil(statistics.median(waits))))


def recent_waits(now: datetime | None = None) -> dict[int, list[float]]:
    """The newest real waits (claimed_at − queued_at, in minutes), by the band of the place
    each young person had on joining the queue (how many were waiting then, plus one).

    One query over the window's chats; the places are worked out here, each from
    the chats that joined in the hours before (nobody waits longer than that).
    """  # noqa: RUF002
    now = now or timezone.now()
    since = now - timedelta(days=WAIT_HISTORY_DAYS)
    rows = sorted(
        (
            (queued, claimed, ended)
            for queued, claimed, ended in Conversation.objects.filter(
                queued_at__gte=since - WAIT_LOOKBACK, queued_at__lte=now
            ).values_list("queued_at", "claimed_at", "ended_at")
            if queued is not None
        ),
        key=lambda row: row[0],
    )
    joined_at = [queued for queued, _, _ in rows]
    answered = sorted(
        ((claimed, queued) for queued, claimed, _ in rows if claimed is not None and since <= claimed <= now),
        reverse=True,
    )[:WAIT_HISTORY_SIZE]
    waits: dict[int, list[float]] = {}
    for claimed, queued in answered:
        if claimed < queued:
            continue
        first = bisect.bisect_left(joined_at, queued - WAIT_LOOKBACK)
        last = bisect.bisect_left(joined_at, queued)
        ahead = sum(
            1
            for _, other_claimed, other_ended in rows[first:last]
            if (other_claimed is None or other_claimed > queued) and (other_ended is None or other_ended > queued)
        )
        waits.setdefault(position_band(ahead + 1), []).append((claimed - queued).total_seconds() / 60)
    return waits


def counsellors_on_duty_now(user_ids: list[int]) -> set[int] | None:
    """Which of ``user_ids`` have the console open now; None when the cache cannot say."""
    if not user_ids:
        return set()
    try:
        found = cache.get_many([on_duty_key(user_id) for user_id in user_ids])
    except Exception as exc:  # an unknown roster must not stop the queue screen
        logger.warning("on-duty roster unavailable: %s", type(exc).__name__)
        return None
    return {user_id for user_id in user_ids if found.get(on_duty_key(user_id))}


def free_places(on_duty: set[int], caps: dict[int, int], active: dict[int, int]) -> int:
    """How many more chats the counsellors ``on_duty`` can take, each within their cap."""
    default = int(settings.SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR)
    return sum(max(0, caps.get(user_id, default) - active.get(user_id, 0)) for user_id in on_duty)


def queue_outlook(now: datetime | None = None) -> QueueOutlook:
    """The counsellors on duty now with their free places, and the recent real waits."""
    now = now or timezone.now()
    staff = _chat_staff_caps()
    active: dict[int, int] = {}
    for counsellor_id in Conversation.objects.active().values_list("counsellor_id", flat=True):
        if counsellor_id is not None:
            active[counsellor_id] = active.get(counsellor_id, 0) + 1
    return _outlook(now, staff, active)


def _outlook(
    now: datetime,
    staff: dict[int, int | None],
    active: dict[int, int],
    waits: dict[int, list[float]] | None = None,
) -> QueueOutlook:
    on_duty = counsellors_on_duty_now(sorted(staff))
    caps = {user_id: cap for user_id, cap in staff.items() if cap}
    if waits is None:
        waits = recent_waits(now)
    if on_duty is None:
        return QueueOutlook(on_duty=None, free_places=None, waits=waits)
    return QueueOutlook(on_duty=len(on_duty), free_places=free_places(on_duty, caps, active), waits=waits)


def _chat_staff_caps() -> dict[int, int | None]:
    """Every active counsellor and supervisor, with their personal cap (None: the default)."""
    from django.contrib.auth import get_user_model

    rows = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=[Role.COUNSELLOR, Role.SUPERVISOR])
        .values_list("pk", "counsellor_profile__max_chats")
        .distinct()
    )
    return {user_id: (int(cap) if cap else None) for user_id, cap in rows}


def wait_estimate(position: int, now: datetime | None = None) -> WaitEstimate:
    """An honest estimate for ``position`` (see :meth:`QueueOutlook.estimate`)."""
    return queue_outlook(now).estimate(position)


# A console lists the front of the queue (urgent and longest-waiting first) and the
# total: on a big evening hundreds of rows would be unreadable, and every console
# would be sent all of them on every change.
DASHBOARD_QUEUE_ROWS = 50


@dataclass(frozen=True)
class LiveSnapshot:
    """The queue and every open chat at one moment, from a fixed number of queries.

    Each console and each queued visitor derives its own frame from it in
    memory, so a change costs the same queries however many are watching.
    """

    taken_at: datetime
    queue: list[dict[str, Any]]
    queued_at: dict[int, datetime | None]
    # Active chats, and ended chats of a counsellor still waiting for classification.
    open_chats: list[dict[str, Any]]
    caps: dict[int, int]
    outlook: QueueOutlook

    def queue_frame(self, conversation_id: int) -> dict[str, Any] | None:
        """What a queued visitor sees: position, the honest estimate, and whether they have waited long."""
        position = next((i for i, c in enumerate(self.queue, start=1) if c["id"] == conversation_id), None)
        if position is None:
            return None
        estimate = self.outlook.estimate(position)
        queued_at = self.queued_at.get(conversation_id)
        waited = (self.taken_at - queued_at).total_seconds() / 60 if queued_at else 0
        return {
            "type": "queue",
            "position": position,
            "soon": estimate.soon,
            "estimated_wait_minutes": estimate.minutes,
            # Only from what the young person has really waited, never from a forecast.
            "long_wait": waited >= settings.SUPPORTLINE_LONG_WAIT_MINUTES,
        }

    def dashboard(self, user_id: int, *, supervisor: bool) -> dict[str, Any]:
        """Everything a console shows: the front of the queue, my chats, and (supervisors) every live chat."""
        return {
            "type": "dashboard",
            "queue": self._queue_front,
            "queue_total": len(self.queue),
            "mine": self._by_counsellor.get(user_id, []),
            "cap": self.caps.get(user_id) or int(settings.SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR),
            "supervisor": supervisor,
            "live": self._live_except(user_id) if supervisor else [],
        }

    def dashboard_json(self, user_id: int, *, supervisor: bool) -> str:
        """:meth:`dashboard` as the socket sends it (``json.loads`` gives the same frame).

        Every console of the process gets the same queue; it is encoded once
        per snapshot rather than once per console and update.
        """
        frame = self.dashboard(user_id, supervisor=supervisor)
        head = {"type": "dashboard"}
        rest = {key: value for key, value in frame.items() if key not in ("type", "queue")}
        return (
            json.dumps(head, ensure_ascii=False)[:-1]
            + ', "queue": '
            + self._queue_json
            + ", "
            + json.dumps(rest, ensure_ascii=False)[1:]
        )

    @cached_property
    def _queue_front(self) -> list[dict[str, Any]]:
        return self.queue[:DASHBOARD_QUEUE_ROWS]

    @cached_property
    def _queue_json(self) -> str:
        return json.dumps(self._queue_front, ensure_ascii=False)

    @cached_property
    def _by_counsellor(self) -> dict[int, list[dict[str, Any]]]:
        grouped: dict[int, list[dict[str, Any]]] = {}
        for chat in self.open_chats:
            grouped.setdefault(chat["counsellor_id"], []).append(chat)
        return grouped

    def _live_except(self, user_id: int) -> list[dict[str, Any]]:
        return [
            c for c in self.open_chats if c["counsellor_id"] != user_id and c["status"] == Conversation.Status.ACTIVE
        ]


def live_snapshot(now: datetime | None = None, *, waits: dict[int, list[float]] | None = None) -> LiveSnapshot:
    """The queue in order, every open chat with its counsellor's alias, caps and the queue's outlook.

    ``waits``: :func:`recent_waits` from a little earlier, to reuse (they change slowly).
    """
    now = now or timezone.now()
    queued = list(Conversation.objects.queued().in_queue_order().with_counsellor_alias())
    open_chats = (
        Conversation.objects.active() | Conversation.objects.ended().unclassified().filter(counsellor_id__isnull=False)
    ).with_counsellor_alias()
    summaries = [_summary(c, now) for c in open_chats.order_by("claimed_at", "pk")]
    staff = _chat_staff_caps()
    active: dict[int, int] = {}
    for chat in summaries:
        if chat["status"] == Conversation.Status.ACTIVE and chat["counsellor_id"] is not None:
            active[chat["counsellor_id"]] = active.get(chat["counsellor_id"], 0) + 1
    return LiveSnapshot(
        taken_at=now,
        queue=[_summary(c, now) for c in queued],
        queued_at={c.pk: c.queued_at for c in queued},
        open_chats=summaries,
        caps={user_id: cap for user_id, cap in staff.items() if cap},
        outlook=_outlook(now, staff, active, waits),
    )


def queued_conversations() -> list[Conversation]:
    """The queue: urgent chats first, then the longest waiting."""
    return list(Conversation.objects.queued().in_queue_order())


def queue_position(conversation_id: int) -> int | None:
    """1-based place in the queue, or None when the chat is not queued."""
    ids = [c.pk for c in queued_conversations()]
    return ids.index(conversation_id) + 1 if conversation_id in ids else None


def queue_frame(conversation_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """What a queued visitor sees (see :meth:`LiveSnapshot.queue_frame`)."""
    return live_snapshot(now).queue_frame(conversation_id)


def staff_dashboard(user: StaffUser, now: datetime | None = None) -> dict[str, Any]:
    """Everything ``user``'s console shows (see :meth:`LiveSnapshot.dashboard`)."""
    return live_snapshot(now).dashboard(user.pk, supervisor=has_role(user, Role.SUPERVISOR))


# --- Conversations, as the two sides see them ------------------------------------


def _alias_or_default(alias: str) -> str:
    return alias or _("rådgivaren")


def counsellor_alias(user: StaffUser | None) -> str:
    if user is None:
        return ""
    profile = CounsellorProfile.objects.filter(user=user).first()
    return _alias_or_default((profile.alias if profile else "") or user.first_name)


def chat_cap(user: StaffUser) -> int:
    profile = CounsellorProfile.objects.filter(user=user).first()
    if profile and profile.max_chats:
        return int(profile.max_chats)
    return int(settings.SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR)


def visitor_state_frame(conversation_id: int) -> dict[str, Any]:
    conversation = Conversation.objects.with_counsellor_alias().get(pk=conversation_id)
    return {
        "type": "state",
        "status": conversation.status,
        "counsellor": _alias_or_default(getattr(conversation, "counsellor_alias", ""))
        if conversation.counsellor_id
        else None,
        "end_reason": conversation.end_reason or None,
    }


def message_frame(message: Message, *, for_staff: bool = False) -> dict[str, Any]:
    """One message as a ``message`` frame (staff frames name the conversation)."""
    frame: dict[str, Any] = {
        "type": "message",
        "seq": message.seq,
        "sender": message.sender,
        "client_id": message.client_id,
        "text": message.text,
        "sent_at": message.created_at.isoformat(),
    }
    if for_staff:
        frame["conversation_id"] = message.conversation_id
    return frame


def _message_frames_sql() -> str:
    return (
        f"SELECT seq, sender, client_id, text, created_at FROM {Message._meta.db_table} "  # noqa: S608 (model name)
        "WHERE conversation_id = %s AND seq > %s ORDER BY seq"
    )


def _message_frames(rows: Sequence[tuple[Any, ...]], conversation_id: int, *, for_staff: bool) -> list[dict[str, Any]]:
    # Plain rows, and the text field's own converter to decrypt.
    text_field = Message._meta.get_field("text")
    frames = []
    for seq, sender, client_id, stored_text, created_at in rows:
        if created_at.tzinfo is None:  # SQLite hands back naive UTC
            created_at = created_at.replace(tzinfo=UTC)
        frame = {
            "type": "message",
            "seq": seq,
            "sender": sender,
            "client_id": client_id,
            "text": text_field.from_db_value(stored_text, None, connection),
            "sent_at": created_at.isoformat(),
        }
        if for_staff:
            frame["conversation_id"] = conversation_id
        frames.append(frame)
    return frames


def message_frames_after(conversation_id: int, after_seq: int, *, for_staff: bool = False) -> list[dict[str, Any]]:
    """Every message after ``after_seq``, in order, as ``message`` frames (one query)."""
    # Every receiver runs this for every message: one hand-written statement
    # (building and compiling the equivalent queryset cost more CPU than
    # PostgreSQL spends answering it).
    with connection.cursor() as cursor:
        cursor.execute(_message_frames_sql(), [conversation_id, after_seq])
        rows = cursor.fetchall()
    return _message_frames(rows, conversation_id, for_staff=for_staff)


async def amessage_frames_after(
    conversation_id: int, after_seq: int, *, for_staff: bool = False, through_seq: int | None = None
) -> list[dict[str, Any]]:
    """:func:`message_frames_after` from a socket's event loop.

    ``through_seq`` (the ``seq`` a layer event announced): when this process
    stored every message after ``after_seq`` up to it moments ago, they come
    from memory (``supportline.recent``), with no statement and no decryption;
    later ones follow with their own events. Otherwise, on PostgreSQL one
    prepared statement on the event loop's own connection
    (``supportline.db.on_event_loop``), no thread hop; elsewhere on the
    database threads.
    """
    if through_seq is not None:
        recent = recent_messages().after(conversation_id, after_seq, through_seq)
        if recent is not None:
            return [message_frame(message, for_staff=for_staff) for message in recent]
    if not db.async_path():
        return await db.run_db(message_frames_after, conversation_id, after_seq, for_staff=for_staff)
    frames = await _read_batches().submit((conversation_id, after_seq))
    if for_staff:
        for frame in frames:  # each reader's own frames
            frame["conversation_id"] = conversation_id
    return frames


type _Read = tuple[int, int]  # (conversation_id, after_seq)


async def _aread_batch(reads: list[_Read]) -> list[list[dict[str, Any]]]:
    """Every read of a batch in one prepared statement; a row that several readers want is decrypted once."""
    params: Sequence[Any]
    if len(reads) == 1:
        sql, params = _message_frames_sql(), reads[0]
    else:
        sql = (
            "SELECT r.ord, m.seq, m.sender, m.client_id, m.text, m.created_at "  # noqa: S608 (model name)
            "FROM unnest(%s::bigint[], %s::integer[]) WITH ORDINALITY AS r(conversation_id, after_seq, ord) "
            f"JOIN {Message._meta.db_table} m ON m.conversation_id = r.conversation_id AND m.seq > r.after_seq "
            "ORDER BY r.ord, m.seq"
        )
        params = ([conversation_id for conversation_id, _ in reads], [after_seq for _, after_seq in reads])

    async def read(conn: AsyncConnection[Any]) -> list[tuple[Any, ...]]:
        cursor = await conn.execute(sql, params, prepare=True)
        return await cursor.fetchall()

    rows = await db.on_event_loop(read)
    if len(reads) == 1:
        return [_message_frames(rows, reads[0][0], for_staff=False)]
    by_read: list[list[tuple[Any, ...]]] = [[] for _ in reads]
    for ordinal, *columns in rows:
        by_read[ordinal - 1].append(tuple(columns))
    decrypted: dict[tuple[int, int], dict[str, Any]] = {}
    results = []
    for (conversation_id, _after), read_rows in zip(reads, by_read, strict=True):
        frames = []
        for read_row in read_rows:
            key = (conversation_id, read_row[0])
            frame = decrypted.get(key)
            if frame is None:
                frame = decrypted[key] = _message_frames([read_row], conversation_id, for_staff=False)[0]
            frames.append(dict(frame))  # each reader its own frame
        results.append(frames)
    return results


_read_batches_per_loop: PerLoop[db.Batched[_Read, list[dict[str, Any]]]] = PerLoop()


def _read_batches() -> db.Batched[_Read, list[dict[str, Any]]]:
    """The running event loop's batches of receivers' reads (one per process in production)."""
    return _read_batches_per_loop.get(lambda: db.Batched(_aread_batch))


def can_write(user: StaffUser, conversation: Conversation) -> bool:
    return conversation.status == Conversation.Status.ACTIVE and conversation.counsellor_id == user.pk


def answers_young_people(user: StaffUser) -> bool:
    """Counsellors and supervisors: the staff who take chats and letters."""
    return has_role(user, Role.COUNSELLOR) or has_role(user, Role.SUPERVISOR)


def can_read(user: StaffUser, conversation: Conversation) -> bool:
    """The assigned counsellor reads their chat; a supervisor may read every chat."""
    return conversation.counsellor_id == user.pk or has_role(user, Role.SUPERVISOR)


def _summary(conversation: Conversation, now: datetime) -> dict[str, Any]:
    """A chat as lists show it; ``conversation`` comes annotated ``with_counsellor_alias()``."""
    since = conversation.queued_at or conversation.created_at
    alias = getattr(conversation, "counsellor_alias", "")
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "age_band": conversation.get_age_band_display() if conversation.age_band else "",
        "topic": conversation.get_topic_display() if conversation.topic else "",
        "risk": conversation.is_urgent,
        "waited_seconds": int((now - since).total_seconds()),
        "visitor_connected": conversation.visitor_connected,
        "counsellor": _alias_or_default(alias) if conversation.counsellor_id else None,
        "counsellor_id": conversation.counsellor_id,
        "end_reason": conversation.end_reason or None,
        "last_seq": conversation.last_seq,
        "escalation_steps": conversation.escalation_steps,
    }


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
            ),
            profile_alias=Coalesce(NullIf("counsellor_profile__alias", Value("")), "first_name"),
        )
        .order_by("first_name", "username")
    )
    return [{"id": u.pk, "alias": _alias_or_default(u.profile_alias), "active": u.active} for u in users]


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
