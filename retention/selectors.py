"""Every retention period, the policy and beat job that enforce it, and how its runs went."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retention.models import RetentionRun
from retention.registry import retention_policies, runs_policy


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    MISSED = "missed"
    NOT_RUN_YET = "not_run_yet"
    NO_JOB = "no_job"


STATUS_LABELS = {
    Status.OK: _("I ordning"),
    Status.FAILED: _("Senaste körningen misslyckades"),
    Status.MISSED: _("Ingen lyckad körning på länge"),
    Status.NOT_RUN_YET: _("Har inte körts ännu"),
    Status.NO_JOB: _("Inget jobb ännu"),
}


@dataclass(frozen=True)
class BeatJob:
    name: str
    task: str
    schedule: str


@dataclass(frozen=True)
class RetentionKind:
    kind: str
    days: int
    # The dotted path of the purge function an app registered, or "" when none did.
    purge: str
    jobs: list[BeatJob]
    last_run: RetentionRun | None
    last_success: RetentionRun | None
    status: Status

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_problem(self) -> bool:
        return self.status in (Status.FAILED, Status.MISSED)


def beat_jobs_for(kind: str, schedule: dict[str, dict[str, Any]] | None = None) -> list[BeatJob]:
    """The CELERY_BEAT_SCHEDULE entries that run the retention policy for ``kind``, whatever their names."""
    schedule = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
    return [
        BeatJob(name=name, task=str(entry["task"]), schedule=str(entry.get("schedule", "")))
        for name, entry in sorted(schedule.items())
        if runs_policy(entry, kind)
    ]


def retention_overview(now: datetime | None = None) -> list[RetentionKind]:
    """One row per RETENTION_DAYS kind, in settings order."""
    now = now or timezone.now()
    missed_after = timedelta(hours=settings.RETENTION_MISSED_AFTER_HOURS)
    purges = {policy.kind: policy.purge for policy in retention_policies()}
    rows = []
    for kind, days in settings.RETENTION_DAYS.items():
        runs = RetentionRun.objects.filter(kind=kind).order_by("-finished_at", "-id")
        last_run = runs.first()
        last_success = runs.filter(outcome=RetentionRun.Outcome.SUCCEEDED).first()
        jobs = beat_jobs_for(kind) if kind in purges else []
        if not jobs:
            status = Status.NO_JOB
        elif last_run is None:
            status = Status.NOT_RUN_YET
        elif last_run.outcome == RetentionRun.Outcome.FAILED:
            status = Status.FAILED
        elif last_success is None or now - last_success.finished_at > missed_after:
            status = Status.MISSED
        else:
            status = Status.OK
        rows.append(RetentionKind(kind, days, purges.get(kind, ""), jobs, last_run, last_success, status))
    return rows


def retention_problems(now: datetime | None = None) -> list[RetentionKind]:
    """Kinds whose job failed or missed its runs; a kind without a job is no problem (yet)."""
    return [row for row in retention_overview(now) if row.is_problem]
