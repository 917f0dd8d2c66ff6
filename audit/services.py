from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent

# Any constant works; it names the chain's lock in PostgreSQL.
_CHAIN_LOCK_ID = 4_242_001


def record_event(*, actor: Any, action: str, object_type: str = "", object_id: str | int = "") -> AuditEvent:
    """Appends one event to the audit chain: who did what to which object, and when.

    ``action`` is a dotted verb such as ``"hotline.tip.viewed"``. Never pass
    content (message text, URLs, names); only types and ids.
    """
    authenticated = bool(actor is not None and getattr(actor, "is_authenticated", False))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Serialise appends so two events never claim the same predecessor.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
        previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor if authenticated else None,
            actor_label=actor.get_username() if authenticated else "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            previous_hash=previous or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
    return event
