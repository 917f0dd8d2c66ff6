import logging
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from audit.checkpoints import Checkpoint, append_checkpoint
from audit.models import GENESIS_HASH, AuditChainAnchor, AuditEvent
from audit.selectors import chain_anchor, chain_head, tail_check

logger = logging.getLogger("audit.checkpoint")

# Any constant works; it names the chain's lock in PostgreSQL.
_CHAIN_LOCK_ID = 4_242_001


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        # Serialise appends (and purges) so two events never claim the same predecessor.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])


def _allow_purge(allowed: bool) -> None:
    if connection.vendor == "postgresql":
        # The append-only trigger (migration 0005) lets deletes through only
        # while this is on. SET LOCAL would outlive a savepoint until the
        # outermost transaction ends, so the purge also switches it off itself.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('ecpat.audit_purge', %s, true)", ["on" if allowed else "off"])


def record_event(*, actor: Any, action: str, object_type: str = "", object_id: str | int = "") -> AuditEvent:
    """Appends one event to the audit chain: who did what to which object, and when.

    ``action`` is a dotted verb such as ``"hotline.tip.viewed"``. Never pass
    content (message text, URLs, names); only types and ids.
    """
    with transaction.atomic():
        return _append(actor, [(action, object_type, object_id)])[0]


def record_events_in_transaction(*, actor: Any, events: list[tuple[str, str, str | int]]) -> list[AuditEvent]:
    """Appends several events of one actor, as ``(action, object_type, object_id)``, in the caller's transaction.

    For a busy action that writes more than one event: the chain is locked
    once, its head read once and the events inserted in one statement, so the
    lock that every append in the site waits for is held for fewer round
    trips. No savepoint of its own: a failure here rolls back the caller's
    whole transaction, so the action never commits without its events. Needs
    an open transaction (``transaction.atomic``).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("record_events_in_transaction needs the caller's transaction")
    return _append(actor, events)


def _append(actor: Any, events: list[tuple[str, str, str | int]]) -> list[AuditEvent]:
    authenticated = bool(actor is not None and getattr(actor, "is_authenticated", False))
    rows = [
        AuditEvent(
            actor=actor if authenticated else None,
            actor_label=actor.get_username() if authenticated else "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
        )
        for action, object_type, object_id in events
    ]
    # Everything above is ready before the lock; under it only the head and the inserts.
    _lock_chain()
    # Taken under the lock, as before: times never run backwards along the chain.
    created_at = timezone.now()
    previous = chain_head()
    for row in rows:
        row.created_at = created_at
        row.previous_hash = previous
        row.hash = previous = row.compute_hash()
    if len(rows) == 1:
        rows[0].save()
    else:
        # Ids follow the list's order (PostgreSQL's multi-row INSERT ... RETURNING keeps it).
        AuditEvent.objects.bulk_create(rows)
    return rows


def purge_events_before(cutoff: datetime) -> int:
    """Deletes the oldest events, those created before ``cutoff``; returns how many.

    Only an unbroken run from the start of the chain goes, and the hash and id
    of its last event become the chain's new anchor, signed with
    ``AUDIT_CHAIN_KEY``, so the remaining chain still verifies and a deletion
    outside retention (or an anchor written by anyone else) is detected. This
    is the only code path the append-only trigger lets delete events.
    """
    with transaction.atomic():
        _lock_chain()
        boundary = AuditEvent.objects.filter(created_at__gte=cutoff).order_by("id").values_list("id", flat=True).first()
        due = AuditEvent.objects.all() if boundary is None else AuditEvent.objects.filter(id__lt=boundary)
        last = due.order_by("-id").values_list("id", "hash").first()
        if last is None:
            return 0
        _allow_purge(True)
        deleted, _ = due.delete()
        anchor = AuditChainAnchor.objects.select_for_update().order_by("id").first() or AuditChainAnchor()
        anchor.last_deleted_id, anchor.hash = last
        anchor.deleted_events += deleted
        anchor.updated_at = timezone.now()
        anchor.sign()
        anchor.save()
        _allow_purge(False)
    return deleted


class AuditTailMissing(Exception):
    """The chain no longer holds what the last checkpoint saw; no new checkpoint may paper over it."""


def checkpoint_write(*, after_investigation: bool = False) -> Checkpoint:
    """Writes a signed checkpoint of the chain's head to the log and the checkpoint file.

    ``count`` is every event the chain has held: those present plus those
    retention deleted, a sum that only grows, whatever retention does later.

    First compares the chain with the last checkpoint: if its tail is gone (or
    the last checkpoint is forged) this logs an error and raises
    ``AuditTailMissing`` instead, so a truncation is never laundered into a
    fresh checkpoint; ``after_investigation=True`` (``verify_audit_chain
    --new-checkpoint``) writes one anyway, once a person has looked.
    """
    _previous, problems, _notes = tail_check(chain_anchor())
    if problems and not after_investigation:
        for problem in problems:
            logger.error("audit chain: %s", problem)
        raise AuditTailMissing(" ".join(problems))
    with transaction.atomic():
        # Head, count and anchor from one consistent moment: no append or purge in between.
        _lock_chain()
        totals = AuditEvent.objects.aggregate(present=Count("id"), head_id=Max("id"))
        anchor = AuditChainAnchor.objects.order_by("id").first()
        head_id: int | None = totals["head_id"]
        head_hash = AuditEvent.objects.filter(id=head_id).values_list("hash", flat=True).first() if head_id else None
    if head_id is None or head_hash is None:
        head_id = anchor.last_deleted_id if anchor else 0
        head_hash = anchor.hash if anchor else GENESIS_HASH
    checkpoint = Checkpoint(
        head_id=head_id,
        head_hash=head_hash,
        count=totals["present"] + (anchor.deleted_events if anchor else 0),
        at=timezone.now().isoformat(),
    ).signed()
    append_checkpoint(checkpoint)
    # The second copy: log shipping takes it off this machine.
    logger.info("audit checkpoint %s", checkpoint.to_line())
    return checkpoint
