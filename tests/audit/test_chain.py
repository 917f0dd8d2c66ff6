"""The audit chain: intact, tampered with, and trimmed by retention."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditChainAnchor, AuditEvent
from audit.selectors import first_broken_link
from audit.services import purge_events_before, record_event
from tests.staff.helpers import staff_member

pytestmark = pytest.mark.django_db


def three_events(user):
    return [
        record_event(actor=user, action="hotline.tip.viewed", object_type="hotline.Tip", object_id=n) for n in range(3)
    ]


def test_an_untouched_chain_verifies(capsys):
    events = three_events(staff_member())
    assert events[1].previous_hash == events[0].hash
    call_command("verify_audit_chain")
    assert "intact (3 events)" in capsys.readouterr().out


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
    with connection.cursor() as cursor:
        cursor.execute(sql, [events[1].pk])
    assert first_broken_link() == events[1]
    with pytest.raises(CommandError, match=f"broken at event {events[1].pk} "):
        call_command("verify_audit_chain")


def test_a_deleted_row_breaks_the_chain_at_the_next_one():
    events = three_events(staff_member())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    assert first_broken_link() == events[2]


def test_deleting_the_oldest_rows_outside_retention_is_detected():
    events = three_events(staff_member())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[0].pk])
    assert first_broken_link() == events[1]


def test_retention_deletes_only_old_events_and_the_chain_still_verifies():
    user = staff_member()
    now = timezone.now()
    old = three_events(user)
    AuditEvent.objects.filter(pk__in=[e.pk for e in old]).update(created_at=now - timedelta(days=800))
    # Re-hash the back-dated rows so the chain is valid before the purge.
    previous = "0" * 64
    for event in AuditEvent.objects.order_by("id"):
        event.previous_hash = previous
        event.hash = event.compute_hash()
        event.save()
        previous = event.hash
    recent = three_events(user)
    assert first_broken_link() is None

    deleted = purge_events_before(now - timedelta(days=730))

    assert deleted == 3
    assert list(AuditEvent.objects.order_by("id")) == recent
    assert AuditChainAnchor.objects.get().hash == previous
    assert first_broken_link() is None
    # Appending after a purge continues from the chain's head.
    record_event(actor=user, action="audit.auditevent.viewed")
    assert first_broken_link() is None
    # Running again deletes nothing more.
    assert purge_events_before(now - timedelta(days=730)) == 0


def test_after_purging_everything_new_events_chain_onto_the_anchor():
    user = staff_member()
    three_events(user)
    assert purge_events_before(timezone.now() + timedelta(seconds=1)) == 3
    event = record_event(actor=user, action="staff.login.succeeded")
    assert event.previous_hash == AuditChainAnchor.objects.get().hash
    assert first_broken_link() is None
