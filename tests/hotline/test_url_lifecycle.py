"""Each reported URL's path: four-eyes confirmation, police hold, removal and withdrawal."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from hotline import services
from hotline.models import FeedChange, Provider, TipURL
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.feed_helpers import illegal_tip, listed_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_analyst(db):
    return StaffUserFactory(role=Role.ANALYST)


def url_actions(reported):
    return list(
        AuditEvent.objects.filter(object_type="hotline.TipURL", object_id=str(reported.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_the_analyst_who_assessed_a_url_cannot_confirm_it(analyst, second_analyst):
    reported = illegal_tip(analyst, "https://bad.example/a").urls.get()
    services.url_assess_illegal(url_id=reported.pk, actor=analyst)
    with pytest.raises(services.FourEyesError):
        services.url_confirm(url_id=reported.pk, actor=analyst)
    reported.refresh_from_db()
    assert reported.state == TipURL.State.ASSESSED
    assert not FeedChange.objects.exists()

    services.url_confirm(url_id=reported.pk, actor=second_analyst)
    reported.refresh_from_db()
    assert reported.state == TipURL.State.LISTED
    assert reported.confirmed_by == second_analyst
    assert set(FeedChange.objects.values_list("audience", "change")) == {("industry", "added"), ("police", "added")}
    assert url_actions(reported) == ["hotline.url.assessed_illegal", "hotline.url.confirmed"]


def test_a_url_of_a_tip_not_assessed_illegal_cannot_be_assessed(analyst):
    from tests.hotline.conftest import submit_tip

    reported = submit_tip(urls=["https://fine.example/"]).tip.urls.get()
    with pytest.raises(services.TransitionError):
        services.url_assess_illegal(url_id=reported.pk, actor=analyst)


def test_confirming_schedules_a_rebuild_of_the_feed_after_commit(
    analyst, second_analyst, django_capture_on_commit_callbacks
):
    reported = illegal_tip(analyst, "https://bad.example/b").urls.get()
    services.url_assess_illegal(url_id=reported.pk, actor=analyst)
    with django_capture_on_commit_callbacks() as callbacks:
        services.url_confirm(url_id=reported.pk, actor=second_analyst)
    assert len(callbacks) == 1  # the rebuild; assessing alone changes no feed


def test_police_hold_leaves_the_industry_feed_only_and_is_audited(analyst, second_analyst):
    reported = listed_url(analyst, second_analyst, "https://bad.example/c")
    services.url_hold_for_police(url_id=reported.pk, actor=analyst)
    assert list(FeedChange.objects.filter(version=2).values_list("audience", "change")) == [("industry", "removed")]
    with pytest.raises(services.TransitionError):
        services.url_hold_for_police(url_id=reported.pk, actor=analyst)
    services.url_release_police_hold(url_id=reported.pk, actor=second_analyst)
    assert list(FeedChange.objects.filter(version=3).values_list("audience", "change")) == [("industry", "added")]
    assert url_actions(reported)[-2:] == ["hotline.url.police_hold", "hotline.url.police_hold_released"]


def test_withdrawal_needs_a_reason_which_is_kept_encrypted(analyst, second_analyst):
    reported = listed_url(analyst, second_analyst, "https://bad.example/d")
    with pytest.raises(services.ReasonRequired):
        services.url_withdraw(url_id=reported.pk, actor=analyst, reason="  ")
    services.url_withdraw(url_id=reported.pk, actor=analyst, reason="Fel adress: sidan är en nyhetsartikel.")
    reported.refresh_from_db()
    assert reported.state == TipURL.State.WITHDRAWN
    assert reported.withdrawal_reason == "Fel adress: sidan är en nyhetsartikel."
    with connection.cursor() as cursor:
        cursor.execute("SELECT withdrawal_reason FROM hotline_tipurl WHERE id = %s", [reported.pk])
        assert "nyhetsartikel" not in cursor.fetchone()[0]
    assert url_actions(reported)[-1] == "hotline.url.withdrawn"
    assert FeedChange.objects.filter(change="removed").count() == 2


def test_the_same_address_in_two_tips_is_one_feed_entry_until_both_leave(analyst, second_analyst):
    first = listed_url(analyst, second_analyst, "https://bad.example/same")
    second = listed_url(analyst, second_analyst, "https://bad.example/same")
    assert FeedChange.objects.filter(change="added").count() == 2  # one per audience, not per tip
    services.url_record_removal(url_id=first.pk, actor=analyst)
    assert not FeedChange.objects.filter(change="removed").exists()
    services.url_record_removal(url_id=second.pk, actor=analyst)
    assert FeedChange.objects.filter(change="removed").count() == 2


def test_admin_actions_say_what_was_done_and_enforce_four_eyes(client, analyst, second_analyst):
    reported = illegal_tip(analyst, "https://bad.example/e").urls.get()
    login_verified(client, analyst)
    changelist = "/admin/hotline/tipurl/"
    response = client.post(changelist, {"action": "assess_illegal", "_selected_action": [reported.pk]}, follow=True)
    assert "1 adress bedömdes som olaglig" in response.content.decode()
    response = client.post(changelist, {"action": "confirm", "_selected_action": [reported.pk]}, follow=True)
    assert "den som bedömde en adress kan inte också bekräfta den" in response.content.decode()

    client.logout()
    login_verified(client, second_analyst)
    response = client.post(changelist, {"action": "confirm", "_selected_action": [reported.pk]}, follow=True)
    assert "1 adress bekräftades och finns nu i partnerflödet" in response.content.decode()


def test_withdrawing_from_the_admin_asks_for_a_reason_first(client, analyst, second_analyst):
    reported = listed_url(analyst, second_analyst, "https://bad.example/f")
    login_verified(client, analyst)
    changelist = "/admin/hotline/tipurl/"
    form = {"action": "withdraw", "_selected_action": [reported.pk], "confirm_withdrawal": "1", "reason": ""}
    response = client.post(changelist, form)
    assert "Skriv varför adresserna återkallas." in response.content.decode()
    reported.refresh_from_db()
    assert reported.state == TipURL.State.LISTED
    response = client.post(changelist, {**form, "reason": "Polisen bad oss."}, follow=True)
    assert "1 adress återkallades" in response.content.decode()
    reported.refresh_from_db()
    assert reported.state == TipURL.State.WITHDRAWN


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.EDITOR, Role.ADMINISTRATOR])
def test_only_analysts_see_reported_urls(client, role):
    login_verified(client, StaffUserFactory(role=role))
    assert client.get("/admin/hotline/tipurl/").status_code == 403


def test_an_analyst_picks_a_provider_when_there_is_no_suggestion(client, analyst, second_analyst):
    host = Provider.objects.create(name="Liten webbhotell AB", abuse_email="abuse@liten.example", country="SE")
    reported = listed_url(analyst, second_analyst, "https://unknown-host.example/g")
    login_verified(client, analyst)
    changelist = "/admin/hotline/tipurl/"
    form = {"action": "choose_provider", "_selected_action": [reported.pk], "confirm_provider": "1", "provider": ""}
    response = client.post(changelist, form)
    assert "Välj en leverantör." in response.content.decode()
    reported.refresh_from_db()
    assert reported.provider_id is None

    response = client.post(changelist, {**form, "provider": host.pk}, follow=True)
    assert "1 adress fick leverantören Liten webbhotell AB." in response.content.decode()
    reported.refresh_from_db()
    assert reported.provider_id == host.pk
    assert url_actions(reported)[-1] == "hotline.url.provider_set"
