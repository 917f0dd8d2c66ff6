"""Retention in one place: the registry, the page, the audit job, and /healthz."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import first_broken_link
from audit.services import record_event
from retention.models import RetentionRun
from retention.registry import RUN_POLICY_TASK
from retention.selectors import Status, retention_overview
from retention.services import run_retention
from retention.tasks import run_retention_policy
from staff.roles import Role
from tests.factories import login_verified
from tests.staff.helpers import staff_member

AUDIT_JOB = {"retention.audit_records": {"task": RUN_POLICY_TASK, "args": ("audit_records",), "schedule": 86400}}


def statuses():
    return {row.kind: row.status for row in retention_overview()}


@pytest.mark.django_db
def test_the_audit_job_deletes_what_is_due_and_nothing_else(settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "audit_records": 30}
    user = staff_member()
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=31), tick=False):
        for n in range(2):
            record_event(actor=user, action="hotline.tip.viewed", object_id=n)
    with time_machine.travel(now - timedelta(days=29, hours=23), tick=False):
        kept_old = record_event(actor=user, action="supportline.transcript.viewed", object_id=9)
    recent = record_event(actor=user, action="staff.login.succeeded")
    assert first_broken_link() is None

    assert run_retention_policy("audit_records") == 2

    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {kept_old.pk, recent.pk}
    run = RetentionRun.objects.get()
    assert (run.kind, run.deleted, run.outcome) == ("audit_records", 2, RetentionRun.Outcome.SUCCEEDED)
    assert first_broken_link() is None


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_reraised():
    def purge(cutoff):
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        run_retention("feedback", purge)
    run = RetentionRun.objects.get()
    assert (run.outcome, run.error, run.deleted) == (RetentionRun.Outcome.FAILED, "ConnectionError", 0)


@pytest.mark.django_db
def test_statuses_from_settings_and_runs(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        **AUDIT_JOB,
        # Found by what they run, whatever their names.
        "retention.feedback": {"task": RUN_POLICY_TASK, "args": ("feedback",), "schedule": 3600},
        "supportline-purge-transcripts": {"task": RUN_POLICY_TASK, "args": ["transcripts"], "schedule": 3600},
        "retention.closed_tips": {"task": "x.purge_closed_tips", "schedule": 3600},
    }
    now = timezone.now()
    RetentionRun.objects.create(kind="audit_records", finished_at=now - timedelta(hours=3))
    RetentionRun.objects.create(kind="feedback", finished_at=now - timedelta(hours=1))
    RetentionRun.objects.create(kind="feedback", finished_at=now, outcome=RetentionRun.Outcome.FAILED)
    RetentionRun.objects.create(kind="transcripts", finished_at=now - timedelta(days=3))
    assert statuses() == {
        "audit_records": Status.OK,
        "feedback": Status.FAILED,
        "transcripts": Status.MISSED,
        "tip_contact_details": Status.NO_JOB,
        "closed_tips": Status.NO_JOB,
        "partner_token_uses": Status.NO_JOB,
        "letters": Status.NO_JOB,
    }


@pytest.mark.django_db
def test_the_retention_page_lists_every_period_its_job_and_problems(client, settings):
    settings.CELERY_BEAT_SCHEDULE = dict(AUDIT_JOB)
    RetentionRun.objects.create(kind="audit_records", outcome=RetentionRun.Outcome.FAILED, error="OperationalError")
    login_verified(client, staff_member(role=Role.ADMINISTRATOR))
    response = client.get(reverse("admin:retention_retentionrun_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    for kind, days in settings.RETENTION_DAYS.items():
        assert f"<code>{kind}</code>" in html
        assert f"<td>{days}</td>" in html
    assert f"{RUN_POLICY_TASK}(audit_records)" in html
    assert "audit.services.purge_events_before" in html
    assert html.count("Inget jobb ännu") >= 4
    assert "Senaste körningen misslyckades" in html
    assert "OperationalError" in html


@pytest.mark.django_db
def test_the_real_beat_schedule_enforces_audit_retention(settings):
    assert "retention.audit_records" in settings.CELERY_BEAT_SCHEDULE
    assert settings.CELERY_BEAT_SCHEDULE["retention.audit_records"]["task"] == run_retention_policy.name
    assert settings.CELERY_BEAT_SCHEDULE["retention.audit_records"]["args"] == ("audit_records",)


@pytest.mark.django_db(transaction=True)
def test_healthz_fails_on_a_failed_run(settings):
    settings.CELERY_BEAT_SCHEDULE = dict(AUDIT_JOB)
    RetentionRun.objects.create(kind="audit_records", outcome=RetentionRun.Outcome.FAILED, error="X")
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "audit_records" in body["checks"]["retention"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_healthz_fails_on_a_missed_run(settings):
    settings.CELERY_BEAT_SCHEDULE = dict(AUDIT_JOB)
    RetentionRun.objects.create(kind="audit_records", finished_at=timezone.now() - timedelta(days=3))
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert "missed" in response.json()["checks"]["retention"]


@pytest.mark.django_db(transaction=True)
def test_a_kind_without_a_job_does_not_fail_healthz(settings):
    settings.CELERY_BEAT_SCHEDULE = dict(AUDIT_JOB)
    # "feedback" has no job here; even a stale failed run of it is only shown on the page.
    RetentionRun.objects.create(kind="audit_records")
    RetentionRun.objects.create(
        kind="feedback", finished_at=timezone.now() - timedelta(days=9), outcome=RetentionRun.Outcome.FAILED
    )
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["retention"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "warned"), [(Role.ADMINISTRATOR, True), (Role.EDITOR, False)])
def test_the_admin_index_warns_administrators_of_a_failed_run(client, settings, role, warned):
    settings.CELERY_BEAT_SCHEDULE = dict(AUDIT_JOB)
    login_verified(client, staff_member(role=role))
    assert 'id="retention-problems"' not in client.get(reverse("admin:index")).content.decode()
    RetentionRun.objects.create(kind="audit_records", outcome=RetentionRun.Outcome.FAILED, error="X")
    html = client.get(reverse("admin:index")).content.decode()
    assert ('id="retention-problems"' in html) is warned


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_beat_entry_and_records_the_run(tmp_path):
    """What beat sends (the entry's task name and arguments) reaches a worker and deletes what is due."""
    from ecpat_site.celery import app as celery_app
    from tests.processes import CeleryWorker, database_url_for_subprocess, service_env

    user = staff_member()
    with time_machine.travel(timezone.now() - timedelta(days=800), tick=False):
        due = record_event(actor=user, action="hotline.tip.viewed", object_id=1)
    kept = record_event(actor=user, action="hotline.tip.viewed", object_id=2)
    entry = celery_app.conf.beat_schedule["retention.audit_records"]

    env = service_env(DATABASE_URL=database_url_for_subprocess(), DATA_DIR=str(tmp_path))
    worker = CeleryWorker(env, log_path=tmp_path / "worker.log")
    worker.start()
    try:
        deleted = celery_app.send_task(entry["task"], args=entry["args"]).get(timeout=60)
    finally:
        worker.stop()
    assert deleted == 1, worker.output()
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AuditEvent.objects.filter(pk=due.pk).exists()
    run = RetentionRun.objects.get(kind="audit_records")
    assert run.deleted == 1
    assert first_broken_link() is None
