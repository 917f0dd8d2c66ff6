"""Every write of the support line, and the events it broadcasts after commit.

Each service checks first and then acts. Failures a client should hear about
raise :class:`ChatError` with a stable ``code`` that the consumers send as an
``error`` frame. Broadcasts carry ids and sequence numbers, never rows or
text, and go out only once the transaction has committed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import record_event, record_events_in_transaction
from resilience.on_commit import run_after_commit
from staff.roles import Role, has_role
from staff.types import StaffUser
from supportline import db, selectors
from supportline.db import defer_to_event_loop
from supportline.loops import PerLoop
from supportline.models import (
    Classification,
    Conversation,
    Feedback,
    InternalNote,
    Message,
    VisitorBlock,
    conversation_group,
)
from supportline.recent import recent_messages, seal

STAFF_GROUP = "supportline.staff"
SUPERVISOR_GROUP = "supportline.supervisors"
QUEUE_GROUP = "supportline.queue"

logger = logging.getLogger(__name__)


class ChatError(Exception):
    """A refused action; ``code`` goes to the client in an error frame."""

    def __init__(self, code: str, *, retry_after_ms: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after_ms = retry_after_ms


_AUDITED_CONVERSATION = "supportline.Conversation"


def _audit_conversation(actor: StaffUser, action: str, conversation_id: int) -> None:
    """One audit event about a conversation: who did what, never what was said."""
    record_event(actor=actor, action=action, object_type=_AUDITED_CONVERSATION, object_id=conversation_id)


def broadcast_on_commit(group: str, event: dict[str, Any]) -> None:
    """Sends ``event`` to ``group`` once the current transaction commits."""

    def send() -> None:
        # From a socket's database thread the socket's event loop publishes it (supportline.db).
        if not defer_to_event_loop(group, event):
            async_to_sync(get_channel_layer().group_send)(group, event)

    # A layer outage must not turn a committed action into an error; the
    # sockets poll the database meanwhile (supportline.outage).
    run_after_commit(send, what=f"broadcast {event['type']}")


def _staff_changed(**extra: Any) -> None:
    broadcast_on_commit(STAFF_GROUP, {"type": "staff.changed", **extra})


def _queue_changed() -> None:
    broadcast_on_commit(QUEUE_GROUP, {"type": "queue.changed"})
    _staff_changed()


def _state_changed(conversation_id: int) -> None:
    broadcast_on_commit(conversation_group(conversation_id), {"type": "chat.state", "conversation_id": conversation_id})


# --- Visitor ---------------------------------------------------------------------


@dataclass
class StartedConversation:
    conversation: Conversation
    token: str


def conversation_start(*, age_band: str = "", topic: str = "", now: datetime | None = None) -> StartedConversation:
    """Opens a queued conversation and returns it with its one-time visible token."""
    if age_band not in {"", *Conversation.AgeBand.values}:
        raise ChatError("invalid_age_band")
    if topic not in {"", *Conversation.Topic.values}:
        raise ChatError("invalid_topic")
    if not selectors.opening_status(now).is_open:
        raise ChatError("closed")
    token = secrets.token_urlsafe(32)
    now = now or timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            token_hash=selectors.token_hash(token),
            age_band=age_band,
            topic=topic,
            queued_at=now,
            visitor_connected=True,
            visitor_seen_at=now,
        )
        # One staff event: the dashboards refresh, and the alert says someone is waiting.
        broadcast_on_commit(QUEUE_GROUP, {"type": "queue.changed"})
        _staff_changed(new_conversation_id=conversation.pk)
    return StartedConversation(conversation, token)


def visitor_presence(*, conversation_id: int, connected: bool) -> None:
    """Notes whether the visitor's socket is open, so the console and the sweeper know."""
    updated = Conversation.objects.filter(pk=conversation_id).update(
        visitor_connected=connected, visitor_seen_at=timezone.now()
    )
    if updated:
        _staff_changed()


# --- Counsellors on duty ------------------------------------------------------------------


def counsellor_on_duty(*, user_id: int, changed: bool = True) -> None:
    """Notes that a counsellor has the console open, for ``selectors.ON_DUTY_SECONDS``
    (the console's pings renew it). ``changed``: tell the queue, whose estimates may move."""
    try:
        cache.set(selectors.on_duty_key(user_id), 1, timeout=selectors.ON_DUTY_SECONDS)
    except Exception as exc:  # without the roster the queue falls back on history alone
        logger.warning("on-duty roster not written: %s", type(exc).__name__)
        return
    if changed:
        broadcast_on_commit(QUEUE_GROUP, {"type": "queue.changed"})


def counsellor_off_duty(*, user_id: int) -> None:
    """A console closed: its counsellor no longer counts as on duty (another open console renews it)."""
    try:
        cache.delete(selectors.on_duty_key(user_id))
    except Exception as exc:
        logger.warning("on-duty roster not written: %s", type(exc).__name__)
        return
    broadcast_on_commit(QUEUE_GROUP, {"type": "queue.changed"})


# --- Messages ------------------------------------------------------------------------


def _checked_message(sender: Message.Sender | str, client_id: str, text: str) -> Message.Sender:
    """Refuses what no chat would store; returns the sender."""
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise ChatError("invalid_client_id")
    if not isinstance(text, str) or not text.strip():
        raise ChatError("empty_text")
    if len(text) > settings.SUPPORTLINE_MAX_MESSAGE_LENGTH:
        raise ChatError("text_too_long")
    try:
        return Message.Sender(sender)  # (Sender.values builds a new list on every call)
    except ValueError:
        raise ChatError("forbidden") from None


def message_post(
    *,
    conversation_id: int,
    sender: Message.Sender | str,
    client_id: str,
    text: str,
    author: StaffUser | None = None,
) -> tuple[Message, bool]:
    """Stores a message once and returns it with ``created``.

    One transaction: the conversation's counter is bumped (which locks its
    row, so ``seq`` has no gaps) and the message inserted. A ``client_id``
    already stored rolls that transaction back, and the stored message is
    returned: a resend is acknowledged again, never stored twice.

    Nothing is broadcast here; the caller announces a created message with
    :func:`message_event` once this returned (the transaction has committed).
    The returned message holds the text as sent, so nothing is decrypted.
    """
    sender = _checked_message(sender, client_id, text)
    message = _message_insert(conversation_id, sender, client_id, text, author)
    if message is not None:
        return message, True
    return _message_post_checked(conversation_id, sender, client_id, text, author)


async def amessage_post(
    *,
    conversation_id: int,
    sender: Message.Sender | str,
    client_id: str,
    text: str,
    author: StaffUser | None = None,
) -> tuple[Message, bool]:
    """:func:`message_post` from a socket's event loop.

    On PostgreSQL the common case is one statement on the event loop's own
    connection (``supportline.db.on_event_loop``): no thread hop, no
    Django cursor. A resend or a refusal, and everything on SQLite, goes to
    the database threads and :func:`message_post`'s checked path. The
    statement runs to its end even if the socket goes away meanwhile.
    """
    if not db.async_path():
        message, created = await db.run_db(
            message_post,
            conversation_id=conversation_id,
            sender=sender,
            client_id=client_id,
            text=text,
            author=author,
        )
    else:
        sender = _checked_message(sender, client_id, text)
        stored = await db.finish_anyway(_amessage_insert(conversation_id, sender, client_id, text, author))
        if stored is not None:
            message, created = stored, True
        else:
            message, created = await db.run_db(_message_post_checked, conversation_id, sender, client_id, text, author)
    if created:
        # Committed: this process's receivers take it from memory (supportline.recent).
        recent_messages().add(message)
    return message, created


class _NotFastPath(Exception):
    """Rolls the fast path's transaction back; the checked path decides."""


@dataclass(frozen=True, slots=True)
class _Store:
    """One message for :func:`_message_store_statement`: its text already encrypted."""

    conversation_id: int
    sender: Message.Sender
    client_id: str
    stored_text: str
    author_id: int | None
    created_at: datetime


def _store_of(
    conversation_id: int, sender: Message.Sender, client_id: str, text: str, author: StaffUser | None, now: datetime
) -> _Store:
    author_id = author.pk if sender == Message.Sender.COUNSELLOR and author is not None else None
    return _Store(conversation_id, sender, client_id, _stored_text(text), author_id, now)


def _message_store_statement(stores: Sequence[_Store]) -> tuple[str, list[Any]]:
    """The common case for one or many messages as one PostgreSQL statement, and its own transaction.

    The chats' rows are locked (in id order, so two batches never wait on each
    other crosswise) and read as they are now; a message is accepted when its
    chat accepts its sender (a visitor: the chat has not ended; a counsellor:
    the chat is active and theirs) and its ``client_id`` is not stored yet,
    nor earlier in the same batch. Each chat's counter is raised by its accepted
    messages, which get the next ``seq``s in the order given, so ``seq``
    stays gapless. Returns ``(conversation_id, client_id, id, seq)`` for each
    stored message; a message with no row back changed nothing, and the
    checked path decides. A ``client_id`` stored by another process in the
    same instant fails the whole statement (unique constraint), and nothing
    is stored.
    """
    conversations, messages = Conversation._meta.db_table, Message._meta.db_table
    # Only the model's table names are formatted in; every value is a parameter.
    sql = (
        "WITH input AS (SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::bigint[], "  # noqa: S608
        "%s::text[], %s::timestamptz[]) WITH ORDINALITY "
        "AS i(conversation_id, client_id, sender, author_id, text, created_at, ord)), "
        f"locked AS MATERIALIZED (SELECT id, status, counsellor_id, last_seq FROM {conversations} "
        "WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE), "
        "accepted AS (SELECT i.*, l.last_seq + row_number() OVER (PARTITION BY i.conversation_id ORDER BY i.ord) "
        "AS seq FROM input i JOIN locked l ON l.id = i.conversation_id "
        "WHERE CASE WHEN i.sender = %s THEN l.status = %s AND l.counsellor_id = i.author_id ELSE l.status <> %s END "
        f"AND NOT EXISTS (SELECT 1 FROM {messages} m "
        "WHERE m.conversation_id = i.conversation_id AND m.client_id = i.client_id) "
        "AND NOT EXISTS (SELECT 1 FROM input j "
        "WHERE j.conversation_id = i.conversation_id AND j.client_id = i.client_id AND j.ord < i.ord)), "
        f"bumped AS (UPDATE {conversations} c SET last_seq = a.seq FROM "
        "(SELECT conversation_id, max(seq) AS seq FROM accepted GROUP BY conversation_id) a "
        "WHERE c.id = a.conversation_id) "
        f"INSERT INTO {messages} (conversation_id, seq, client_id, sender, author_id, text, created_at) "
        "SELECT conversation_id, seq, client_id, sender, author_id, text, created_at FROM accepted "
        "RETURNING conversation_id, client_id, id, seq"
    )
    params: list[Any] = [
        [store.conversation_id for store in stores],
        [store.client_id for store in stores],
        [str(store.sender) for store in stores],
        [store.author_id for store in stores],
        [store.stored_text for store in stores],
        [store.created_at for store in stores],
        sorted({store.conversation_id for store in stores}),
        str(Message.Sender.COUNSELLOR),
        str(Conversation.Status.ACTIVE),
        str(Conversation.Status.ENDED),
    ]
    return sql, params


def _stored_text(text: str) -> str:
    # Encrypted here, once, by the field itself.
    return str(Message._meta.get_field("text").get_prep_value(text))


def _message_from(store: _Store, pk: int, seq: int, text: str) -> Message:
    """The message just stored, from memory: its text is the one sent, nothing is decrypted."""
    message = Message(
        pk=pk,
        conversation_id=store.conversation_id,
        seq=seq,
        client_id=store.client_id,
        sender=store.sender,
        author_id=store.author_id,
        text=text,
        created_at=store.created_at,
    )
    message.stored_text = store.stored_text
    return message


async def _amessage_insert(
    conversation_id: int, sender: Message.Sender, client_id: str, text: str, author: StaffUser | None
) -> Message | None:
    """:func:`_message_insert` on the event loop's connection; None when the checked path must decide.

    The stores of the process's sockets go in batches (``db.Batched``): one
    statement, round trip and commit for every message submitted while the
    previous batch was in flight.
    """
    store = _store_of(conversation_id, sender, client_id, text, author, timezone.now())
    stored = await _message_batches().submit(store)
    if stored is None:
        return None
    return _message_from(store, *stored, text)


type _Stored = tuple[int, int] | None  # (id, seq), or None: not stored, the checked path decides


async def _astore_batch(stores: list[_Store]) -> list[_Stored]:
    sql, params = _message_store_statement(stores)

    async def store(conn: psycopg.AsyncConnection[Any]) -> list[tuple[int, str, int, int]] | None:
        try:
            cursor = await conn.execute(sql, params, prepare=True)
        except (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
            return None
        return await cursor.fetchall()

    rows = await db.on_event_loop(store)
    if rows is None:
        # A client_id another process stored in the same instant (or a deadlock):
        # nothing was stored. Each message again on its own, where the
        # duplicate alone goes to the checked path.
        if len(stores) == 1:
            return [None]
        return [(await _astore_batch([one]))[0] for one in stores]
    by_key = {(conversation_id, client_id): (pk, seq) for conversation_id, client_id, pk, seq in rows}
    # A client_id twice in one batch (a page resending) was stored for the first only.
    return [by_key.pop((one.conversation_id, one.client_id), None) for one in stores]


_batches: PerLoop[db.Batched[_Store, _Stored]] = PerLoop()


def _message_batches() -> db.Batched[_Store, _Stored]:
    """The running event loop's batches of message stores (one per process in production)."""
    return _batches.get(lambda: db.Batched(_astore_batch))


def _message_insert(
    conversation_id: int, sender: Message.Sender, client_id: str, text: str, author: StaffUser | None
) -> Message | None:
    """The common case in one statement and one transaction; None when the checked path must decide.

    No row back means the chat refused the sender, does not exist, or already
    holds the ``client_id``: nothing was changed, and the checked path decides.
    """
    now = timezone.now()
    if connection.vendor != "postgresql":
        return _message_insert_portable(conversation_id, sender, client_id, text, author, now)
    store = _store_of(conversation_id, sender, client_id, text, author, now)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(*_message_store_statement([store]))
            row = cursor.fetchone()
    except IntegrityError:
        return None
    if row is None:
        return None
    _, _, pk, seq = row
    return _message_from(store, pk, seq, text)


def _message_insert_portable(
    conversation_id: int,
    sender: Message.Sender,
    client_id: str,
    text: str,
    author: StaffUser | None,
    now: datetime,
) -> Message | None:
    """:func:`_message_insert` for SQLite (embedded mode), which has no UPDATE inside WITH: three statements."""
    accepting = Conversation.objects.filter(pk=conversation_id)
    if sender == Message.Sender.COUNSELLOR:
        if author is None:
            return None
        accepting = accepting.filter(status=Conversation.Status.ACTIVE, counsellor_id=author.pk)
    else:
        accepting = accepting.exclude(status=Conversation.Status.ENDED)
    try:
        with transaction.atomic():
            if not accepting.update(last_seq=F("last_seq") + 1):
                raise _NotFastPath
            seq = Conversation.objects.filter(pk=conversation_id).values_list("last_seq", flat=True).get()
            message = Message.objects.create(
                conversation_id=conversation_id,
                seq=seq,
                client_id=client_id,
                sender=sender,
                author_id=author.pk if sender == Message.Sender.COUNSELLOR and author is not None else None,
                text=text,
            )
    except (_NotFastPath, IntegrityError):
        return None
    return message


def _message_post_checked(
    conversation_id: int, sender: Message.Sender, client_id: str, text: str, author: StaffUser | None
) -> tuple[Message, bool]:
    """A resend or a refusal: the stored message first, then the rules, under the row lock."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
        if existing is not None:
            return existing, False
        if conversation.status == Conversation.Status.ENDED:
            raise ChatError("chat_ended")
        if sender == Message.Sender.COUNSELLOR and (author is None or not selectors.can_write(author, conversation)):
            raise ChatError("forbidden")
    # The rules allow it now: the state changed between the two transactions.
    message = _message_insert(conversation_id, sender, client_id, text, author)
    if message is None:
        raise ChatError("conflict")
    return message, True


def typing_event(conversation_id: int, sender: Message.Sender, *, active: bool) -> tuple[str, dict[str, Any]]:
    """The group and the layer event for a typing indicator (never stored, never text)."""
    event = {"type": "chat.typing", "conversation_id": conversation_id, "sender": sender, "active": active}
    return conversation_group(conversation_id), event


def message_event(message: Message) -> tuple[str, dict[str, Any]]:
    """The group and the layer event announcing a stored message: ids and seq, never plain text.

    A message this process has just stored is sealed into the event as the
    database holds it (``supportline.recent``): a receiver in another process
    takes it from there instead of reading the row.
    """
    event: dict[str, Any] = {"type": "chat.message", "conversation_id": message.conversation_id, "seq": message.seq}
    sealed = seal(message)
    if sealed is not None:
        event["sealed"] = sealed
    return conversation_group(message.conversation_id), event


# --- Ending ---------------------------------------------------------------------------


def conversation_end(*, conversation_id: int, reason: str, actor: StaffUser | None = None) -> Conversation:
    """Ends a conversation (idempotent: an ended one stays as it ended)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status == Conversation.Status.ENDED:
            return conversation
        was_queued = conversation.status == Conversation.Status.QUEUED
        conversation.status = Conversation.Status.ENDED
        conversation.end_reason = reason
        conversation.ended_at = timezone.now()
        conversation.save(update_fields=["status", "end_reason", "ended_at"])
        if actor is not None:
            _audit_conversation(actor, "supportline.conversation.ended", conversation.pk)
        _state_changed(conversation.pk)
        if was_queued:
            _queue_changed()
        else:
            _staff_changed()
    return conversation


def conversation_end_by_staff(*, conversation_id: int, actor: StaffUser) -> Conversation:
    """A counsellor (or supervisor) ends a chat they may act on."""
    _require_staff(actor)
    with transaction.atomic():
        _locked_for_counsellor(conversation_id, actor)
        return conversation_end(
            conversation_id=conversation_id, reason=Conversation.EndReason.COUNSELLOR_ENDED, actor=actor
        )


def conversation_leave_by_token(token: str) -> bool:
    """Quick exit: ends the token's chat as "left". True when a live chat was ended."""
    conversation = selectors.conversation_for_token(token)
    if conversation is None or conversation.status == Conversation.Status.ENDED:
        return False
    conversation_end(conversation_id=conversation.pk, reason=Conversation.EndReason.LEFT)
    return True


def sweep_abandoned(now: datetime | None = None) -> int:
    """Ends queued chats whose visitor has been gone for a while."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SUPPORTLINE_ABANDON_MINUTES)
    ids = list(
        Conversation.objects.filter(
            status=Conversation.Status.QUEUED, visitor_connected=False, visitor_seen_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for conversation_id in ids:
        conversation_end(conversation_id=conversation_id, reason=Conversation.EndReason.ABANDONED)
    return len(ids)


# --- Counsellor actions -----------------------------------------------------------------


def _require_staff(user: StaffUser) -> None:
    if not selectors.answers_young_people(user):
        raise ChatError("forbidden")


def conversation_claim(*, conversation_id: int, counsellor: StaffUser) -> Conversation:
    """Gives a queued chat to a counsellor, within their cap on parallel chats."""
    _require_staff(counsellor)
    with transaction.atomic():
        conversation = _claim_locked(conversation_id, counsellor)
        _audit_conversation(counsellor, "supportline.conversation.claimed", conversation.pk)
    return conversation


def conversation_claim_and_open(*, conversation_id: int, counsellor: StaffUser) -> Conversation:
    """A claim from the console, which opens the chat at once: both audited, in one transaction.

    Both audit events are appended under one hold of the audit chain's lock
    (which every claim of every counsellor waits for) and without savepoints:
    in a burst of claims the lock, not the claim, set the pace.
    """
    _require_staff(counsellor)
    with transaction.atomic():
        conversation = _claim_locked(conversation_id, counsellor)
        record_events_in_transaction(
            actor=counsellor,
            events=[
                ("supportline.conversation.claimed", _AUDITED_CONVERSATION, conversation.pk),
                ("supportline.transcript.viewed", _AUDITED_CONVERSATION, conversation.pk),
            ],
        )
    return conversation


def _claim_locked(conversation_id: int, counsellor: StaffUser) -> Conversation:
    """The claim itself, inside the caller's transaction (the row stays locked until it commits)."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.status != Conversation.Status.QUEUED:
        raise ChatError("not_queued")
    if selectors.active_chat_count(counsellor) >= selectors.chat_cap(counsellor):
        raise ChatError("cap_reached")
    conversation.status = Conversation.Status.ACTIVE
    conversation.counsellor = counsellor
    conversation.claimed_at = timezone.now()
    conversation.save(update_fields=["status", "counsellor", "claimed_at"])
    _state_changed(conversation.pk)
    _queue_changed()
    return conversation


def _locked_for_counsellor(conversation_id: int, user: StaffUser) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.counsellor_id != user.pk and not has_role(user, Role.SUPERVISOR):
        raise ChatError("forbidden")
    return conversation


def conversation_transfer(*, conversation_id: int, actor: StaffUser, to_user_id: int | None, note: str) -> Conversation:
    """Warm transfer to a named counsellor, or back to the queue (``None``), with an internal note."""
    _require_staff(actor)
    if len(note) > settings.SUPPORTLINE_MAX_MESSAGE_LENGTH:
        raise ChatError("text_too_long")
    to_user = None
    if to_user_id is not None:
        to_user = get_user_model().objects.filter(pk=to_user_id).first()
        if to_user is None:
            raise ChatError("invalid_counsellor")
    with transaction.atomic():
        conversation = _locked_for_counsellor(conversation_id, actor)
        if conversation.status != Conversation.Status.ACTIVE:
            raise ChatError("not_active")
        if to_user is not None:
            if not selectors.answers_young_people(to_user):
                raise ChatError("invalid_counsellor")
            if selectors.active_chat_count(to_user) >= selectors.chat_cap(to_user):
                raise ChatError("cap_reached")
            conversation.counsellor = to_user
            conversation.claimed_at = timezone.now()
        else:
            conversation.counsellor = None
            conversation.status = Conversation.Status.QUEUED
            conversation.queued_at = timezone.now()
        conversation.save(update_fields=["counsellor", "status", "queued_at", "claimed_at"])
        if note.strip():
            InternalNote.objects.create(conversation=conversation, author=actor, text=note.strip())
        _audit_conversation(actor, "supportline.conversation.transferred", conversation.pk)
        _state_changed(conversation.pk)
        _queue_changed()
    return conversation


def conversation_take_over(*, conversation_id: int, supervisor: StaffUser) -> Conversation:
    """A supervisor takes a live chat over from its counsellor."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise ChatError("forbidden")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status != Conversation.Status.ACTIVE:
            raise ChatError("not_active")
        conversation.counsellor = supervisor
        conversation.save(update_fields=["counsellor"])
        _audit_conversation(supervisor, "supportline.conversation.taken_over", conversation.pk)
        _state_changed(conversation.pk)
        _staff_changed()
    return conversation


def conversation_monitor(*, conversation_id: int, supervisor: StaffUser) -> None:
    """Records that a supervisor is silently reading a chat."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise ChatError("forbidden")
    _audit_conversation(supervisor, "supportline.conversation.monitored", conversation_id)


def conversation_opened(*, conversation_id: int, user: StaffUser) -> Conversation:
    """Checks that ``user`` may read the chat, and audits the view of its transcript.

    A supervisor reading another counsellor's chat is recorded as monitoring.
    """
    conversation = Conversation.objects.get(pk=conversation_id)
    if not selectors.can_read(user, conversation):
        raise ChatError("forbidden")
    if conversation.counsellor_id != user.pk:
        conversation_monitor(conversation_id=conversation_id, supervisor=user)
    else:
        _audit_conversation(user, "supportline.transcript.viewed", conversation_id)
    return conversation


def conversation_mark_risk(*, conversation_id: int, actor: StaffUser) -> Conversation:
    """Marks imminent risk: supervisors are alerted and the escalation checklist opens."""
    _require_staff(actor)
    with transaction.atomic():
        conversation = _locked_for_counsellor(conversation_id, actor)
        if not conversation.imminent_risk:
            conversation.imminent_risk = True
            conversation.risk_marked_at = timezone.now()
            conversation.save(update_fields=["imminent_risk", "risk_marked_at"])
        _audit_conversation(actor, "supportline.conversation.risk_marked", conversation.pk)
        broadcast_on_commit(SUPERVISOR_GROUP, {"type": "risk.alert", "conversation_id": conversation.pk})
        _state_changed(conversation.pk)
        _staff_changed()
    return conversation


def escalation_step_done(
    *, conversation_id: int, actor: StaffUser, step: Conversation.EscalationStep | str
) -> Conversation:
    """Ticks one step of the imminent-risk checklist (idempotent; each tick is audited)."""
    if step not in Conversation.EscalationStep.values:
        raise ChatError("invalid_step")
    step = Conversation.EscalationStep(step)
    _require_staff(actor)
    with transaction.atomic():
        conversation = _locked_for_counsellor(conversation_id, actor)
        if step not in conversation.escalation_steps:
            conversation.escalation_steps = [*conversation.escalation_steps, step]
            conversation.save(update_fields=["escalation_steps"])
        _audit_conversation(actor, f"supportline.escalation.{step}", conversation.pk)
        _staff_changed()
    return conversation


def visitor_block(*, conversation_id: int, actor: StaffUser, reason: str, hours: int) -> VisitorBlock:
    """Blocks the chat's token for at least the minimum time and ends the chat."""
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise ChatError("reason_required")
    if not isinstance(hours, int) or hours < settings.SUPPORTLINE_MIN_BLOCK_HOURS or hours > 24 * 365:
        raise ChatError("invalid_duration")
    with transaction.atomic():
        conversation = _locked_for_counsellor(conversation_id, actor)
        block = VisitorBlock.objects.create(
            conversation=conversation,
            token_hash=conversation.token_hash or "",
            reason=reason,
            blocked_by=actor,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
        record_event(
            actor=actor,
            action="supportline.visitor.blocked",
            object_type="supportline.VisitorBlock",
            object_id=block.pk,
        )
        conversation_end(conversation_id=conversation.pk, reason=Conversation.EndReason.BLOCKED, actor=actor)
    return block


def block_review(*, block_id: int, reviewer: StaffUser, note: str, lift: bool) -> VisitorBlock:
    """Records the review of a block (and lifts it at once when ``lift``); audited."""
    with transaction.atomic():
        block = VisitorBlock.objects.select_for_update().get(pk=block_id)
        block.reviewed_at = timezone.now()
        block.reviewed_by = reviewer
        block.review_note = note[:300]
        if lift:
            block.expires_at = timezone.now()
        block.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "expires_at"])
        record_event(
            actor=reviewer,
            action="supportline.visitor.block_reviewed",
            object_type="supportline.VisitorBlock",
            object_id=block.pk,
        )
    return block


def conversation_classify(
    *, conversation_id: int, actor: StaffUser, categories: Sequence[str], outcome: str
) -> Classification:
    """Records topic categories and outcome after a chat; no text at all."""
    _require_staff(actor)
    if not categories or not set(categories) <= set(Classification.Category.values):
        raise ChatError("invalid_categories")
    if outcome not in Classification.Outcome.values:
        raise ChatError("invalid_outcome")
    with transaction.atomic():
        conversation = _locked_for_counsellor(conversation_id, actor)
        if conversation.status != Conversation.Status.ENDED:
            raise ChatError("not_ended")
        classification, _ = Classification.objects.update_or_create(
            conversation=conversation,
            defaults={"categories": sorted(set(categories)), "outcome": outcome, "classified_by": actor},
        )
        _audit_conversation(actor, "supportline.conversation.classified", conversation.pk)
        _staff_changed()
    return classification


def _delete_transcripts(conversation_ids: list[int]) -> int:
    deleted, _ = Message.objects.filter(conversation_id__in=conversation_ids).delete()
    notes, _ = InternalNote.objects.filter(conversation_id__in=conversation_ids).delete()
    Conversation.objects.filter(pk__in=conversation_ids).update(transcript_deleted_at=timezone.now(), token_hash=None)
    return deleted + notes


def transcript_delete_now(*, conversation_id: int, actor: StaffUser) -> int:
    """ "Delete transcript now" for an ended chat that holds identifying details."""
    _require_staff(actor)
    with transaction.atomic():
        conversation = _locked_for_counsellor(conversation_id, actor)
        if conversation.status != Conversation.Status.ENDED:
            raise ChatError("not_ended")
        deleted = _delete_transcripts([conversation.pk])
        _audit_conversation(actor, "supportline.transcript.deleted", conversation.pk)
    return deleted


def purge_transcripts(cutoff: datetime) -> int:
    """Deletes messages and notes of chats that ended before ``cutoff``; returns how many."""
    ids = list(
        Conversation.objects.filter(status=Conversation.Status.ENDED, ended_at__lt=cutoff)
        .filter(transcript_deleted_at__isnull=True)
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        return _delete_transcripts(ids)


def purge_feedback(cutoff: datetime) -> int:
    deleted, _ = Feedback.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def feedback_give(*, answer: str) -> Feedback:
    if answer not in Feedback.Answer.values:
        raise ChatError("invalid_answer")
    return Feedback.objects.create(answer=answer)
