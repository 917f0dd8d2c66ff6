"""Every read of the hotline's data for views, the admin and the tasks."""

from datetime import datetime, timedelta
from statistics import median

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from hotline import receipts
from hotline.models import PoliceHandoff, Tip, TipMessage, TipQuerySet, TipURL


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
