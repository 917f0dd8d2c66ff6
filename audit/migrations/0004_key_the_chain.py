"""Re-chains the existing audit events with the keyed hash (HMAC under AUDIT_CHAIN_KEY).

Before this migration each event's hash was a plain SHA-256 that anyone could
recompute. The old chain is checked first with that hash: only if it is intact
are its events re-hashed with the key (in id order, each pointing at the keyed
hash of the one before), the retention anchor is signed, and one event
``audit.chain.keyed`` is appended that marks where the keyed chain took over.
If the old chain is already broken the migration stops and names the event,
so a tampered history is never blessed with the key (docs/security.md).

Runs before migration 0005 installs the append-only trigger.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations
from django.utils import timezone

GENESIS_HASH = "0" * 64


def _payload(*parts):
    return json.dumps(parts, separators=(",", ":"), ensure_ascii=False).encode()


def _fields(event):
    return (
        event.previous_hash,
        event.created_at.isoformat(),
        event.actor_label,
        event.action,
        event.object_type,
        event.object_id,
    )


def _mac(*parts):
    return hmac.new(settings.AUDIT_CHAIN_KEY.encode(), _payload(*parts), hashlib.sha256).hexdigest()


def key_the_chain(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainAnchor = apps.get_model("audit", "AuditChainAnchor")
    anchor = AuditChainAnchor.objects.order_by("id").first()
    start = anchor.hash if anchor else GENESIS_HASH
    expected = start
    first_id = last_id = None
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != expected or hashlib.sha256(_payload(*_fields(event))).hexdigest() != event.hash:
            raise RuntimeError(
                f"The audit chain is already broken at event {event.pk} (unkeyed hash); it will not be "
                "re-chained with the key. Investigate and restore the audit table first (docs/security.md)."
            )
        expected = event.hash
        first_id = event.pk if first_id is None else first_id
        last_id = event.pk
    if anchor is not None:
        anchor.last_deleted_id = (first_id - 1) if first_id is not None else 0
        anchor.signature = _mac(
            "anchor", anchor.hash, anchor.deleted_events, anchor.last_deleted_id, anchor.updated_at.isoformat()
        )
        anchor.save(update_fields=["last_deleted_id", "signature"])
    if last_id is None:
        return
    # A keyed hash never equals an unkeyed one, so the unique columns allow re-hashing row by row.
    previous = start
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        event.previous_hash = previous
        event.hash = _mac(*_fields(event))
        AuditEvent.objects.filter(pk=event.pk).update(previous_hash=event.previous_hash, hash=event.hash)
        previous = event.hash
    marker = AuditEvent(
        created_at=timezone.now(),
        actor_label="",
        action="audit.chain.keyed",
        object_type="audit.AuditEvent",
        object_id=str(last_id),
        previous_hash=previous,
    )
    marker.hash = _mac(*_fields(marker))
    marker.save()


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_anchor_signature"),
    ]

    operations = [
        migrations.RunPython(key_the_chain, migrations.RunPython.noop, elidable=False),
    ]
