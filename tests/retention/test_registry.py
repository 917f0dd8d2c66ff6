"""The retention registry: what the apps declare is what beat runs, and nothing else decides it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core import checks

from retention.checks import check_retention_policies
from retention.registry import RUN_POLICY_TASK, beat_schedule, retention_policies, retention_policy, runs_policy
from retention.tasks import run_retention_policy


def test_every_period_has_exactly_one_policy_and_every_policy_a_period(settings):
    kinds = [policy.kind for policy in retention_policies()]
    assert sorted(kinds) == sorted(settings.RETENTION_DAYS)
    assert check_retention_policies() == []


def test_each_app_declares_its_own_policies():
    owners = {policy.kind: policy.app_label for policy in retention_policies()}
    assert owners == {
        "audit_records": "audit",
        "transcripts": "supportline",
        "feedback": "supportline",
        "tip_contact_details": "hotline",
        "closed_tips": "hotline",
        "partner_token_uses": "hotline",
        "letters": "supportline",
    }
    for policy in retention_policies():
        assert callable(policy.purge_function()), policy


def test_beat_runs_every_policy_by_kind_with_one_unit():
    """One entry per policy, in the real schedule, each an interval in whole seconds."""
    generated = beat_schedule()
    assert set(generated) == {f"retention.{policy.kind}" for policy in retention_policies()}
    for name, entry in generated.items():
        assert django_settings.CELERY_BEAT_SCHEDULE[name] == entry
        assert entry["task"] == RUN_POLICY_TASK == run_retention_policy.name
        assert isinstance(entry["schedule"], int) and entry["schedule"] > 0
    retention_entries = [
        entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == RUN_POLICY_TASK
    ]
    assert len(retention_entries) == len(generated)


def test_a_beat_entry_is_matched_by_what_it_runs_not_by_its_name():
    assert runs_policy({"task": RUN_POLICY_TASK, "args": ["feedback"]}, "feedback")
    assert not runs_policy({"task": RUN_POLICY_TASK, "args": ["transcripts"]}, "feedback")
    assert not runs_policy({"task": "supportline.tasks.purge_feedback"}, "feedback")


@pytest.mark.django_db
def test_an_unknown_kind_is_refused_and_nothing_recorded():
    from retention.models import RetentionRun

    with pytest.raises(KeyError):
        run_retention_policy("postcards")
    assert not RetentionRun.objects.exists()


def test_the_check_reports_a_policy_without_a_period_and_a_purge_that_does_not_import(settings, monkeypatch):
    config = apps.get_app_config("hotline")
    monkeypatch.setattr(
        config,
        "retention_policies",
        {
            **getattr(config, "retention_policies", {}),
            "postcards": {"purge": "hotline.services.no_such_purge", "every_seconds": 3600},
        },
    )
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "partners": 30}
    ids = {message.id for message in check_retention_policies()}
    assert ids == {"retention.E002", "retention.E003", "retention.W001"}
    assert retention_policy("postcards").app_label == "hotline"


def test_the_check_is_registered():
    assert check_retention_policies in checks.registry.registry.get_checks()


def test_each_policy_runs_more_often_than_its_period():
    for policy in retention_policies():
        assert timedelta(seconds=policy.every_seconds) < timedelta(days=django_settings.RETENTION_DAYS[policy.kind])


HELD_UNTIL = datetime(2020, 1, 1, tzinfo=UTC)


def hold_in_2020(kind: str) -> datetime:
    return HELD_UNTIL


@pytest.mark.django_db
def test_a_hold_another_app_declares_keeps_the_cutoff_back(monkeypatch):
    """Retention knows holds only as declared data (AppConfig.retention_holds), never by import."""
    from retention.services import run_retention

    config = apps.get_app_config("insights")
    monkeypatch.setattr(config, "retention_holds", {"feedback": "tests.retention.test_registry.hold_in_2020"})
    seen: list[datetime] = []

    def purge(cutoff: datetime) -> int:
        seen.append(cutoff)
        return 0

    run_retention("feedback", purge)
    run_retention("letters", purge)
    assert seen[0] == HELD_UNTIL and seen[1] > HELD_UNTIL
    monkeypatch.setattr(config, "retention_holds", {"feedback": "tests.retention.nowhere.hold"})
    assert [message.id for message in check_retention_policies()] == ["retention.E005"]
