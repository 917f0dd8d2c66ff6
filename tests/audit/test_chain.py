"""The audit chain: intact, tampered with, and trimmed by retention.

The attacks run raw SQL as someone with database access would. Where the
attacker is assumed to hold superuser rights they switch the append-only
trigger off for their session first (``session_replication_role = replica``);
what stops them then is the key they do not have and the checkpoints they
cannot reach.
"""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditChainAnchor, AuditEvent
from audit.selectors import first_broken_link, verify_chain
from audit.services import AuditTailMissing, purge_events_before, record_event
from audit.tasks import write_audit_checkpoint
from tests.staff.helpers import staff_member

pytestmark = pytest.mark.django_db


def three_events(user, start=0):
    return [
        record_event(actor=user, action="hotline.tip.viewed", object_type="hotline.Tip", object_id=n)
        for n in range(start, start + 3)
    ]


def as_superuser(*statements):
    """Runs SQL the way an attacker with superuser rights would: with the audit trigger switched off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def problems():
    return "\n".join(verify_chain().problems)


def test_an_untouched_chain_verifies(capsys):
    events = three_events(staff_member())
    assert events[1].previous_hash == events[0].hash
    write_audit_checkpoint()
    call_command("verify_audit_chain")
    assert "intact (3 events, tail checked against the checkpoint of" in capsys.readouterr().out


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'hotline.tip.ignored' WHERE id = %s",
        "UPDATE audit_auditevent SET actor_label = 'someone-else' WHERE id = %s",
        "UPDATE audit_auditevent SET created_at = created_at - interval '1 day' WHERE id = %s",
    ],
    ids=["action", "actor", "time"],
)
def test_a_row_edited_in_the_database_is_the_first_broken_link(sql):
    events = three_events(staff_member())
    if connection.vendor != "postgresql":
        sql = sql.replace("created_at - interval '1 day'", "datetime(created_at, '-1 day')")
    as_superuser((sql, [events[1].pk]))
    assert first_broken_link() == events[1]
    with pytest.raises(CommandError, match=f"broken at event {events[1].pk} "):
        call_command("verify_audit_chain")


def test_a_deleted_row_breaks_the_chain_at_the_next_one():
    events = three_events(staff_member())
    as_superuser(("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk]))
    assert first_broken_link() == events[2]


def test_deleting_the_oldest_rows_outside_retention_is_detected():
    events = three_events(staff_member())
    as_superuser(("DELETE FROM audit_auditevent WHERE id = %s", [events[0].pk]))
    assert first_broken_link() == events[1]


def unkeyed(previous_hash, created_at, actor_label, action, object_type, object_id, key=None):
    payload = json.dumps(
        [previous_hash, created_at.isoformat(), actor_label, action, object_type, object_id],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("guessed_key", [None, "insecure-local-audit-chain-key"], ids=["sha256", "dev-key"])
def test_rewriting_an_event_and_recomputing_the_later_hashes_without_the_key_is_detected(settings, guessed_key):
    settings.AUDIT_CHAIN_KEY = "the-production-key-that-never-leaves-the-environment"
    events = three_events(staff_member(), start=1) + three_events(staff_member(username="x"), start=4)
    write_audit_checkpoint()
    # The attacker rewrites event 2 (who looked at which tip) and re-chains
    # everything after it, the way the chain was built before it was keyed.
    rows = list(AuditEvent.objects.order_by("id"))
    rows[1].actor_label = "nobody"
    previous = rows[0].hash
    statements = []
    for row in rows[1:]:
        new_hash = unkeyed(
            previous, row.created_at, row.actor_label, row.action, row.object_type, row.object_id, guessed_key
        )
        statements.append(
            (
                "UPDATE audit_auditevent SET actor_label = %s, previous_hash = %s, hash = %s WHERE id = %s",
                [row.actor_label, previous, new_hash, row.pk],
            )
        )
        previous = new_hash
    # Unique hashes: move the rows out of the way first, as a careful attacker would.
    as_superuser(
        *[
            ("UPDATE audit_auditevent SET hash = %s, previous_hash = %s WHERE id = %s", [f"t{r.pk}", f"p{r.pk}", r.pk])
            for r in rows[1:]
        ],
        *statements,
    )

    assert first_broken_link() == events[1]
    with pytest.raises(CommandError, match=f"broken at event {events[1].pk} "):
        call_command("verify_audit_chain")


def test_deleting_the_newest_events_is_detected_against_the_last_checkpoint(capsys):
    events = three_events(staff_member())
    write_audit_checkpoint()
    as_superuser(("DELETE FROM audit_auditevent WHERE id >= %s", [events[1].pk]))
    # What is left is a perfectly good chain of one event...
    assert first_broken_link() is None
    # ...which is not what the checkpoint saw.
    with pytest.raises(CommandError, match=f"Tail missing: .* end at event {events[2].pk} after 3 events"):
        call_command("verify_audit_chain")


def test_deleting_the_newest_events_and_carrying_on_is_detected():
    user = staff_member()
    events = three_events(user)
    write_audit_checkpoint()
    as_superuser(("DELETE FROM audit_auditevent WHERE id >= %s", [events[1].pk]))
    # Life goes on: new events chain onto what is left, and a new checkpoint is not due yet.
    three_events(user, start=10)
    assert first_broken_link() is None
    assert f"end at event {events[2].pk}" in problems()


def test_deleting_every_event_and_the_anchor_is_detected():
    events = three_events(staff_member())
    write_audit_checkpoint()
    as_superuser(("DELETE FROM audit_auditevent", []), ("DELETE FROM audit_auditchainanchor", []))
    assert first_broken_link() is None
    report = verify_chain()
    assert report.checkpoint is not None
    assert f"Tail missing: the checkpoint of {report.checkpoint.at}" in problems()
    assert f"end at event {events[2].pk} after 3 events" in problems()
    with pytest.raises(CommandError):
        call_command("verify_audit_chain")


def test_the_next_checkpoint_does_not_paper_over_a_missing_tail(checkpoint_file, caplog):
    user = staff_member()
    events = three_events(user)
    write_audit_checkpoint()
    as_superuser(("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk]))
    three_events(user, start=3)

    with pytest.raises(AuditTailMissing):
        write_audit_checkpoint()

    assert len(checkpoint_file.read_text().splitlines()) == 1
    assert any(r.levelname == "ERROR" and "Tail missing" in r.getMessage() for r in caplog.records)
    assert "Tail missing" in problems()
    # Once someone has looked into it, they start a new checkpoint by hand.
    with pytest.raises(CommandError, match="Tail missing"):
        call_command("verify_audit_chain", "--new-checkpoint")
    call_command("verify_audit_chain")


def test_recording_an_event_costs_three_queries(django_assert_num_queries):
    user = staff_member()
    record_event(actor=user, action="staff.login.succeeded")
    # The chain lock (PostgreSQL only), the head's hash, the insert; plus the test's savepoint pair.
    with django_assert_num_queries((3 if connection.vendor == "postgresql" else 2) + 2):
        record_event(actor=user, action="staff.login.succeeded")


def test_the_checkpoint_goes_to_the_log_and_an_append_only_file(checkpoint_file, caplog, settings):
    first = three_events(staff_member())
    caplog.set_level("INFO", logger="audit.checkpoint")
    assert write_audit_checkpoint() == first[2].pk
    more = three_events(staff_member(username="y"), start=3)
    assert write_audit_checkpoint() == more[2].pk

    lines = [json.loads(line) for line in checkpoint_file.read_text().splitlines()]
    assert [(c["head_id"], c["head_hash"], c["count"]) for c in lines] == [
        (first[2].pk, first[2].hash, 3),
        (more[2].pk, more[2].hash, 6),
    ]
    assert all(len(c["signature"]) == 64 for c in lines)
    logged = [r.getMessage() for r in caplog.records if r.name == "audit.checkpoint"]
    assert len(logged) == 2 and more[2].hash in logged[1]
    entry = settings.CELERY_BEAT_SCHEDULE["audit-write-checkpoint"]
    assert entry["task"] == write_audit_checkpoint.name


def test_a_forged_checkpoint_is_reported(checkpoint_file):
    three_events(staff_member())
    write_audit_checkpoint()
    forged = json.loads(checkpoint_file.read_text().splitlines()[-1])
    forged.update(head_id=1, count=1)
    with checkpoint_file.open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
    assert "unsigned or its signature is forged" in problems()


def back_dated_events(user, days):
    with time_machine.travel(timezone.now() - timedelta(days=days), tick=False):
        return three_events(user)


def test_retention_deletes_only_old_events_and_leaves_a_signed_anchor():
    user = staff_member()
    now = timezone.now()
    old = back_dated_events(user, 800)
    recent = three_events(user, start=3)
    write_audit_checkpoint()
    assert first_broken_link() is None

    deleted = purge_events_before(now - timedelta(days=730))

    assert deleted == 3
    assert list(AuditEvent.objects.order_by("id")) == recent
    anchor = AuditChainAnchor.objects.get()
    assert (anchor.hash, anchor.last_deleted_id, anchor.deleted_events) == (old[2].hash, old[2].pk, 3)
    assert anchor.signature_valid()
    # The checkpoint from before the purge still agrees: retention accounts for what it deleted.
    assert verify_chain().problems == []
    # Appending after a purge continues from the chain's head.
    record_event(actor=user, action="audit.auditevent.viewed")
    assert verify_chain().problems == []
    # Running again deletes nothing more.
    assert purge_events_before(now - timedelta(days=730)) == 0


def test_after_purging_everything_new_events_chain_onto_the_anchor():
    user = staff_member()
    three_events(user)
    write_audit_checkpoint()
    assert purge_events_before(timezone.now() + timedelta(seconds=1)) == 3
    # The checkpoint's head is gone, but the signed anchor says retention took it.
    assert verify_chain().problems == []
    event = record_event(actor=user, action="staff.login.succeeded")
    assert event.previous_hash == AuditChainAnchor.objects.get().hash
    assert verify_chain().problems == []


def test_an_anchor_forged_to_hide_deleted_old_events_is_reported():
    events = back_dated_events(staff_member(), 10) + three_events(staff_member(username="z"), start=3)
    # Delete the first four events and write the anchor retention would have written, without the key.
    as_superuser(
        ("DELETE FROM audit_auditevent WHERE id <= %s", [events[3].pk]),
        (
            "INSERT INTO audit_auditchainanchor (hash, deleted_events, last_deleted_id, updated_at, signature) "
            "VALUES (%s, 4, %s, CURRENT_TIMESTAMP, %s)",
            [events[3].hash, events[3].pk, "0" * 64],
        ),
    )
    assert first_broken_link() is None
    assert "anchor (start hash" in problems()
    with pytest.raises(CommandError, match="unsigned or its signature is forged"):
        call_command("verify_audit_chain")


def test_an_edited_anchor_is_reported():
    user = staff_member()
    back_dated_events(user, 800)
    three_events(user, start=3)
    purge_events_before(timezone.now() - timedelta(days=730))
    as_superuser(("UPDATE audit_auditchainanchor SET deleted_events = 0", []))
    assert "anchor (start hash" in problems()


def test_an_empty_chain_starts_at_genesis():
    assert verify_chain().problems == []
    assert record_event(actor=None, action="x").previous_hash == GENESIS_HASH


def test_several_events_of_one_action_are_appended_under_one_lock(django_assert_num_queries):
    """A busy action (a chat claim) writes its events with one lock, one head read and one insert."""
    from django.db import transaction

    from audit.services import record_events_in_transaction

    user = staff_member()
    first = record_event(actor=user, action="staff.login.succeeded")
    # The chain lock (PostgreSQL only), the head's hash, one INSERT of both rows; no savepoints.
    with transaction.atomic(), django_assert_num_queries(3 if connection.vendor == "postgresql" else 2):
        claimed, viewed = record_events_in_transaction(
            actor=user,
            events=[
                ("supportline.conversation.claimed", "supportline.Conversation", 7),
                ("supportline.transcript.viewed", "supportline.Conversation", 7),
            ],
        )
    assert claimed.previous_hash == first.hash
    assert viewed.previous_hash == claimed.hash
    assert claimed.id < viewed.id
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "staff.login.succeeded",
        "supportline.conversation.claimed",
        "supportline.transcript.viewed",
    ]
    assert problems() == ""
