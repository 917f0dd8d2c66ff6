from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditChainAnchor, AuditEvent
from audit.selectors import chain_head

# Any constant works; it names the chain's lock in PostgreSQL.
_CHAIN_LOCK_ID = 4_242_001


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        # Serialise appends (and purges) so two events never claim the same predecessor.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])


def record_event(*, actor: Any, action: str, object_type: str = "", object_id: str | int = "") -> AuditEvent:
    """Appends one event to the audit chain: who did what to which object, and when.

    ``action`` is a dotted verb such as ``"hotline.tip.viewed"``. Never pass
    content (message text, URLs, names); only types and ids.
    """
    authenticated = bool(actor is not None and getattr(actor, "is_authenticated", False))
    with transaction.atomic():
        _lock_chain()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor if authenticated else None,
            actor_label=actor.get_username() if authenticated else "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            previous_hash=chain_head(),
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def purge_events_before(cutoff: datetime) -> int:
    """Deletes the oldest events, those created before ``cutoff``; returns how many.

    Only an unbroken run from the start of the chain goes, and the hash of its
    last event becomes the chain's new anchor, so the remaining chain still
    verifies and a deletion outside retention is still detected.
    """
    with transaction.atomic():
        _lock_chain()
        boundary = AuditEvent.objects.filter(created_at__gte=cutoff).order_by("id").values_list("id", flat=True).first()
        due = AuditEvent.objects.all() if boundary is None else AuditEvent.objects.filter(id__lt=boundary)
        last = due.order_by("-id").values_list("hash", flat=True).first()
        if last is None:
            return 0
        deleted, _ = due.delete()
        anchor = AuditChainAnchor.objects.select_for_update().order_by("id").first() or AuditChainAnchor()
        anchor.hash = last
        anchor.deleted_events += deleted
        anchor.updated_at = timezone.now()
        anchor.save()
    return deleted
