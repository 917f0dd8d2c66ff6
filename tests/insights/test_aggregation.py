"""The beat job: idempotent, settles days once they are over, and its numbers survive retention purges."""

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from hotline.models import Tip
from insights import selectors, services
from insights.figures import Figure, Period
from insights.models import AggregationState, DailyCount, DutySample, SupportHour
from insights.tasks import aggregate_daily_figures, sample_counsellors_on_duty
from retention.models import RetentionRun
from retention.tasks import run_retention_policy
from staff.roles import Role
from supportline import services as supportline_services
from supportline.letters.models import Letter
from supportline.models import Classification, Feedback
from tests.factories import StaffUserFactory
from tests.insights.fixtures import DAY, at, make_hotline_day, make_support_day

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    daily = list(
        DailyCount.objects.order_by("metric", "day", "group", "bucket").values_list(
            "metric", "day", "group", "bucket", "count"
        )
    )
    hourly = list(
        SupportHour.objects.order_by("start").values_list(
            "start", "chats", "letters", "open_minutes", "duty_samples", "duty_sum"
        )
    )
    return daily, hourly


def everything(period: Period) -> list[Figure]:
    return [*selectors.support_figures(period), *selectors.hotline_figures(period)]


def test_running_the_job_twice_changes_nothing():
    make_support_day()
    make_hotline_day()
    with time_machine.travel(at(12, day=DAY + timedelta(days=3)), tick=False):
        assert aggregate_daily_figures() > 0
        first = snapshot()
        state = AggregationState.objects.get()
        aggregate_daily_figures()
        assert snapshot() == first
        # Recomputing settled days on purpose (the backfill's --since) gives the same numbers too.
        services.aggregate_days(since=DAY)
        assert snapshot() == first
    assert AggregationState.objects.get().settled_through == state.settled_through == DAY + timedelta(days=2)
    assert len(first[1]) == 24 * 4  # every hour of the four days, also the empty ones


def test_a_day_is_settled_only_once_it_is_over_and_the_grace_has_passed():
    make_support_day()
    with time_machine.travel(at(23, 30), tick=False):
        assert services.aggregate_days().settled_through is None
    # Just after midnight a chat queued before it may still be answered: not settled yet.
    with time_machine.travel(at(1, 0, DAY + timedelta(days=1)), tick=False):
        assert services.aggregate_days().settled_through is None
    with time_machine.travel(at(2, 30, DAY + timedelta(days=1)), tick=False):
        assert services.aggregate_days().settled_through == DAY


def test_only_unsettled_days_are_recomputed():
    make_support_day()
    with time_machine.travel(at(12, day=DAY + timedelta(days=2)), tick=False):
        services.aggregate_days()
    # Rows of a settled day that vanish (as after a purge) do not change its numbers.
    Feedback.objects.all().delete()
    with time_machine.travel(at(12, day=DAY + timedelta(days=3)), tick=False):
        result = services.aggregate_days()
    assert result.first == DAY + timedelta(days=2)
    assert DailyCount.objects.filter(metric=DailyCount.Metric.FEEDBACK, day=DAY).exists()


def test_figures_survive_the_retention_purges(settings):
    """Data -> aggregate -> past every retention period -> the real purges -> the same figures."""
    settings.RETENTION_DAYS = {
        **settings.RETENTION_DAYS,
        "transcripts": 30,
        "feedback": 30,
        "letters": 30,
        "closed_tips": 30,
    }
    make_support_day()
    make_hotline_day()
    Letter.objects.update(status=Letter.Status.CLOSED, closed_at=at(11))
    Tip.objects.update(status=Tip.Status.CLOSED, closed_at=at(20))
    period = Period(DAY, DAY + timedelta(days=3))
    with time_machine.travel(at(12, day=DAY + timedelta(days=4)), tick=False):
        services.aggregate_days()
        before = everything(period)
    with time_machine.travel(at(12, day=DAY + timedelta(days=400)), tick=False):
        run_retention_policy("transcripts")
        assert run_retention_policy("feedback") == 7
        assert run_retention_policy("letters") == 0  # no messages, but the threads go
        assert run_retention_policy("closed_tips") == 12
        aggregate_daily_figures()
    assert not Feedback.objects.exists() and not Letter.objects.exists() and not Tip.objects.exists()
    assert everything(period) == before
    assert dict(before[0].summary)["Kontakter"] == 16  # the numbers were there to survive


def test_a_purge_that_runs_before_the_job_first_has_the_days_counted(settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "feedback": 30}
    make_support_day()
    with time_machine.travel(at(12, day=DAY + timedelta(days=400)), tick=False):
        assert not DailyCount.objects.exists()
        assert run_retention_policy("feedback") == 7
    feedback = {f.key: f for f in selectors.support_figures(Period(DAY, DAY))}["support_feedback"]
    assert dict(feedback.summary) == {"Svar": 7}


def test_a_purge_never_passes_the_first_unsettled_day(settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "feedback": 1}
    with time_machine.travel(at(0, 10), tick=False):
        Feedback.objects.create(answer="yes")
    # 00:30 the next day: the feedback is past its one day, but its day is not settled yet.
    with time_machine.travel(at(0, 30, DAY + timedelta(days=1)), tick=False):
        assert run_retention_policy("feedback") == 0
    assert Feedback.objects.exists()
    with time_machine.travel(at(3, 0, DAY + timedelta(days=1)), tick=False):
        assert run_retention_policy("feedback") == 1
    assert DailyCount.objects.get(metric=DailyCount.Metric.FEEDBACK, day=DAY).count == 1
    assert RetentionRun.objects.filter(kind="feedback").count() == 2


def test_a_failing_aggregation_fails_the_purge_visibly(settings, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("aggregation broke")

    monkeypatch.setattr(services, "aggregate_days", broken)
    with pytest.raises(RuntimeError):
        run_retention_policy("feedback")
    run = RetentionRun.objects.get(kind="feedback")
    assert run.outcome == RetentionRun.Outcome.FAILED and run.error == "RuntimeError"


def test_the_on_duty_roster_is_sampled_once_per_slot_by_number_only():
    counsellors: list[Any] = [StaffUserFactory(role=Role.COUNSELLOR) for _ in range(3)]
    StaffUserFactory(role=Role.ANALYST)
    moment = datetime.combine(DAY, time(18, 7), tzinfo=TZ)
    with time_machine.travel(moment, tick=False):
        for user in counsellors[:2]:
            supportline_services.counsellor_on_duty(user_id=user.pk, changed=False)
        assert sample_counsellors_on_duty() == 2
        supportline_services.counsellor_on_duty(user_id=counsellors[2].pk, changed=False)
    with time_machine.travel(moment + timedelta(minutes=2), tick=False):
        assert sample_counsellors_on_duty() == 2  # same slot (18:05): the first sample stands
    assert list(DutySample.objects.values_list("slot", "on_duty")) == [(moment.replace(minute=5), 2)]
    with time_machine.travel(moment, tick=False):
        services.aggregate_days()
    hour = SupportHour.objects.get(start=moment.replace(minute=0))
    assert (hour.duty_samples, hour.duty_sum) == (1, 2)


def test_roles_hold_exactly_their_insights_permissions():
    def held(role: Role) -> set[str]:
        return set(
            Group.objects.get(name=role.value)
            .permissions.filter(content_type__app_label="insights")
            .values_list("codename", flat=True)
        )

    assert held(Role.SUPERVISOR) == {"view_support_insights"}
    assert held(Role.ANALYST) == {"view_hotline_insights"}
    assert held(Role.EDITOR) == {"view_prevention_insights"}
    assert held(Role.ADMINISTRATOR) == {
        "view_support_insights",
        "view_hotline_insights",
        "view_prevention_insights",
    }
    assert held(Role.COUNSELLOR) == set()


def test_cached_figures_are_replaced_by_the_next_run():
    make_support_day()
    period = Period(DAY, DAY)
    with time_machine.travel(at(12, day=DAY + timedelta(days=1)), tick=False):
        services.aggregate_days()
        assert dict(selectors.support_figures(period)[0].summary)["Kontakter"] == 16
        for minute in range(5):
            with time_machine.travel(at(19, minute), tick=False):
                Feedback.objects.create(answer="no")
        assert dict(selectors.support_figures(period)[-1].summary)["Svar"] == 7  # until the job runs
        services.aggregate_days(since=DAY)
        assert dict(selectors.support_figures(period)[-1].summary)["Svar"] == 12


def test_beat_runs_the_job_and_the_sampler(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["insights-aggregate-daily-figures"]["task"] == aggregate_daily_figures.name
    assert schedule["insights-sample-counsellors-on-duty"]["task"] == sample_counsellors_on_duty.name
    assert schedule["insights-sample-counsellors-on-duty"]["schedule"] == services.DUTY_SAMPLE_MINUTES * 60


def test_only_the_fixed_vocabulary_is_counted():
    make_support_day()
    Classification.objects.update(categories=["grooming", "Kalle på Storgatan 3"])
    with time_machine.travel(at(12, day=DAY + timedelta(days=1)), tick=False):
        services.aggregate_days()
    groups = set(DailyCount.objects.filter(metric=DailyCount.Metric.CATEGORY).values_list("group", flat=True))
    assert groups == {"grooming"}


def test_daylight_saving_days_keep_every_hour_once():
    spring, autumn = DAY.replace(month=3, day=29), DAY.replace(month=10, day=25)
    for day in (spring, autumn):
        with time_machine.travel(at(2, 30, day) + timedelta(hours=1), tick=False):
            Feedback.objects.create(answer="yes")  # in the hour after 02:00 local: repeated in autumn
        with time_machine.travel(at(12, day=day + timedelta(days=1)), tick=False):
            services.aggregate_days(since=day)
    assert SupportHour.objects.filter(day=spring).count() == 23
    assert SupportHour.objects.filter(day=autumn).count() == 25
    assert list(SupportHour.objects.filter(day=autumn, hour=2).values_list("weekday", flat=True)) == [6, 6]
