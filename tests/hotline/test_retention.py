from datetime import timedelta

import pytest
from django.utils import timezone

from hotline import services
from hotline.models import PoliceHandoff, Tip, TipMessage, TipURL
from retention.models import RetentionRun
from retention.registry import runs_policy
from retention.tasks import run_retention_policy
from tests.hotline.conftest import submit_tip

pytestmark = pytest.mark.django_db


def age(tip, days, **fields):
    Tip.objects.filter(pk=tip.pk).update(received_at=timezone.now() - timedelta(days=days), **fields)


def test_contact_details_are_purged_after_their_period_and_the_run_recorded(settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "tip_contact_details": 90}
    old = submit_tip(contact="gammal@example.org").tip
    recent = submit_tip(contact="ny@example.org").tip
    age(old, 91)
    age(recent, 10)
    assert run_retention_policy("tip_contact_details") == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.contact is None and old.contact_purged_at is not None
    assert old.description  # the tip itself stays
    assert recent.contact == "ny@example.org"
    run = RetentionRun.objects.get(kind="tip_contact_details")
    assert run.deleted == 1


def test_closed_tips_are_purged_with_everything_that_belongs_to_them(settings, analyst):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "closed_tips": 365}
    closed_long_ago = submit_tip(urgent=True).tip
    services.tip_ask_reporter(tip_id=closed_long_ago.pk, actor=analyst, body="Fråga")
    closed_recently = submit_tip().tip
    open_old = submit_tip().tip
    long_ago = timezone.now() - timedelta(days=400)
    Tip.objects.filter(pk=closed_long_ago.pk).update(status=Tip.Status.CLOSED, closed_at=long_ago)
    Tip.objects.filter(pk=closed_recently.pk).update(status=Tip.Status.CLOSED, closed_at=timezone.now())
    age(open_old, 500)
    assert run_retention_policy("closed_tips") == 1
    assert set(Tip.objects.values_list("pk", flat=True)) == {closed_recently.pk, open_old.pk}
    assert not TipURL.objects.filter(tip_id=closed_long_ago.pk).exists()
    assert not TipMessage.objects.exists()
    assert not PoliceHandoff.objects.exists()
    assert RetentionRun.objects.get(kind="closed_tips").deleted == 1


def test_both_retention_jobs_are_on_the_beat_schedule(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE.values()
    tasks_scheduled = {entry["task"] for entry in schedule}
    for kind in ("tip_contact_details", "closed_tips"):
        assert any(runs_policy(entry, kind) for entry in schedule), kind
    assert "hotline.tasks.sweep_police_handoffs" in tasks_scheduled
