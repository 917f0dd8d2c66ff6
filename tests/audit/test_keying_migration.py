"""Migration 0004: an existing unkeyed chain is re-chained with the key, a broken one is refused."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditChainAnchor, AuditEvent
from audit.selectors import verify_chain

pytestmark = [pytest.mark.django_db, pytest.mark.services]

BEFORE_KEYING = [("audit", "0003_anchor_signature")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    return [("audit", MigrationExecutor(connection).loader.graph.leaf_nodes("audit")[0][1])]


def unkeyed_chain(start, count):
    """Rows as the chain stored them before it was keyed (plain SHA-256)."""
    rows, previous = [], start
    for n in range(count):
        event = AuditEvent(
            created_at=timezone.now() - timedelta(minutes=count - n),
            actor_label="counsellor",
            action="supportline.transcript.viewed",
            object_type="supportline.Conversation",
            object_id=str(n),
            previous_hash=previous,
        )
        event.hash = event.compute_unkeyed_hash()
        rows.append(event)
        previous = event.hash
    return rows


def test_an_intact_unkeyed_chain_is_rechained_and_marked():
    migrate(BEFORE_KEYING)  # drops the trigger and goes back to the unkeyed chain
    legacy_anchor = hashlib.sha256(b"the last event retention deleted").hexdigest()
    AuditChainAnchor.objects.create(hash=legacy_anchor, deleted_events=5)
    AuditEvent.objects.bulk_create(unkeyed_chain(legacy_anchor, 4))
    assert "broken at event" in "\n".join(verify_chain().problems)

    migrate(latest())

    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) == 5
    assert events[0].previous_hash == legacy_anchor
    assert (events[-1].action, events[-1].object_id) == ("audit.chain.keyed", str(events[-2].pk))
    assert AuditChainAnchor.objects.get().last_deleted_id == events[0].pk - 1
    assert verify_chain().problems == []


def test_a_chain_broken_before_keying_is_not_rechained():
    migrate(BEFORE_KEYING)
    rows = unkeyed_chain(GENESIS_HASH, 3)
    rows[1].action = "supportline.transcript.ignored"  # edited after it was hashed
    AuditEvent.objects.bulk_create(rows)
    with pytest.raises(RuntimeError, match="already broken at event"):
        migrate(latest())
    assert json.dumps(list(AuditEvent.objects.order_by("id").values_list("hash", flat=True))) == json.dumps(
        [r.hash for r in rows]
    )
