from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from hotline import selectors, services
from hotline.models import PoliceHandoff, Tip
from hotline.services import TransitionError
from staff.roles import Role
from tests.factories import StaffUserFactory
from tests.hotline.conftest import submit_tip

pytestmark = pytest.mark.django_db


def actions(tip):
    return list(
        AuditEvent.objects.filter(object_type="hotline.Tip", object_id=str(tip.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_the_illegal_path_runs_to_removal_and_close_and_every_step_is_audited(analyst):
    tip = submit_tip().tip
    services.tip_start_assessment(tip_id=tip.pk, actor=analyst)
    services.tip_assess(tip_id=tip.pk, actor=analyst, outcome=Tip.Outcome.ILLEGAL)
    services.tip_forward_to_police(tip_id=tip.pk, actor=analyst)
    services.tip_record_takedown_notice(tip_id=tip.pk, actor=analyst, host_provider="Exempel Hosting AB")
    services.tip_record_recheck(tip_id=tip.pk, actor=analyst, still_online=True)
    services.tip_confirm_removal(tip_id=tip.pk, actor=analyst)
    services.tip_close(tip_id=tip.pk, actor=analyst)
    tip.refresh_from_db()
    assert tip.status == Tip.Status.CLOSED
    assert tip.handoff.status == PoliceHandoff.Status.PENDING
    assert tip.time_to_removal is not None
    assert actions(tip) == [
        "hotline.tip.received",
        "hotline.tip.assessment_started",
        "hotline.tip.assessed.illegal",
        "hotline.tip.forwarded",
        "hotline.tip.takedown_notice_sent",
        "hotline.tip.rechecked",
        "hotline.tip.removal_confirmed",
        "hotline.tip.closed",
    ]


@pytest.mark.parametrize("outcome", ["not_illegal", "out_of_remit", "duplicate", "content_gone"])
def test_other_outcomes_close_without_the_police(analyst, outcome):
    tip = submit_tip().tip
    services.tip_start_assessment(tip_id=tip.pk, actor=analyst)
    services.tip_assess(tip_id=tip.pk, actor=analyst, outcome=outcome)
    with pytest.raises(TransitionError):
        services.tip_forward_to_police(tip_id=tip.pk, actor=analyst)
    services.tip_close(tip_id=tip.pk, actor=analyst)
    assert not PoliceHandoff.objects.exists()


def test_steps_cannot_be_skipped(analyst):
    tip = submit_tip().tip
    for step in (services.tip_forward_to_police, services.tip_close, services.tip_confirm_removal):
        with pytest.raises(TransitionError):
            step(tip_id=tip.pk, actor=analyst)
    with pytest.raises(TransitionError):
        services.tip_assess(tip_id=tip.pk, actor=analyst, outcome="illegal")
    services.tip_start_assessment(tip_id=tip.pk, actor=analyst)
    services.tip_assess(tip_id=tip.pk, actor=analyst, outcome="illegal")
    with pytest.raises(TransitionError):
        services.tip_close(tip_id=tip.pk, actor=analyst)


def test_an_assessment_is_locked_to_one_analyst(analyst):
    other = StaffUserFactory.create(role=Role.ANALYST)
    tip = submit_tip().tip
    services.tip_start_assessment(tip_id=tip.pk, actor=analyst)
    with pytest.raises(TransitionError):
        services.tip_start_assessment(tip_id=tip.pk, actor=other)
    with pytest.raises(TransitionError):
        services.tip_assess(tip_id=tip.pk, actor=other, outcome="illegal")
    services.tip_release(tip_id=tip.pk, actor=analyst)
    services.tip_start_assessment(tip_id=tip.pk, actor=other)


def test_forwarding_twice_makes_one_handoff(analyst, django_capture_on_commit_callbacks):
    tip = submit_tip().tip
    services.tip_start_assessment(tip_id=tip.pk, actor=analyst)
    services.tip_assess(tip_id=tip.pk, actor=analyst, outcome="illegal")
    with django_capture_on_commit_callbacks() as callbacks:
        services.tip_forward_to_police(tip_id=tip.pk, actor=analyst)
        with pytest.raises(TransitionError):
            services.tip_forward_to_police(tip_id=tip.pk, actor=analyst)
    assert PoliceHandoff.objects.count() == 1
    assert len(callbacks) == 1


def test_an_urgent_tip_keeps_its_single_handoff_when_later_forwarded(analyst):
    tip = submit_tip(urgent=True).tip
    services.tip_start_assessment(tip_id=tip.pk, actor=analyst)
    services.tip_assess(tip_id=tip.pk, actor=analyst, outcome="illegal")
    services.tip_forward_to_police(tip_id=tip.pk, actor=analyst)
    assert PoliceHandoff.objects.filter(tip=tip).count() == 1


def test_duplicates_link_to_earlier_tips_by_keyed_url_hash():
    first = submit_tip(urls=["https://example.com/same"]).tip
    unrelated = submit_tip(urls=["https://example.com/other"]).tip
    second = submit_tip(urls=["https://example.com/same", "https://example.net/new"]).tip
    assert selectors.related_tips(second) == [first]
    assert selectors.related_tips(first) == [second]
    flags = {tip.pk: getattr(tip, "reported_before", None) for tip in selectors.tips_for_analysts()}
    assert flags == {first.pk: False, unrelated.pk: False, second.pk: True}


def test_removal_medians_over_30_and_90_days(analyst):
    now = timezone.now()

    def removed_after(hours, days_ago):
        tip = submit_tip().tip
        Tip.objects.filter(pk=tip.pk).update(
            received_at=now - timedelta(days=days_ago, hours=hours),
            removal_confirmed_at=now - timedelta(days=days_ago),
        )

    removed_after(10, 1)
    removed_after(20, 2)
    removed_after(100, 60)
    removed_after(500, 200)  # outside both windows
    medians = selectors.removal_medians(now)
    assert medians[30] == timedelta(hours=15)
    assert medians[90] == timedelta(hours=20)


def test_queue_order_puts_urgent_first():
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        old = submit_tip().tip
    urgent = submit_tip(urgent=True).tip
    new = submit_tip().tip
    assert list(Tip.objects.in_queue_order()) == [urgent, old, new]
