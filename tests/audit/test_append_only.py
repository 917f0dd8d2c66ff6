"""On PostgreSQL the database itself refuses to change or delete audit events outside the retention purge.

The application's role is played by a role made for the test (no superuser,
DML rights on the tables, as a production app role would have).
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AuditChainAnchor, AuditEvent
from audit.selectors import verify_chain
from audit.services import purge_events_before, record_event
from tests.staff.helpers import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.services]

REFUSED = "append-only|permission denied|must be owner"


@pytest.fixture
def app_role():
    """Switches this test's transaction to a plain application role; the test's rollback removes it."""
    name = f"{connection.settings_dict['NAME']}_app"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN NOSUPERUSER')
        cursor.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO "{name}"')
        cursor.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
        # The test profile lets pytest's flush truncate; production sets no such thing.
        cursor.execute("SET LOCAL ecpat.audit_truncate = 'off'")
        cursor.execute(f'SET LOCAL ROLE "{name}"')
    return name


def refused(sql, params=()):
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_apps_role_cannot_change_delete_or_truncate_events(app_role):
    record_event(actor=None, action="staff.login.succeeded")
    purge_events_before(timezone.now() + timedelta(seconds=1))  # so there is an anchor to attack
    events = [record_event(actor=None, action="hotline.tip.viewed", object_id=n) for n in range(3)]
    refused("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [events[1].pk])
    refused("UPDATE audit_auditevent SET hash = previous_hash WHERE id = %s", [events[2].pk])
    refused("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    refused("DELETE FROM audit_auditevent")
    with connection.cursor() as cursor:
        # Check the deferred foreign keys now: PostgreSQL will not truncate with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    refused("TRUNCATE audit_auditevent")
    refused("TRUNCATE audit_auditchainanchor")
    refused("UPDATE audit_auditchainanchor SET hash = 'x'")
    refused(
        "INSERT INTO audit_auditchainanchor (hash, deleted_events, last_deleted_id, updated_at, signature) "
        "VALUES ('x', 1, 1, CURRENT_TIMESTAMP, '')"
    )
    # Nor can it switch the guard off.
    refused("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
    refused("SET session_replication_role = replica")
    # The ORM goes through the same trigger.
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).delete()
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).update(object_id="7")
    assert list(AuditEvent.objects.order_by("id")) == events
    assert verify_chain().problems == []


def test_the_apps_role_may_purge_through_retention_and_leaves_a_signed_anchor(app_role):
    record_event(actor=None, action="hotline.tip.viewed")
    record_event(actor=None, action="hotline.tip.viewed")
    last = record_event(actor=None, action="hotline.tip.viewed")
    assert purge_events_before(timezone.now() + timedelta(seconds=1)) == 3
    anchor = AuditChainAnchor.objects.get()
    assert (anchor.hash, anchor.last_deleted_id, anchor.deleted_events) == (last.hash, last.pk, 3)
    assert anchor.signature_valid()
    # The flag lasted only for the purge itself.
    record_event(actor=None, action="retention.run.viewed")
    refused("DELETE FROM audit_auditevent")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('ecpat.audit_purge', true)")
        assert cursor.fetchone()[0] in (None, "", "off")


def test_deleting_a_staff_account_keeps_its_events():
    user = staff_member(username="leaving")
    event = record_event(actor=user, action="staff.login.succeeded")
    get_user_model().objects.filter(pk=user.pk).delete()
    event.refresh_from_db()
    assert (event.actor_id, event.actor_label) == (None, "leaving")
    assert verify_chain().problems == []
