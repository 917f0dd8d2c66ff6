"""Hand-off health: /healthz fails when an urgent hand-off waits too long or the receiver keeps failing."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.models import HandoffAttempt, PoliceHandoff
from hotline.selectors import handoff_health
from staff.roles import Role
from tests.factories import login_verified
from tests.hotline.conftest import submit_tip
from tests.staff.helpers import staff_member

pytestmark = pytest.mark.django_db


def handoff(*, urgent: bool = True, age_minutes: float = 0) -> PoliceHandoff:
    tip = submit_tip(urgent=True).tip
    row = PoliceHandoff.objects.get(tip=tip)
    if not urgent:
        type(tip).objects.filter(pk=tip.pk).update(priority=type(tip).Priority.NORMAL)
    PoliceHandoff.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=age_minutes))
    return row


def attempts(row: PoliceHandoff, *outcomes: str) -> None:
    now = timezone.now()
    for number, outcome in enumerate(outcomes, start=1):
        HandoffAttempt.objects.create(
            handoff=row, number=number, outcome=outcome, finished_at=now + timedelta(seconds=number)
        )


def test_healthy_with_nothing_waiting(settings):
    health = handoff_health()
    assert health.ok and health.oldest_urgent_waiting is None and health.failures_in_a_row == 0


def test_an_urgent_hand_off_older_than_the_threshold_fails(settings):
    settings.POLICE_HANDOFF_ALERT_MINUTES = 10
    handoff(age_minutes=9)
    assert handoff_health().ok
    old = handoff(age_minutes=11)
    health = handoff_health()
    assert health.urgent_overdue and not health.ok
    assert health.problems == ["urgent hand-off undelivered for 11 min"]
    PoliceHandoff.objects.filter(pk=old.pk).update(status=PoliceHandoff.Status.DELIVERED)
    assert handoff_health().ok


def test_a_normal_hand_off_waiting_long_is_not_an_urgent_alarm(settings):
    handoff(urgent=False, age_minutes=60)
    assert handoff_health().ok


def test_failures_in_a_row_fail_until_an_attempt_succeeds(settings):
    settings.POLICE_HANDOFF_ALERT_FAILURES = 3
    row = handoff()
    attempts(row, HandoffAttempt.Outcome.ACCEPTED, HandoffAttempt.Outcome.RETRY, HandoffAttempt.Outcome.INTERRUPTED)
    assert handoff_health().failures_in_a_row == 2 and handoff_health().ok
    HandoffAttempt.objects.create(
        handoff=row,
        number=4,
        outcome=HandoffAttempt.Outcome.REJECTED,
        finished_at=timezone.now() + timedelta(minutes=1),
    )
    HandoffAttempt.objects.create(handoff=row, number=5)  # in progress: neither
    health = handoff_health()
    assert health.receiver_failing and health.problems == ["receiver failed 3 attempts in a row"]
    HandoffAttempt.objects.create(
        handoff=row,
        number=6,
        outcome=HandoffAttempt.Outcome.ACCEPTED,
        finished_at=timezone.now() + timedelta(minutes=2),
    )
    assert handoff_health().ok


def test_health_costs_two_queries_whatever_the_number_of_hand_offs(django_assert_num_queries):
    for _ in range(5):
        attempts(handoff(age_minutes=1), HandoffAttempt.Outcome.RETRY)
    with django_assert_num_queries(2):
        handoff_health()


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_an_overdue_urgent_hand_off(settings):
    settings.POLICE_HANDOFF_ALERT_MINUTES = 10
    handoff(age_minutes=30)
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["policehandoffs"] == "Unavailable: urgent hand-off undelivered for 30 min"
    assert body["checks"]["database"] == "ok"


@pytest.mark.parametrize(("role", "shown"), [(Role.ANALYST, True), (Role.COUNSELLOR, False)])
def test_the_admin_start_page_warns_analysts_of_a_stuck_urgent_hand_off(client, settings, role, shown):
    settings.POLICE_HANDOFF_ALERT_MINUTES = 10
    login_verified(client, staff_member(role=role))
    assert 'id="handoff-health"' not in client.get(reverse("admin:index")).content.decode()
    handoff(age_minutes=25)
    html = client.get(reverse("admin:index")).content.decode()
    assert ('id="handoff-health"' in html) is shown
    if shown:
        assert "har väntat 25 minuter" in html
