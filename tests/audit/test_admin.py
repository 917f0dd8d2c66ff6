"""The audit log in the admin: administrators read it, nobody changes it, reading is itself audited."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import record_event
from staff.roles import Role
from tests.factories import login_verified
from tests.staff.helpers import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return record_event(actor=None, action="hotline.tip.viewed", object_type="hotline.Tip", object_id=7)


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, None], ids=["administrator", "superuser"])
def test_viewing_a_record_creates_an_audit_record(client, event, role):
    user = staff_member(role=role, is_superuser=role is None)
    login_verified(client, user)
    response = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert response.status_code == 200
    viewed = AuditEvent.objects.get(action="audit.auditevent.viewed")
    assert viewed.actor == user
    assert viewed.object_type == "audit.AuditEvent"
    assert viewed.object_id == str(event.pk)


def test_viewing_a_staff_member_creates_an_audit_record(client):
    administrator = staff_member(role=Role.ADMINISTRATOR)
    colleague = staff_member(role=Role.COUNSELLOR)
    login_verified(client, administrator)
    assert client.get(reverse("admin:auth_user_change", args=[colleague.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        action="auth.user.viewed", actor=administrator, object_type="auth.User", object_id=str(colleague.pk)
    ).exists()


def test_a_refused_view_is_not_recorded_as_viewed(client, event):
    login_verified(client, staff_member(role=Role.EDITOR))
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.auditevent.viewed").exists()


def test_not_even_a_superuser_can_add_change_or_delete(client, event):
    login_verified(client, staff_member(is_superuser=True))
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    response = client.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "x.y.z", "object_id": "1"}
    )
    assert response.status_code == 403
    changelist = client.post(
        reverse("admin:audit_auditevent_changelist"), {"action": "delete_selected", "_selected_action": [event.pk]}
    )
    assert changelist.status_code in (200, 302)
    event.refresh_from_db()
    assert event.action == "hotline.tip.viewed"


def test_the_list_filters_and_searches(client, event):
    login_verified(client, staff_member(role=Role.ADMINISTRATOR))
    url = reverse("admin:audit_auditevent_changelist")
    assert client.get(url, {"q": "hotline.Tip"}).context["cl"].result_count == 1
    assert client.get(url, {"q": "nothing-like-it"}).context["cl"].result_count == 0
    assert client.get(url, {"action": "staff.login.succeeded"}).context["cl"].result_count == 0
    assert client.get(url, {"action": "hotline.tip.viewed"}).context["cl"].result_count == 1


def test_admin_changes_are_recorded(client):
    administrator = staff_member(role=Role.ADMINISTRATOR)
    colleague = staff_member(role=Role.COUNSELLOR)
    login_verified(client, administrator)
    response = client.post(
        reverse("admin:auth_user_changelist"), {"action": "deactivate", "_selected_action": [colleague.pk]}
    )
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert not colleague.is_active
    assert AuditEvent.objects.filter(action="staff.account.deactivated", object_id=str(colleague.pk)).exists()
