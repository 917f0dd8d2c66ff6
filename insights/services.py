"""Every write of insights: the daily aggregation, the on-duty samples, the hold on retention.

Settled days. Each count is dated by the event that completes it, so a day
stops changing once it is over. The beat job recomputes every day after
``AggregationState.settled_through`` up to today, replacing that range's rows
(running it twice changes nothing), and then marks as settled each day that
ended at least ``SETTLE_GRACE`` before the run. A settled day is never
recomputed by the job, and retention purges only rows of settled days
(``retention_hold``), so a purge can never take away a number before it was
counted, and a recount can never see a purged day.
"""

from __future__ import annotations

import bisect
import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import DateTimeField, Exists, Max, Min, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from hotline.models import PoliceHandoff, TakedownNotice, Tip
from insights.histogram import bucket_of
from insights.models import AggregationState, DailyCount, DutySample, SupportHour
from staff.roles import Role
from supportline.letters.models import Letter
from supportline.models import Classification, Conversation, Feedback, OpeningHours, SpecialDay
from supportline.selectors import counsellors_on_duty_now, position_band

logger = logging.getLogger(__name__)

Metric = DailyCount.Metric

# A day counts as settled this long after it ended (late commits, a claim just after midnight).
SETTLE_GRACE = timedelta(hours=2)
# The backfill works through history a month at a time, to bound memory.
CHUNK_DAYS = 31
# How far back a chat's place in the queue is worked out (as supportline.selectors.recent_waits).
QUEUE_LOOKBACK = timedelta(hours=6)
# Places 9 and beyond share one band ("9 eller fler").
MAX_PLACE_BAND = 5
# The on-duty roster is sampled every this many minutes (the beat interval).
DUTY_SAMPLE_MINUTES = 5
# Before this moment nothing is purged while no day is settled.
_NOTHING_SETTLED = datetime(1970, 1, 1, tzinfo=UTC)

Key = tuple[str, date, str, int]

KNOWN_CATEGORIES = {str(value) for value in Classification.Category.values}
KNOWN_STEPS = {str(value) for value in Conversation.EscalationStep.values}


class _Add(Protocol):
    """The local ``add`` helpers: count one event of ``metric`` at ``moment``."""

    def __call__(self, metric: str, moment: datetime | None, group: str = "", bucket: int = 0) -> None: ...


@dataclass(frozen=True)
class AggregationResult:
    first: date | None
    last: date | None
    settled_through: date | None
    rows: int


def day_start(day: date) -> datetime:
    """Local midnight at the start of ``day``, aware."""
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def _hour_key(moment: datetime) -> datetime:
    """The UTC start of the hour ``moment`` falls in (local hours are whole UTC hours in Sweden),
    so the repeated hour when daylight saving ends stays two hours."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _span(earlier: datetime | None, later: datetime | None) -> int:
    """The histogram bucket of the time from ``earlier`` to ``later`` (the queries exclude missing ends)."""
    if earlier is None or later is None:
        return 0
    return bucket_of((later - earlier).total_seconds())


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- Support line --------------------------------------------------------------------------


def _support_counts(first: date, last: date, counts: Counter[Key], hours: dict[datetime, SupportHour]) -> None:
    start, end = day_start(first), day_start(last + timedelta(days=1))

    def add(metric: str, moment: datetime | None, group: str = "", bucket: int = 0) -> None:
        if moment is not None:
            counts[(metric, _local(moment).date(), group, bucket)] += 1

    def hour_of(moment: datetime) -> SupportHour | None:
        return hours.get(_hour_key(moment))

    for created, age_band, topic in Conversation.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "created_at", "age_band", "topic"
    ):
        add(Metric.CHATS, created)
        add(Metric.AGE_BAND, created, age_band or "unknown")
        add(Metric.TOPIC, created, topic or "unknown")
        if (row := hour_of(created)) is not None:
            row.chats += 1
    for created, age_band, topic in Letter.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "created_at", "age_band", "topic"
    ):
        add(Metric.LETTERS, created)
        add(Metric.AGE_BAND, created, age_band or "unknown")
        add(Metric.TOPIC, created, topic or "unknown")
        if (row := hour_of(created)) is not None:
            row.letters += 1

    _wait_counts(start, end, add)

    for claimed, ended in Conversation.objects.filter(
        ended_at__gte=start, ended_at__lt=end, claimed_at__isnull=False
    ).values_list("claimed_at", "ended_at"):
        add(Metric.DURATION, ended, bucket=_span(claimed, ended))

    for created, categories, outcome in Classification.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).values_list("created_at", "categories", "outcome"):
        # Only the fixed vocabulary is counted, never whatever else a JSON list might hold.
        for category in set(categories or []) & KNOWN_CATEGORIES:
            add(Metric.CATEGORY, created, category)
        add(Metric.OUTCOME, created, outcome or "unknown")

    for model in (Conversation, Letter):
        for marked, steps in model.objects.filter(
            imminent_risk=True, risk_marked_at__gte=start, risk_marked_at__lt=end
        ).values_list("risk_marked_at", "escalation_steps"):
            add(Metric.RISK, marked, "imminent_risk")
            for step in set(steps or []) & KNOWN_STEPS:
                add(Metric.RISK, marked, f"step:{step}")

    for created, answer in Feedback.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "created_at", "answer"
    ):
        add(Metric.FEEDBACK, created, answer)


def _wait_counts(start: datetime, end: datetime, add: _Add) -> None:
    """Waits that ended in [start, end): answered (claimed) or left (ended unclaimed, not blocked),
    each also by the band of the place the young person had on joining the queue."""
    rows: list[tuple[datetime, datetime | None, datetime | None, str]] = sorted(
        (
            (queued, claimed, ended, end_reason)
            for queued, claimed, ended, end_reason in Conversation.objects.filter(
                queued_at__gte=start - timedelta(days=1) - QUEUE_LOOKBACK, queued_at__lt=end
            ).values_list("queued_at", "claimed_at", "ended_at", "end_reason")
            if queued is not None
        ),
        key=lambda row: row[0],
    )
    joined = [row[0] for row in rows]
    for queued, claimed, ended, end_reason in rows:
        if claimed is not None:
            outcome, finished = "answered", claimed
        elif ended is not None and end_reason != Conversation.EndReason.BLOCKED:
            outcome, finished = "left", ended
        else:
            continue
        if not start <= finished < end:
            continue
        bucket = _span(queued, finished)
        add(Metric.WAIT, finished, outcome, bucket)
        first = bisect.bisect_left(joined, queued - QUEUE_LOOKBACK)
        last = bisect.bisect_left(joined, queued)
        ahead = sum(
            1
            for _queued, other_claimed, other_ended, _reason in rows[first:last]
            if (other_claimed is None or other_claimed > queued) and (other_ended is None or other_ended > queued)
        )
        band = min(position_band(ahead + 1), MAX_PLACE_BAND)
        add(Metric.WAIT_BY_PLACE, finished, f"{band}:{outcome}", bucket)


def _open_intervals(
    day: date, weekly: list[OpeningHours], special: dict[date, SpecialDay]
) -> list[tuple[datetime, datetime]]:
    """The chat's opening intervals that start on ``day`` (the same rule as the public opening status)."""
    tz = timezone.get_current_timezone()
    if day in special:
        entry = special[day]
        pairs = [(entry.opens, entry.closes)] if entry.opens and entry.closes else []
    else:
        pairs = [(h.opens, h.closes) for h in weekly if h.weekday == day.weekday()]
    intervals = []
    for opens, closes in pairs:
        end_day = day if closes > opens else day + timedelta(days=1)  # 00:00 or earlier: past midnight
        intervals.append((datetime.combine(day, opens, tzinfo=tz), datetime.combine(end_day, closes, tzinfo=tz)))
    return intervals


def _empty_hours(first: date, last: date) -> dict[datetime, SupportHour]:
    """One row per local hour of the days, with the minutes the chat was open and the on-duty samples."""
    weekly = list(OpeningHours.objects.all())
    special = {s.date: s for s in SpecialDay.objects.filter(date__gte=first - timedelta(days=1), date__lte=last)}
    intervals = [i for day in _days(first - timedelta(days=1), last) for i in _open_intervals(day, weekly, special)]
    hours: dict[datetime, SupportHour] = {}
    # In UTC steps: adding an hour to a local time would skip or repeat one on daylight-saving days.
    moment = day_start(first).astimezone(UTC)
    end = day_start(last + timedelta(days=1)).astimezone(UTC)
    while moment < end:
        local = _local(moment)
        following = moment + timedelta(hours=1)
        open_seconds = sum(
            max(0.0, (min(following, close) - max(moment, opens)).total_seconds()) for opens, close in intervals
        )
        hours[moment] = SupportHour(
            start=moment,
            day=local.date(),
            weekday=local.weekday(),
            hour=local.hour,
            open_minutes=min(60, round(open_seconds / 60)),
        )
        moment = following
    for slot, on_duty in DutySample.objects.filter(slot__gte=day_start(first), slot__lt=end).values_list(
        "slot", "on_duty"
    ):
        row = hours.get(_hour_key(slot))
        if row is not None:
            row.duty_samples += 1
            row.duty_sum += on_duty
    return hours


# --- Hotline ------------------------------------------------------------------------------


def _hotline_counts(first: date, last: date, counts: Counter[Key]) -> None:
    start, end = day_start(first), day_start(last + timedelta(days=1))

    def add(metric: str, moment: datetime | None, group: str = "", bucket: int = 0) -> None:
        if moment is not None:
            counts[(metric, _local(moment).date(), group, bucket)] += 1

    def priority(value: int) -> str:
        return "urgent" if value == Tip.Priority.URGENT else "normal"

    for received, category, prio, found_via in Tip.objects.filter(
        received_at__gte=start, received_at__lt=end
    ).values_list("received_at", "category", "priority", "found_via"):
        add(Metric.TIPS, received, category)
        add(Metric.TIPS_PRIORITY, received, priority(prio))
        add(Metric.TIPS_FOUND_VIA, received, found_via or "unknown")
    for assessed, outcome in Tip.objects.filter(assessed_at__gte=start, assessed_at__lt=end).values_list(
        "assessed_at", "outcome"
    ):
        add(Metric.ASSESSED, assessed, outcome or "unknown")
    for started, received, prio in Tip.objects.filter(
        assessment_started_at__gte=start, assessment_started_at__lt=end
    ).values_list("assessment_started_at", "received_at", "priority"):
        add(Metric.FIRST_ASSESSMENT, started, priority(prio), _span(received, started))

    for delivered, decided, attempts, prio, received in PoliceHandoff.objects.filter(
        status=PoliceHandoff.Status.DELIVERED, delivered_at__gte=start, delivered_at__lt=end
    ).values_list("delivered_at", "created_at", "attempts", "tip__priority", "tip__received_at"):
        add(Metric.HANDOFF, delivered, "delivered" if attempts <= 1 else "delivered_after_retry")
        add(Metric.HANDOFF_DELIVERY, delivered, bucket=_span(decided, delivered))
        if prio == Tip.Priority.URGENT:
            add(Metric.URGENT_HANDOFF, delivered, bucket=_span(received, delivered))
    failed = (
        PoliceHandoff.objects.filter(status=PoliceHandoff.Status.FAILED)
        .annotate(failed_at=Coalesce(Max("attempt_log__finished_at"), "created_at", output_field=DateTimeField()))
        .filter(failed_at__gte=start, failed_at__lt=end)
    )
    for (failed_at,) in failed.values_list("failed_at"):
        add(Metric.HANDOFF, failed_at, "failed")

    for removed, sent, provider, country in TakedownNotice.objects.filter(
        state=TakedownNotice.State.REMOVED, closed_at__gte=start, closed_at__lt=end, sent_at__isnull=False
    ).values_list("closed_at", "sent_at", "provider__name", "provider__country"):
        bucket = _span(sent, removed)
        add(Metric.REMOVAL_PROVIDER, removed, provider, bucket)
        add(Metric.REMOVAL_COUNTRY, removed, country.upper(), bucket)
    # Until a tip's URLs carry notices, its own takedown fields are the record.
    without_notices = ~Exists(TakedownNotice.objects.filter(tip_url__tip=OuterRef("pk")))
    for removed, sent, host in (
        Tip.objects.filter(removal_confirmed_at__gte=start, removal_confirmed_at__lt=end)
        .filter(takedown_notice_sent_at__isnull=False)
        .filter(without_notices)
        .values_list("removal_confirmed_at", "takedown_notice_sent_at", "host_provider")
    ):
        bucket = _span(sent, removed)
        add(Metric.REMOVAL_PROVIDER, removed, host.strip()[:200] or "unknown", bucket)
        add(Metric.REMOVAL_COUNTRY, removed, "unknown", bucket)


# --- The job -------------------------------------------------------------------------------


def _earliest_day(today: date) -> date:
    candidates = [
        Conversation.objects.aggregate(first=Min("created_at"))["first"],
        Letter.objects.aggregate(first=Min("created_at"))["first"],
        Feedback.objects.aggregate(first=Min("created_at"))["first"],
        Tip.objects.aggregate(first=Min("received_at"))["first"],
        DutySample.objects.aggregate(first=Min("slot"))["first"],
    ]
    found = [_local(moment).date() for moment in candidates if moment is not None]
    return min([*found, today])


def _compute_range(first: date, last: date) -> int:
    """Replaces the aggregates of the days ``first``..``last`` with freshly computed ones."""
    counts: Counter[Key] = Counter()
    hours = _empty_hours(first, last)
    _support_counts(first, last, counts, hours)
    _hotline_counts(first, last, counts)
    DailyCount.objects.filter(day__gte=first, day__lte=last).delete()
    rows = [
        DailyCount(metric=metric, day=day, group=group, bucket=bucket, count=count)
        for (metric, day, group, bucket), count in sorted(counts.items())
        if first <= day <= last
    ]
    DailyCount.objects.bulk_create(rows, batch_size=5000)
    SupportHour.objects.bulk_create(
        hours.values(),
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["start"],
        update_fields=["day", "weekday", "hour", "chats", "letters", "open_minutes", "duty_samples", "duty_sum"],
    )
    return len(rows)


def aggregate_days(*, now: datetime | None = None, since: date | None = None) -> AggregationResult:
    """Computes every day not yet settled (or every day from ``since``) up to today, and settles the days that are over.

    Idempotent: a second run replaces the same days with the same numbers. One
    run at a time (a row lock), so the beat job and a purge's hold never race.
    ``since`` recomputes settled days too: only for a backfill on purpose, as a
    recount of a day whose rows were purged would lose them.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        state, _ = AggregationState.objects.select_for_update().get_or_create(pk=1)
        if since is not None:
            first = since
        elif state.settled_through is not None:
            first = state.settled_through + timedelta(days=1)
        else:
            first = _earliest_day(today)
        rows = 0
        chunk_start = first
        while chunk_start <= today:
            chunk_end = min(today, chunk_start + timedelta(days=CHUNK_DAYS - 1))
            rows += _compute_range(chunk_start, chunk_end)
            chunk_start = chunk_end + timedelta(days=1)
        settled = today
        while settled >= first and day_start(settled + timedelta(days=1)) + SETTLE_GRACE > now:
            settled -= timedelta(days=1)
        if settled >= first and (state.settled_through is None or settled > state.settled_through):
            state.settled_through = settled
        state.computed_at = now
        state.generation = uuid.uuid4()
        state.save()
    return AggregationResult(first=first, last=today, settled_through=state.settled_through, rows=rows)


def retention_hold(kind: str) -> datetime:
    """Settles what can be settled, then returns the moment before which ``kind``'s rows may be purged.

    Declared for retention in ``InsightsConfig.retention_holds``: a purge's
    cutoff never passes the start of the first unsettled day.
    """
    state = aggregate_days()
    if state.settled_through is None:
        return _NOTHING_SETTLED
    return day_start(state.settled_through + timedelta(days=1))


# --- Counsellors on duty -------------------------------------------------------------------


def _chat_staff_ids() -> list[int]:
    return sorted(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=[Role.COUNSELLOR, Role.SUPERVISOR])
        .values_list("pk", flat=True)
        .distinct()
    )


def duty_sample(*, now: datetime | None = None) -> DutySample | None:
    """Records how many counsellors have the console open, once per sampling slot (a rerun keeps the first).

    Only the number: never who. Nothing is recorded when the roster cannot be known (cache down).
    """
    now = now or timezone.now()
    slot = now.replace(minute=now.minute - now.minute % DUTY_SAMPLE_MINUTES, second=0, microsecond=0)
    on_duty = counsellors_on_duty_now(_chat_staff_ids())
    if on_duty is None:
        return None
    sample, _ = DutySample.objects.get_or_create(slot=slot, defaults={"on_duty": len(on_duty)})
    return sample
