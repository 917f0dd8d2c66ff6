"""Providers and notice-and-takedown: suggestion, sending, police hold, reminders, states and metrics."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from hotline import selectors, services
from hotline.models import FeedChange, Provider, TakedownNotice, TipURL
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.feed_helpers import listed_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmer(db):
    return StaffUserFactory(role=Role.ANALYST)


@pytest.fixture
def host(db):
    return Provider.objects.create(
        name="Exempel Hosting AB",
        abuse_email="abuse@exempelhost.se",
        country="SE",
        notice_language="sv",
        known_domains="exempelhost.se\nbad.example",
    )


def noticed_url(analyst, confirmer, host, url="https://files.bad.example/a"):
    reported = listed_url(analyst, confirmer, url)
    services.url_set_provider(url_id=reported.pk, provider_id=host.pk, actor=analyst)
    return reported, services.notice_send(url_id=reported.pk, actor=analyst)


def test_the_provider_is_suggested_from_the_host_longest_known_domain_first(host):
    platform = Provider.objects.create(
        name="Plattform", web_form_url="https://platform.example/report", country="US", known_domains="cdn.bad.example"
    )
    assert selectors.provider_suggestion("https://www.exempelhost.se/x") == host
    assert selectors.provider_suggestion("https://bad.example/") == host
    assert selectors.provider_suggestion("https://img.cdn.bad.example/1.jpg") == platform
    assert selectors.provider_suggestion("https://notbad.example/") is None
    assert selectors.provider_suggestion("https://exempelhost.se.evil.example/") is None


def test_a_notice_says_what_where_and_why_and_never_carries_the_reporters_words(analyst, confirmer, host):
    _reported, notice = noticed_url(analyst, confirmer, host)
    assert notice.state == TakedownNotice.State.QUEUED
    assert services.notice_deliver(notice_id=notice.pk) == "sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["abuse@exempelhost.se"]
    assert notice.reference in message.subject
    assert "https://files.bad.example/a" in message.body
    assert "16 kap. 10 a § brottsbalken" in message.body
    assert "Jag såg något hemskt" not in message.body  # the reporter's description (tests.hotline.conftest)
    assert "i går" not in message.body
    notice.refresh_from_db()
    assert notice.state == TakedownNotice.State.SENT
    assert notice.message_id == message.extra_headers["Message-ID"]
    assert services.notice_deliver(notice_id=notice.pk) == "nothing"  # a redelivered task sends nothing again
    assert len(mail.outbox) == 1


def test_english_providers_get_english_notices(analyst, confirmer, host):
    host.notice_language = "en"
    host.save()
    _, notice = noticed_url(analyst, confirmer, host)
    services.notice_deliver(notice_id=notice.pk)
    assert "Swedish Penal Code" in mail.outbox[0].body
    assert mail.outbox[0].subject.startswith("Notice to remove")


def test_a_web_form_provider_is_filed_by_hand(analyst, confirmer):
    platform = Provider.objects.create(name="Plattform", web_form_url="https://platform.example/report", country="US")
    reported = listed_url(analyst, confirmer, "https://platform.example/u/1")
    services.url_set_provider(url_id=reported.pk, provider_id=platform.pk, actor=analyst)
    with pytest.raises(services.NoticeRefused):
        services.notice_send(url_id=reported.pk, actor=analyst)
    notice = services.notice_filed_by_hand(url_id=reported.pk, actor=analyst)
    assert (notice.state, notice.method, notice.created_by) == ("sent", "web_form", analyst)
    assert notice.sent_at is not None


def test_held_for_police_means_no_notice_and_no_reminder_until_released(analyst, confirmer, host):
    reported, notice = noticed_url(analyst, confirmer, host)
    services.notice_deliver(notice_id=notice.pk)
    services.url_hold_for_police(url_id=reported.pk, actor=analyst)
    with time_machine.travel(timezone.now() + timedelta(hours=100)):
        assert services.notice_sweep().reminders == []
    assert len(mail.outbox) == 1

    other = listed_url(analyst, confirmer, "https://bad.example/b")
    services.url_set_provider(url_id=other.pk, provider_id=host.pk, actor=analyst)
    services.url_hold_for_police(url_id=other.pk, actor=analyst)
    with pytest.raises(services.NoticeRefused):
        services.notice_send(url_id=other.pk, actor=analyst)

    services.url_release_police_hold(url_id=reported.pk, actor=analyst)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert services.notice_sweep().reminders == [notice.pk]


def test_a_reminder_after_24_hours_and_a_flag_to_analysts_after_72(analyst, confirmer, host, settings, client):
    settings.NOTICE_REMINDER_HOURS = 24
    settings.NOTICE_ESCALATE_HOURS = 72
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _, notice = noticed_url(analyst, confirmer, host)
        services.notice_deliver(notice_id=notice.pk)
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        assert services.notice_sweep().reminders == []
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        sweep = services.notice_sweep()
        assert (sweep.reminders, sweep.escalated) == ([notice.pk], [])
        assert services.notice_deliver(notice_id=notice.pk) == "reminded"
        assert services.notice_sweep().reminders == []  # once only
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.startswith("Påminnelse: ")
    assert "PÅMINNELSE" in mail.outbox[1].body
    with time_machine.travel(start + timedelta(hours=73), tick=False):
        assert services.notice_sweep().escalated == [notice.pk]
    login_verified(client, analyst)
    assert "har inte lett till att materialet tagits bort" in client.get("/admin/").content.decode()


def test_states_are_recorded_with_who_and_when_and_removal_takes_the_url_out_of_the_feed(analyst, confirmer, host):
    reported, notice = noticed_url(analyst, confirmer, host)
    services.notice_deliver(notice_id=notice.pk)
    services.notice_acknowledge(notice_id=notice.pk, actor=confirmer)
    services.notice_record_removed(notice_id=notice.pk, actor=analyst)
    notice.refresh_from_db()
    reported.refresh_from_db()
    assert (notice.state, notice.acknowledged_by, notice.closed_by) == ("removed", confirmer, analyst)
    assert notice.acknowledged_at is not None and notice.closed_at is not None
    assert reported.state == TipURL.State.REMOVED
    assert FeedChange.objects.filter(change="removed", sha256=reported.feed_sha256).count() == 2
    with pytest.raises(services.TransitionError):
        services.notice_record_refused(notice_id=notice.pk, actor=analyst)
    actions = (
        AuditEvent.objects.filter(object_type="hotline.TakedownNotice").order_by("id").values_list("action", flat=True)
    )
    assert list(actions) == [
        "hotline.notice.queued",
        "hotline.notice.sent",
        "hotline.notice.acknowledged",
        "hotline.notice.removed",
    ]


def test_metrics_per_provider_and_country(analyst, confirmer, host):
    other = Provider.objects.create(name="Other", abuse_email="abuse@other.example", country="NL")
    start = timezone.now()
    hours_to_removal = {"https://bad.example/1": 10, "https://bad.example/2": 50, "https://bad.example/3": None}
    for url, hours in hours_to_removal.items():
        with time_machine.travel(start, tick=False):
            _, notice = noticed_url(analyst, confirmer, host, url)
        with time_machine.travel(start + timedelta(hours=2), tick=False):
            services.notice_deliver(notice_id=notice.pk)
        if hours is not None:
            with time_machine.travel(start + timedelta(hours=2 + hours), tick=False):
                services.notice_record_removed(notice_id=notice.pk, actor=analyst)
    with time_machine.travel(start, tick=False):
        _, notice = noticed_url(analyst, confirmer, other, "https://elsewhere.example/x")
        services.notice_deliver(notice_id=notice.pk)
    (row,) = [row for row in selectors.takedown_metrics(by="provider") if row.group == host.name]
    assert row.notices == 3
    assert row.report_to_notice_median == timedelta(hours=2)
    assert row.notice_to_removal_median == timedelta(hours=30)
    assert row.notice_to_removal_p90 == timedelta(hours=50)
    assert row.removed_within_24h == pytest.approx(1 / 3)
    assert row.removed_within_72h == pytest.approx(2 / 3)
    assert [row.group for row in selectors.takedown_metrics(by="country")] == ["NL", "SE"]


def test_the_notice_list_shows_metrics_and_admin_actions_say_what_was_done(client, analyst, confirmer, host):
    _reported, notice = noticed_url(analyst, confirmer, host)
    services.notice_deliver(notice_id=notice.pk)
    login_verified(client, analyst)
    page = client.get("/admin/hotline/takedownnotice/").content.decode()
    assert "Tid till borttagning" in page
    assert "Exempel Hosting AB" in page
    response = client.post(
        "/admin/hotline/takedownnotice/", {"action": "removed", "_selected_action": [notice.pk]}, follow=True
    )
    assert "1 begäranden stängdes som borttagna" in response.content.decode()


def test_sending_from_the_url_list_uses_the_suggested_provider(client, analyst, confirmer, host):
    reported = listed_url(analyst, confirmer, "https://www.exempelhost.se/x")
    login_verified(client, analyst)
    page = client.get("/admin/hotline/tipurl/").content.decode()
    assert "Exempel Hosting AB" in page  # the suggestion column
    client.post("/admin/hotline/tipurl/", {"action": "use_suggested_provider", "_selected_action": [reported.pk]})
    reported.refresh_from_db()
    assert reported.provider == host
    response = client.post(
        "/admin/hotline/tipurl/", {"action": "send_notice", "_selected_action": [reported.pk]}, follow=True
    )
    assert "1 begäranden om borttagning köades" in response.content.decode()
    assert TakedownNotice.objects.get().state == TakedownNotice.State.QUEUED


def test_beat_runs_the_reminder_sweep_and_catches_lost_feed_rebuilds(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"hotline.tasks.notice_reminders", "hotline.tasks.rebuild_feed_snapshots"} <= tasks


def test_the_url_notice_and_partner_lists_are_swedish_throughout(client, analyst, confirmer, host):
    from hotline.models import Partner
    from tests.hotline.test_admin_swedish import column_headers

    _, notice = noticed_url(analyst, confirmer, host)
    services.notice_deliver(notice_id=notice.pk)
    login_verified(client, analyst)
    assert column_headers(client.get("/admin/hotline/tipurl/").text) == [
        "Adress",
        "Tips",
        "Status",
        "Spärrad för polisen",
        "Bedömd av",
        "Bekräftad av",
        "Bekräftad",
        "Leverantör",
        "Föreslagen leverantör",
    ]
    assert column_headers(client.get("/admin/hotline/takedownnotice/").text) == [
        "Referens",
        "Leverantör",
        "Sätt",
        "Läge",
        "Skickad",
        "Påminnelse skickad",
        "Flaggad till analytiker",
        "Bekräftad av leverantören",
        "Avslutad",
        "Avslutad av",
    ]
    Partner.objects.create(name="ISP AB")
    client.logout()
    login_verified(client, StaffUserFactory(role=Role.ADMINISTRATOR))
    assert column_headers(client.get("/admin/hotline/partner/").text) == [
        "Namn",
        "Slag",
        "Får hämta adresser (urls)",
        "Får hämta hashar (url-hashes)",
        "Aktiv",
    ]
