import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from hotline.models import PoliceHandoff, Tip
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.conftest import submit_tip

pytestmark = pytest.mark.django_db


def test_only_analysts_hold_tip_permissions_and_no_one_may_delete():
    for role in Role:
        perms = set(Group.objects.get(name=role.value).permissions.values_list("codename", flat=True))
        tip_perms = {p for p in perms if p.endswith("_tip") or "handoff" in p}
        if role == Role.ANALYST:
            assert tip_perms == {"view_tip", "change_tip", "view_policehandoff", "retry_policehandoff"}
        else:
            assert tip_perms == set()
    from django.contrib.auth.models import Permission

    assert not Permission.objects.filter(content_type__app_label="hotline", codename__startswith="delete_").exists()


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.EDITOR, Role.ADMINISTRATOR])
def test_other_roles_cannot_see_tips(client, role):
    tip = submit_tip().tip
    login_verified(client, StaffUserFactory(role=role))
    assert client.get("/admin/hotline/tip/").status_code == 403
    assert client.get(f"/admin/hotline/tip/{tip.pk}/change/").status_code == 403


def test_an_analyst_without_a_second_factor_sees_nothing(client, analyst):
    tip = submit_tip().tip
    client.force_login(analyst)
    response = client.get(f"/admin/hotline/tip/{tip.pk}/change/")
    assert response.status_code in (302, 403)
    assert "Jag såg något hemskt" not in response.text


def test_tip_list_filters_and_shows_repeats(analyst_client):
    submit_tip(urls=["https://example.com/same"], category="grooming")
    submit_tip(urls=["https://example.com/same"], category="abuse_material", urgent=True)
    response = analyst_client.get("/admin/hotline/tip/")
    assert response.status_code == 200
    assert "Median tid från tips till borttagning" in response.text
    for query in ("status__exact=received", "category__exact=grooming", "priority__exact=1", "age=day"):
        assert analyst_client.get(f"/admin/hotline/tip/?{query}").status_code == 200
    filtered = analyst_client.get("/admin/hotline/tip/?category__exact=grooming")
    assert filtered.context["cl"].result_count == 1


def test_viewing_a_tip_is_audited_and_urls_are_plain_text(analyst_client, analyst):
    tip = submit_tip(urls=["https://example.com/secret-page"]).tip
    response = analyst_client.get(f"/admin/hotline/tip/{tip.pk}/change/")
    assert response.status_code == 200
    assert "https://example.com/secret-page" in response.text
    assert 'href="https://example.com/secret-page"' not in response.text
    assert '<img src="https://example.com' not in response.text
    assert AuditEvent.objects.filter(action="hotline.tip.viewed", actor=analyst, object_id=str(tip.pk)).exists()


def test_opening_a_url_is_an_explicit_audited_post(analyst_client, analyst):
    tip = submit_tip(urls=["https://example.com/secret-page"]).tip
    url = tip.urls.get()
    assert not AuditEvent.objects.filter(action="hotline.tip.url_opened").exists()
    response = analyst_client.post(
        f"/admin/hotline/tip/{tip.pk}/change/", {"action": "open_url", "url_id": str(url.pk)}
    )
    assert response.status_code == 302
    assert response["Location"] == "https://example.com/secret-page"
    assert AuditEvent.objects.filter(action="hotline.tip.url_opened", actor=analyst, object_id=str(tip.pk)).exists()


def test_lifecycle_actions_from_the_tip_page(analyst_client):
    tip = submit_tip().tip
    page = f"/admin/hotline/tip/{tip.pk}/change/"
    analyst_client.post(page, {"action": "start"})
    analyst_client.post(page, {"action": "assess", "outcome": "illegal"})
    analyst_client.post(page, {"action": "forward"})
    analyst_client.post(page, {"action": "forward"})  # a double click
    analyst_client.post(page, {"action": "takedown", "host_provider": "Exempel Hosting"})
    analyst_client.post(page, {"action": "recheck", "still_online": "yes"})
    analyst_client.post(page, {"action": "confirm_removal"})
    analyst_client.post(page, {"action": "ask", "body": "Vilken app?"})
    tip.refresh_from_db()
    assert tip.status == Tip.Status.REMOVAL_CONFIRMED
    assert tip.host_provider == "Exempel Hosting"
    assert tip.rechecks.count() == 1
    assert PoliceHandoff.objects.filter(tip=tip).count() == 1
    assert tip.messages.get().body == "Vilken app?"
    response = analyst_client.get(page)
    assert "Tid från tips till borttagning" in response.text


def test_no_delete_or_add_in_the_admin(analyst_client):
    tip = submit_tip().tip
    assert analyst_client.get(f"/admin/hotline/tip/{tip.pk}/delete/").status_code in (403, 302)
    assert analyst_client.get("/admin/hotline/tip/add/").status_code == 403
    assert Tip.objects.filter(pk=tip.pk).exists()


def test_a_failed_handoff_shows_prominently_and_can_be_retried(
    analyst_client, analyst, django_capture_on_commit_callbacks
):
    tip = submit_tip(urgent=True).tip
    PoliceHandoff.objects.filter(tip=tip).update(status=PoliceHandoff.Status.FAILED, failure_reason="HTTP 400 nope")
    listing = analyst_client.get("/admin/hotline/tip/")
    assert "1 överlämning till polisen har misslyckats" in listing.text
    handoffs = analyst_client.get("/admin/hotline/policehandoff/")
    assert "HTTP 400 nope" in handoffs.text
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        analyst_client.post(f"/admin/hotline/tip/{tip.pk}/change/", {"action": "retry_handoff"})
        analyst_client.post(f"/admin/hotline/tip/{tip.pk}/change/", {"action": "retry_handoff"})
    assert len(callbacks) == 1
    handoff = PoliceHandoff.objects.get(tip=tip)
    assert handoff.status == PoliceHandoff.Status.PENDING
    assert AuditEvent.objects.filter(action="hotline.handoff.retried", actor=analyst).count() == 1


def test_the_tip_list_makes_the_same_number_of_queries_for_many_tips(analyst_client, django_assert_max_num_queries):
    submit_tip()
    analyst_client.get("/admin/hotline/tip/")  # warm caches (content types, permissions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        analyst_client.get("/admin/hotline/tip/")
    for n in range(6):
        submit_tip(urgent=n % 2 == 0, urls=[f"https://example.com/{n % 3}"])
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = analyst_client.get("/admin/hotline/tip/")
    assert response.context["cl"].result_count == 7


def test_an_unknown_tip_id_is_a_404(analyst_client):
    assert analyst_client.get("/admin/hotline/tip/abc/change/").status_code == 404
    assert analyst_client.get("/admin/hotline/tip/999999/change/").status_code == 404


def test_the_handoff_list_action_retries_only_failed_handoffs(analyst_client, django_capture_on_commit_callbacks):
    failed = PoliceHandoff.objects.get(tip=submit_tip(urgent=True).tip)
    delivered = PoliceHandoff.objects.get(tip=submit_tip(urgent=True).tip)
    PoliceHandoff.objects.filter(pk=failed.pk).update(status=PoliceHandoff.Status.FAILED)
    PoliceHandoff.objects.filter(pk=delivered.pk).update(status=PoliceHandoff.Status.DELIVERED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = analyst_client.post(
            "/admin/hotline/policehandoff/",
            {"action": "retry_delivery", "_selected_action": [str(failed.pk), str(delivered.pk)]},
        )
    assert response.status_code == 302
    assert len(callbacks) == 1
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert failed.status == PoliceHandoff.Status.PENDING
    assert delivered.status == PoliceHandoff.Status.DELIVERED
