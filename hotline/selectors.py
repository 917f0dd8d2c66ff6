"""Every read of the hotline's data for views, the admin and the tasks."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.db.models.expressions import OrderBy
from django.utils import timezone

from hotline import partner_tokens, receipts
from hotline.models import (
    FeedChange,
    FeedSnapshot,
    FeedVersion,
    HandoffAttempt,
    PartnerToken,
    PoliceHandoff,
    Provider,
    TakedownNotice,
    Tip,
    TipMessage,
    TipQuerySet,
    TipURL,
)
from hotline.reported_urls import InwardTarget, inward_target


def tip_for_receipt(code: str) -> Tip | None:
    """The tip a receipt code belongs to, or None; a wrong code costs as much time as a right one."""
    parsed = receipts.parse(code)
    if parsed is None:
        receipts.check_verifier("0" * 12, None)
        return None
    lookup, verifier = parsed
    tip = Tip.objects.filter(receipt_lookup=receipts.lookup_hash(lookup)).first()
    if not receipts.check_verifier(verifier, tip.receipt_verifier if tip else None):
        return None
    return tip


def tips_for_analysts() -> TipQuerySet:
    """Tips in queue order, each marked when one of its URLs was reported in an earlier tip."""
    earlier = TipURL.objects.filter(url_hash=OuterRef("url_hash"), tip_id__lt=OuterRef("tip_id"))
    repeated = TipURL.objects.filter(tip=OuterRef("pk")).filter(Exists(earlier))
    return (
        Tip.objects.select_related("assigned_to", "handoff").annotate(reported_before=Exists(repeated)).in_queue_order()
    )


def related_tips(tip: Tip) -> list[Tip]:
    """Other tips that reported at least one of the same URLs, oldest first."""
    hashes = TipURL.objects.filter(tip=tip).values("url_hash")
    return list(Tip.objects.filter(urls__url_hash__in=hashes).exclude(pk=tip.pk).distinct().order_by("received_at"))


@dataclass(frozen=True)
class ReportedURLForAnalyst:
    pk: int
    url: str
    inward: InwardTarget | None  # set when the address points into a private network: flag it, never open it


def reported_urls_for_analyst(tip: Tip) -> list[ReportedURLForAnalyst]:
    """The tip's reported URLs, each with the inward target it points at, if any."""
    return [ReportedURLForAnalyst(pk=r.pk, url=r.url, inward=inward_target(r.url)) for r in tip.urls.all()]


def reporter_messages(tip: Tip) -> list[TipMessage]:
    return list(tip.messages.all())


def removal_medians(now: datetime | None = None, windows: tuple[int, ...] = (30, 90)) -> dict[int, timedelta | None]:
    """Median time from report to confirmed removal, for removals in each of the last ``windows`` days."""
    now = now or timezone.now()
    rows = [
        (received, removed)
        for received, removed in Tip.objects.filter(
            removal_confirmed_at__gte=now - timedelta(days=max(windows))
        ).values_list("received_at", "removal_confirmed_at")
        if removed is not None
    ]
    medians: dict[int, timedelta | None] = {}
    for days in windows:
        since = now - timedelta(days=days)
        durations = [(removed - received).total_seconds() for received, removed in rows if removed >= since]
        medians[days] = timedelta(seconds=median(durations)) if durations else None
    return medians


# The hand-off list's order: failed first (they need a person), then pending, in delivery and
# delivered; newest first within each. The statuses' alphabetical order would put pending first.
HANDOFF_LIST_ORDER: tuple[OrderBy | str, ...] = (
    Case(
        When(status=PoliceHandoff.Status.FAILED, then=Value(0)),
        When(status=PoliceHandoff.Status.PENDING, then=Value(1)),
        When(status=PoliceHandoff.Status.DELIVERING, then=Value(2)),
        default=Value(3),
    ).asc(),
    "-created_at",
)


def failed_handoff_count() -> int:
    return PoliceHandoff.objects.filter(status=PoliceHandoff.Status.FAILED).count()


def handoffs_due_for_sweep(now: datetime | None = None) -> list[int]:
    """Hand-offs whose delivery message may be lost: pending past due, or a lease that ran out."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.POLICE_HANDOFF_SWEEP_SECONDS)
    return list(
        PoliceHandoff.objects.filter(
            Q(status=PoliceHandoff.Status.PENDING, next_attempt_at__lte=now - grace)
            | Q(status=PoliceHandoff.Status.DELIVERING, lease_until__lt=now)
        ).values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class HandoffHealth:
    """Whether police hand-offs are getting through; for /healthz and the admin start page."""

    oldest_urgent_waiting: timedelta | None  # age of the oldest urgent hand-off not yet delivered
    failures_in_a_row: int  # the receiver's latest finished attempts that failed, newest first
    urgent_limit: timedelta
    failure_limit: int

    @property
    def urgent_overdue(self) -> bool:
        return self.oldest_urgent_waiting is not None and self.oldest_urgent_waiting > self.urgent_limit

    @property
    def receiver_failing(self) -> bool:
        return self.failures_in_a_row >= self.failure_limit

    @property
    def ok(self) -> bool:
        return not (self.urgent_overdue or self.receiver_failing)

    @property
    def problems(self) -> list[str]:
        """Short English lines for machines and logs; empty when healthy."""
        problems = []
        if self.urgent_overdue and self.oldest_urgent_waiting is not None:
            minutes = int(self.oldest_urgent_waiting.total_seconds() // 60)
            problems.append(f"urgent hand-off undelivered for {minutes} min")
        if self.receiver_failing:
            problems.append(f"receiver failed {self.failures_in_a_row} attempts in a row")
        return problems


def handoff_health(now: datetime | None = None) -> HandoffHealth:
    """Two queries, whatever the number of hand-offs (settings ``POLICE_HANDOFF_ALERT_*``)."""
    now = now or timezone.now()
    failure_limit = max(1, settings.POLICE_HANDOFF_ALERT_FAILURES)
    oldest = (
        PoliceHandoff.objects.filter(tip__priority=Tip.Priority.URGENT)
        .exclude(status=PoliceHandoff.Status.DELIVERED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    latest = (
        HandoffAttempt.objects.exclude(outcome=HandoffAttempt.Outcome.IN_PROGRESS)
        .order_by("-finished_at", "-pk")
        .values_list("outcome", flat=True)[:failure_limit]
    )
    failures = 0
    for outcome in latest:
        if outcome == HandoffAttempt.Outcome.ACCEPTED:
            break
        failures += 1
    return HandoffHealth(
        oldest_urgent_waiting=now - oldest if oldest else None,
        failures_in_a_row=failures,
        urgent_limit=timedelta(minutes=settings.POLICE_HANDOFF_ALERT_MINUTES),
        failure_limit=failure_limit,
    )


# --- The partner feed ---------------------------------------------------------


def feed_version() -> int:
    """The feed's current version: the number of the last change (0 before any)."""
    return FeedVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def feed_snapshot(*, audience: str, kind: str, page: int, version: int | None = None) -> FeedSnapshot | None:
    """The newest stored page (or the page of ``version``), without its body."""
    snapshots = FeedSnapshot.objects.filter(audience=audience, kind=kind, page=page).defer("body")
    if version is not None:
        snapshots = snapshots.filter(version=version)
    return snapshots.order_by("-version").first()


def feed_snapshot_body(snapshot_id: int) -> bytes:
    return bytes(FeedSnapshot.objects.values_list("body", flat=True).get(pk=snapshot_id))


@dataclass(frozen=True)
class FeedDelta:
    version: int  # the version this delta brings a partner to
    more: bool  # more changes follow: ask again with since=version
    added: list[tuple[str, str]]  # (sha256, url)
    removed: list[tuple[str, str]]


def feed_delta(*, audience: str, since: int, limit: int, with_urls: bool = True) -> FeedDelta:
    """Net changes to one audience's feed after version ``since``, at most ``limit`` rows read.

    An entry added and removed again within the window appears in neither
    list; a cut is made only between versions, never inside one. Without
    ``with_urls`` (the hashes feed) no URL is read or decrypted. Versions are
    handed out in commit order, so whatever is visible has no gaps below it.
    """
    changes = FeedChange.objects.filter(audience=audience, version__gt=since).order_by("version", "id")
    url: Any = F("url") if with_urls else Value("", output_field=CharField())
    columns = changes.annotate(entry_url=url).values_list("version", "change", "sha256", "entry_url")
    rows = list(columns[: limit + 1])
    more = len(rows) > limit
    if more:
        boundary = rows[limit][0]
        rows = [row for row in rows if row[0] < boundary] or list(columns.filter(version=boundary))
    reached = rows[-1][0] if rows else since
    first: dict[str, str] = {}
    last: dict[str, tuple[str, str]] = {}
    for _, change, sha256, url in rows:
        first.setdefault(sha256, change)
        last[sha256] = (change, url)
    added, removed = [], []
    for sha256, (change, url) in last.items():
        # Present before the window exactly when its first change removed it.
        was_present = first[sha256] == FeedChange.Change.REMOVED
        is_present = change == FeedChange.Change.ADDED
        if is_present and not was_present:
            added.append((sha256, url))
        elif was_present and not is_present:
            removed.append((sha256, url))
    return FeedDelta(version=reached, more=more, added=sorted(added), removed=sorted(removed))


def partner_token_for(secret: str, now: datetime | None = None) -> PartnerToken | None:
    """The usable token (not revoked, not expired, partner active) for a presented secret, or None."""
    now = now or timezone.now()
    return (
        PartnerToken.objects.select_related("partner")
        .filter(token_hash=partner_tokens.token_hash(secret), revoked_at__isnull=True, partner__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )


# --- Notice and takedown ----------------------------------------------------------


def provider_suggestion(url: str, providers: list[Provider] | None = None) -> Provider | None:
    """The provider whose known domain is the URL's host or a parent of it, the longest match winning.

    Matching on known domains (their registered domains, or a platform's
    sub-domains) needs no public-suffix list and no network: the host is only
    read from the text of the address.
    """
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    best: tuple[int, Provider] | None = None
    for provider in providers if providers is not None else list(Provider.objects.all()):
        for domain in provider.domains():
            if (host == domain or host.endswith("." + domain)) and (best is None or len(domain) > best[0]):
                best = (len(domain), provider)
    return best[1] if best else None


def notices_needing_analysts() -> int:
    """Open notices flagged after NOTICE_ESCALATE_HOURS without removal."""
    return TakedownNotice.objects.filter(
        escalated_at__isnull=False, state__in=[TakedownNotice.State.SENT, TakedownNotice.State.ACKNOWLEDGED]
    ).count()


@dataclass(frozen=True)
class TakedownMetrics:
    group: str  # a provider's name or a country code
    notices: int
    report_to_notice_median: timedelta | None
    report_to_notice_p90: timedelta | None
    notice_to_removal_median: timedelta | None
    notice_to_removal_p90: timedelta | None
    removed_within_24h: float | None  # shares of sent notices
    removed_within_72h: float | None
    removed_within_7d: float | None


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def _metrics(group: str, rows: list[tuple[datetime, datetime, datetime | None]]) -> TakedownMetrics:
    to_notice = [(sent - received).total_seconds() for received, sent, _ in rows]
    to_removal = [(removed - sent).total_seconds() for _, sent, removed in rows if removed is not None]

    def share(hours: int) -> float | None:
        return sum(1 for seconds in to_removal if seconds <= hours * 3600) / len(rows) if rows else None

    def seconds(value: float | None) -> timedelta | None:
        return timedelta(seconds=value) if value is not None else None

    return TakedownMetrics(
        group=group,
        notices=len(rows),
        report_to_notice_median=seconds(median(to_notice) if to_notice else None),
        report_to_notice_p90=seconds(_p90(to_notice) if to_notice else None),
        notice_to_removal_median=seconds(median(to_removal) if to_removal else None),
        notice_to_removal_p90=seconds(_p90(to_removal) if to_removal else None),
        removed_within_24h=share(24),
        removed_within_72h=share(72),
        removed_within_7d=share(7 * 24),
    )


def takedown_metrics(*, by: str = "provider", since: datetime | None = None) -> list[TakedownMetrics]:
    """Time from report to notice and from notice to removal, per provider or per country.

    One row per first notice of a URL (reminders and later notices do not
    restart the clock). Removal is the analyst's recorded removal of the URL.
    """
    notices = TakedownNotice.objects.filter(sent_at__isnull=False).order_by("tip_url_id", "sent_at")
    if since is not None:
        notices = notices.filter(sent_at__gte=since)
    key = "provider__name" if by == "provider" else "provider__country"
    groups: dict[str, list[tuple[datetime, datetime, datetime | None]]] = {}
    seen: set[int] = set()
    for url_id, group, received, sent, removed in notices.values_list(
        "tip_url_id", key, "tip_url__tip__received_at", "sent_at", "tip_url__removed_at"
    ):
        if url_id in seen:
            continue
        seen.add(url_id)
        groups.setdefault(group, []).append((received, sent, removed))
    return [_metrics(group, rows) for group, rows in sorted(groups.items())]
