"""Every write to the hotline: tips, the enforced lifecycle, messages, hand-offs, retention.

Lifecycle (docs/hotline.md)::

    received -> in_assessment (locked to one analyst) -> assessed
    assessed (not illegal / out of remit / duplicate / content gone) -> closed
    assessed (illegal) -> forwarded -> takedown_sent -> removal_confirmed -> closed
    forwarded -> closed (nothing online to take down)

Every transition takes a row lock on the tip, checks the current state and
is audited with ``record_event``.
"""

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit.services import record_event
from hotline import partner_tokens, receipts
from hotline.handoff import DeliveryResult, Outcome, build_package, deliver, sign_package
from hotline.models import (
    FeedAudience,
    FeedChange,
    FeedSnapshot,
    FeedVersion,
    HandoffAttempt,
    PartnerToken,
    PartnerTokenUse,
    PoliceHandoff,
    Provider,
    TakedownNotice,
    TakedownRecheck,
    Tip,
    TipMessage,
    TipURL,
)
from hotline.reported_urls import inward_target, url_hash
from resilience.on_commit import enqueue_after_commit, run_after_commit
from staff.types import StaffUser

TIP = "hotline.Tip"
HANDOFF = "hotline.PoliceHandoff"
FEED_SCHEMA_VERSION = 1


class TransitionError(Exception):
    """The tip is not in a state that allows this action, or is locked to someone else."""


@dataclass(frozen=True)
class SubmittedTip:
    tip: Tip
    receipt_code: str


def tip_submit(
    *,
    category: str,
    urls: list[str],
    place: str,
    occurred: str,
    description: str,
    contact: str,
    urgent: bool,
    found_via: str = "",
) -> SubmittedTip:
    """Stores a new tip (``urls`` already normalised) and returns it with its one-time receipt code.

    An urgent tip gets its police hand-off in the same transaction.
    """
    with transaction.atomic():
        tip = None
        while tip is None:
            receipt = receipts.generate()
            try:
                with transaction.atomic():
                    tip = Tip.objects.create(
                        category=category,
                        found_via=found_via,
                        priority=Tip.Priority.URGENT if urgent else Tip.Priority.NORMAL,
                        place=place,
                        occurred=occurred,
                        description=description,
                        contact=contact or None,
                        receipt_lookup=receipts.lookup_hash(receipt.lookup),
                        receipt_verifier=receipts.hash_verifier(receipt.verifier),
                    )
            except IntegrityError:  # a lookup collision: 29**8 makes it rare
                continue
        TipURL.objects.bulk_create([TipURL(tip=tip, url=url, url_hash=url_hash(url)) for url in urls])
        record_event(actor=None, action="hotline.tip.received", object_type=TIP, object_id=tip.pk)
        if urgent:
            _create_handoff(tip, actor=None)
    return SubmittedTip(tip=tip, receipt_code=receipt.code)


def _locked(tip_id: int) -> Tip:
    return Tip.objects.select_for_update().get(pk=tip_id)


def _require(tip: Tip, *allowed: Tip.Status) -> None:
    if tip.status not in allowed:
        raise TransitionError(f"not allowed while the tip is {tip.status}")


def _require_assignee(tip: Tip, actor: StaffUser) -> None:
    if tip.assigned_to_id != actor.pk:
        raise TransitionError("the tip is locked to another analyst")


def _audit(actor: StaffUser | None, action: str, tip: Tip) -> None:
    record_event(actor=actor, action=f"hotline.tip.{action}", object_type=TIP, object_id=tip.pk)


def tip_record_view(*, tip_id: int, actor: StaffUser) -> None:
    record_event(actor=actor, action="hotline.tip.viewed", object_type=TIP, object_id=tip_id)


class InwardURLRefused(Exception):
    """The reported URL points at a loopback, private or local address and is never opened."""


def tip_open_url(*, url_id: int, actor: StaffUser) -> str:
    """Returns a reported URL for an analyst who explicitly asked to open it; audited.

    Raises InwardURLRefused (and records the refusal) for an address inside a
    network: opening it would aim the analyst's browser at their own machine
    or the office network, which is what whoever reported it may want.
    """
    reported = TipURL.objects.get(pk=url_id)
    if inward_target(reported.url) is not None:
        record_event(actor=actor, action="hotline.tip.url_open_refused", object_type=TIP, object_id=reported.tip_id)
        raise InwardURLRefused
    record_event(actor=actor, action="hotline.tip.url_opened", object_type=TIP, object_id=reported.tip_id)
    return str(reported.url)


@transaction.atomic
def tip_start_assessment(*, tip_id: int, actor: StaffUser) -> Tip:
    tip = _locked(tip_id)
    _require(tip, Tip.Status.RECEIVED)
    tip.status = Tip.Status.IN_ASSESSMENT
    tip.assigned_to = actor
    tip.assessment_started_at = timezone.now()
    tip.save(update_fields=["status", "assigned_to", "assessment_started_at"])
    _audit(actor, "assessment_started", tip)
    return tip


@transaction.atomic
def tip_release(*, tip_id: int, actor: StaffUser) -> Tip:
    """Gives an unfinished assessment back to the queue."""
    tip = _locked(tip_id)
    _require(tip, Tip.Status.IN_ASSESSMENT)
    _require_assignee(tip, actor)
    tip.status = Tip.Status.RECEIVED
    tip.assigned_to = None
    tip.save(update_fields=["status", "assigned_to"])
    _audit(actor, "released", tip)
    return tip


@transaction.atomic
def tip_assess(*, tip_id: int, actor: StaffUser, outcome: str) -> Tip:
    tip = _locked(tip_id)
    _require(tip, Tip.Status.IN_ASSESSMENT)
    _require_assignee(tip, actor)
    if outcome not in Tip.Outcome.values:
        raise TransitionError("unknown outcome")
    tip.status = Tip.Status.ASSESSED
    tip.outcome = outcome
    tip.assessed_at = timezone.now()
    tip.save(update_fields=["status", "outcome", "assessed_at"])
    _audit(actor, f"assessed.{outcome}", tip)
    return tip


@transaction.atomic
def tip_forward_to_police(*, tip_id: int, actor: StaffUser) -> Tip:
    """Marks an illegal tip forwarded and writes its outbox row in the same transaction."""
    tip = _locked(tip_id)
    _require(tip, Tip.Status.ASSESSED)
    if tip.outcome != Tip.Outcome.ILLEGAL:
        raise TransitionError("only a tip assessed as illegal goes to the police")
    tip.status = Tip.Status.FORWARDED
    tip.forwarded_at = timezone.now()
    tip.save(update_fields=["status", "forwarded_at"])
    _audit(actor, "forwarded", tip)
    _create_handoff(tip, actor=actor)
    return tip


@transaction.atomic
def tip_record_takedown_notice(*, tip_id: int, actor: StaffUser, host_provider: str) -> Tip:
    tip = _locked(tip_id)
    _require(tip, Tip.Status.FORWARDED)
    tip.status = Tip.Status.TAKEDOWN_SENT
    tip.host_provider = host_provider.strip()[:200]
    tip.takedown_notice_sent_at = timezone.now()
    tip.save(update_fields=["status", "host_provider", "takedown_notice_sent_at"])
    _audit(actor, "takedown_notice_sent", tip)
    return tip


@transaction.atomic
def tip_record_recheck(*, tip_id: int, actor: StaffUser, still_online: bool) -> TakedownRecheck:
    tip = _locked(tip_id)
    _require(tip, Tip.Status.TAKEDOWN_SENT)
    recheck = TakedownRecheck.objects.create(tip=tip, checked_by=actor, still_online=still_online)
    _audit(actor, "rechecked", tip)
    return recheck


@transaction.atomic
def tip_confirm_removal(*, tip_id: int, actor: StaffUser) -> Tip:
    tip = _locked(tip_id)
    _require(tip, Tip.Status.TAKEDOWN_SENT)
    tip.status = Tip.Status.REMOVAL_CONFIRMED
    tip.removal_confirmed_at = timezone.now()
    tip.save(update_fields=["status", "removal_confirmed_at"])
    _audit(actor, "removal_confirmed", tip)
    return tip


@transaction.atomic
def tip_close(*, tip_id: int, actor: StaffUser) -> Tip:
    tip = _locked(tip_id)
    _require(tip, Tip.Status.ASSESSED, Tip.Status.FORWARDED, Tip.Status.REMOVAL_CONFIRMED)
    if tip.status == Tip.Status.ASSESSED and tip.outcome == Tip.Outcome.ILLEGAL:
        raise TransitionError("an illegal tip goes to the police before it is closed")
    tip.status = Tip.Status.CLOSED
    tip.closed_at = timezone.now()
    tip.save(update_fields=["status", "closed_at"])
    _audit(actor, "closed", tip)
    return tip


@transaction.atomic
def tip_ask_reporter(*, tip_id: int, actor: StaffUser, body: str) -> TipMessage:
    tip = _locked(tip_id)
    if tip.status == Tip.Status.CLOSED:
        raise TransitionError("the tip is closed")
    message = TipMessage.objects.create(tip=tip, sender=TipMessage.Sender.ANALYST, author=actor, body=body)
    _audit(actor, "question_sent", tip)
    return message


@transaction.atomic
def tip_reply_as_reporter(*, tip_id: int, body: str) -> TipMessage:
    tip = _locked(tip_id)
    if tip.status == Tip.Status.CLOSED:
        raise TransitionError("the tip is closed")
    message = TipMessage.objects.create(tip=tip, sender=TipMessage.Sender.REPORTER, body=body)
    _audit(None, "reporter_replied", tip)
    return message


# --- Police hand-off -------------------------------------------------------


def _deliver_after_commit(handoff_id: int) -> None:
    from hotline.tasks import deliver_police_handoff  # the tasks module imports this one

    # A broker outage must not fail the forwarding (or the reporter's tip):
    # the row is stored and the sweeper enqueues it once the broker is back.
    enqueue_after_commit(deliver_police_handoff, handoff_id)


def _create_handoff(tip: Tip, *, actor: StaffUser | None) -> PoliceHandoff:
    handoff, created = PoliceHandoff.objects.get_or_create(tip=tip)
    if created:
        record_event(actor=actor, action="hotline.handoff.created", object_type=HANDOFF, object_id=handoff.pk)
        _deliver_after_commit(handoff.pk)
    return handoff


class AttemptResult(StrEnum):
    """What one call of :func:`handoff_attempt` found or did."""

    DELIVERED = "delivered"  # by this attempt or an earlier one
    RETRY_SCHEDULED = "retry_scheduled"  # this attempt failed; the next is due at ``retry_in``
    FAILED = "failed"  # given up (rejected, or out of attempts) until an analyst retries
    MISSING = "missing"  # no such hand-off (purged)
    BUSY = "busy"  # another worker holds a live lease
    NOT_DUE = "not_due"  # waiting for its backoff
    SUPERSEDED = "superseded"  # a later attempt owns the row; this one only recorded its outcome


@dataclass(frozen=True)
class AttemptReport:
    result: AttemptResult
    retry_in: float | None = None


def _backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with equal jitter, at least Retry-After, capped."""
    cap = float(settings.POLICE_HANDOFF_RETRY_MAX_SECONDS)
    delay = min(cap, float(settings.POLICE_HANDOFF_RETRY_BASE_SECONDS) * 2 ** (attempt - 1))
    delay = delay / 2 + secrets.SystemRandom().uniform(0, delay / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return float(delay)


def _claim(handoff_id: int) -> tuple[PoliceHandoff, HandoffAttempt] | AttemptResult:
    """Claims the next attempt under a row lock, or says why there is none to make."""
    with transaction.atomic():
        handoff = PoliceHandoff.objects.select_for_update().filter(pk=handoff_id).first()
        if handoff is None:
            return AttemptResult.MISSING
        now = timezone.now()
        if handoff.status == PoliceHandoff.Status.DELIVERED:
            return AttemptResult.DELIVERED
        if handoff.status == PoliceHandoff.Status.FAILED:
            return AttemptResult.FAILED
        if handoff.status == PoliceHandoff.Status.DELIVERING:
            if handoff.lease_until and handoff.lease_until > now:
                return AttemptResult.BUSY
            # The worker that held the lease died mid-delivery.
            handoff.attempt_log.filter(outcome=HandoffAttempt.Outcome.IN_PROGRESS).update(
                outcome=HandoffAttempt.Outcome.INTERRUPTED, finished_at=now, detail="lease expired"
            )
            if handoff.attempts >= settings.POLICE_HANDOFF_MAX_ATTEMPTS:
                _fail(handoff, f"interrupted at attempt {handoff.attempts}")
                return AttemptResult.FAILED
        elif handoff.next_attempt_at > now + timedelta(seconds=1):
            return AttemptResult.NOT_DUE
        handoff.status = PoliceHandoff.Status.DELIVERING
        handoff.attempts += 1
        handoff.lease_until = now + timedelta(seconds=settings.POLICE_HANDOFF_LEASE_SECONDS)
        handoff.save(update_fields=["status", "attempts", "lease_until"])
        number = handoff.attempt_log.count() + 1
        attempt = HandoffAttempt.objects.create(handoff=handoff, number=number, started_at=now)
    return handoff, attempt


def _fail(handoff: PoliceHandoff, reason: str) -> None:
    handoff.status = PoliceHandoff.Status.FAILED
    handoff.failure_reason = reason[:300]
    handoff.lease_until = None
    handoff.save(update_fields=["status", "failure_reason", "lease_until"])
    record_event(actor=None, action="hotline.handoff.failed", object_type=HANDOFF, object_id=handoff.pk)


def _finish(handoff_id: int, attempt_id: int, result: DeliveryResult) -> AttemptReport:
    with transaction.atomic():
        handoff = PoliceHandoff.objects.select_for_update().get(pk=handoff_id)
        attempt = HandoffAttempt.objects.get(pk=attempt_id)
        attempt.finished_at = timezone.now()
        attempt.status_code = result.status_code
        attempt.detail = result.detail[:300]
        attempt.outcome = {
            Outcome.ACCEPTED: HandoffAttempt.Outcome.ACCEPTED,
            Outcome.RETRY: HandoffAttempt.Outcome.RETRY,
            Outcome.REJECTED: HandoffAttempt.Outcome.REJECTED,
        }[result.outcome]
        attempt.save(update_fields=["finished_at", "status_code", "detail", "outcome"])
        if handoff.status == PoliceHandoff.Status.DELIVERED:
            return AttemptReport(AttemptResult.DELIVERED)
        if result.outcome == Outcome.ACCEPTED:
            handoff.status = PoliceHandoff.Status.DELIVERED
            handoff.delivered_at = attempt.finished_at
            handoff.acknowledgement = result.acknowledgement
            handoff.lease_until = None
            handoff.failure_reason = ""
            handoff.save(update_fields=["status", "delivered_at", "acknowledgement", "lease_until", "failure_reason"])
            record_event(actor=None, action="hotline.handoff.delivered", object_type=HANDOFF, object_id=handoff.pk)
            return AttemptReport(AttemptResult.DELIVERED)
        latest = handoff.attempt_log.order_by("-number").values_list("pk", flat=True).first()
        if handoff.status != PoliceHandoff.Status.DELIVERING or latest != attempt.pk:
            return AttemptReport(AttemptResult.SUPERSEDED)
        if result.outcome == Outcome.REJECTED:
            _fail(handoff, result.detail or "rejected")
            return AttemptReport(AttemptResult.FAILED)
        if handoff.attempts >= settings.POLICE_HANDOFF_MAX_ATTEMPTS:
            _fail(handoff, f"gave up after {handoff.attempts} attempts: {result.detail}")
            return AttemptReport(AttemptResult.FAILED)
        delay = _backoff(handoff.attempts, result.retry_after)
        handoff.status = PoliceHandoff.Status.PENDING
        handoff.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        handoff.lease_until = None
        handoff.save(update_fields=["status", "next_attempt_at", "lease_until"])
        return AttemptReport(AttemptResult.RETRY_SCHEDULED, retry_in=delay)


def handoff_attempt(*, handoff_id: int) -> AttemptReport:
    """Makes one delivery attempt if one is due; safe to call any number of times.

    The claim (a row lock and a lease) lets only one worker send at a time;
    every attempt at one hand-off carries the same Idempotency-Key.
    """
    claimed = _claim(handoff_id)
    if isinstance(claimed, AttemptResult):
        return AttemptReport(claimed)
    handoff, attempt = claimed
    try:
        handoff = PoliceHandoff.objects.select_related("tip").get(pk=handoff.pk)
        result = deliver(sign_package(handoff, build_package(handoff)))
    except Exception as exc:
        # Only the type: an exception's text could quote the package.
        result = DeliveryResult(outcome=Outcome.RETRY, detail=f"error: {type(exc).__name__}")
    return _finish(handoff.pk, attempt.pk, result)


@transaction.atomic
def handoff_retry(*, handoff_id: int, actor: StaffUser) -> PoliceHandoff:
    """Puts a failed hand-off back in line for a fresh round of attempts; a second click does nothing."""
    handoff = PoliceHandoff.objects.select_for_update().get(pk=handoff_id)
    if handoff.status != PoliceHandoff.Status.FAILED:
        return handoff
    handoff.status = PoliceHandoff.Status.PENDING
    handoff.attempts = 0
    handoff.next_attempt_at = timezone.now()
    handoff.save(update_fields=["status", "attempts", "next_attempt_at"])
    record_event(actor=actor, action="hotline.handoff.retried", object_type=HANDOFF, object_id=handoff.pk)
    _deliver_after_commit(handoff.pk)
    return handoff


# --- Retention -------------------------------------------------------------


def purge_tip_contact_details(cutoff: datetime) -> int:
    """Erases reporters' contact details from tips received before ``cutoff``."""
    return Tip.objects.filter(received_at__lt=cutoff, contact__isnull=False).update(
        contact=None, contact_purged_at=timezone.now()
    )


def purge_partner_token_uses(cutoff: datetime) -> int:
    """Deletes the record of partner feed requests made before ``cutoff``."""
    deleted, _ = PartnerTokenUse.objects.filter(used_at__lt=cutoff).delete()
    return deleted


def purge_closed_tips(cutoff: datetime) -> int:
    """Deletes tips closed before ``cutoff``, with their URLs, messages and hand-off records."""
    tips = Tip.objects.filter(status=Tip.Status.CLOSED, closed_at__lt=cutoff)
    count = tips.count()
    tips.delete()
    return count


# --- Reported URLs: four-eyes confirmation, the partner feed ----------------

URL = "hotline.TipURL"
PARTNER_TOKEN = "hotline.PartnerToken"  # noqa: S105  # a model label, not a secret


class FourEyesError(TransitionError):
    """The analyst who assessed a URL cannot also confirm it."""


class ReasonRequired(ValueError):
    """A withdrawal needs a reason."""


def feed_sha256(normalised: str) -> str:
    """What partners match on: SHA-256 of the normalised URL, hex (docs/partner-feed.md)."""
    return hashlib.sha256(normalised.encode()).hexdigest()


def _lock_feed() -> FeedVersion:
    """Locks the feed's version row until commit, which serialises every feed change."""
    FeedVersion.objects.get_or_create(pk=1)
    return FeedVersion.objects.select_for_update().get(pk=1)


def _membership(sha256: str) -> dict[str, bool]:
    if not sha256:
        return dict.fromkeys(FeedAudience.values, False)
    same = TipURL.objects.filter(feed_sha256=sha256)
    return {audience: same.for_audience(audience).exists() for audience in FeedAudience.values}


def _record_feed_changes(feed: FeedVersion, reported: TipURL, before: dict[str, bool]) -> None:
    """Appends a change for every audience whose view of this URL flipped, at the next version."""
    after = _membership(reported.feed_sha256)
    flipped = [audience for audience in FeedAudience.values if before[audience] != after[audience]]
    if not flipped:
        return
    feed.version += 1
    feed.save(update_fields=["version"])
    now = timezone.now()
    FeedChange.objects.bulk_create(
        FeedChange(
            version=feed.version,
            audience=audience,
            change=FeedChange.Change.ADDED if after[audience] else FeedChange.Change.REMOVED,
            sha256=reported.feed_sha256,
            url=reported.url,
            at=now,
        )
        for audience in flipped
    )
    run_after_commit(_rebuild_feed_later, what="enqueue hotline.tasks.rebuild_feed_snapshots")


def _rebuild_feed_later() -> None:
    from hotline.tasks import rebuild_feed_snapshots  # the tasks module imports this one

    rebuild_feed_snapshots.delay()


def _url_transition(
    url_id: int, actor: StaffUser, action: str, allowed: tuple[str, ...], change: Callable[[TipURL], None]
) -> TipURL:
    with transaction.atomic():
        feed = _lock_feed()
        reported = TipURL.objects.select_for_update().select_related("tip").get(pk=url_id)
        if reported.state not in allowed:
            raise TransitionError(f"not allowed while the URL is {reported.state}")
        change(reported)
        # Read before saving, under the hash the URL has after the change
        # (assessing sets it): another tip may already list the same address.
        before = _membership(reported.feed_sha256)
        reported.save()
        record_event(actor=actor, action=f"hotline.url.{action}", object_type=URL, object_id=reported.pk)
        _record_feed_changes(feed, reported, before)
    return reported


def url_assess_illegal(*, url_id: int, actor: StaffUser) -> TipURL:
    """First pair of eyes: this address shows illegal material. It is not listed until a second analyst confirms."""

    def change(reported: TipURL) -> None:
        if reported.tip.outcome != Tip.Outcome.ILLEGAL or reported.tip.status == Tip.Status.CLOSED:
            raise TransitionError("only a URL of a tip assessed illegal")
        reported.state = TipURL.State.ASSESSED
        reported.feed_sha256 = feed_sha256(reported.url)
        reported.assessed_at = timezone.now()
        reported.assessed_by = actor

    return _url_transition(url_id, actor, "assessed_illegal", (TipURL.State.REPORTED,), change)


def url_confirm(*, url_id: int, actor: StaffUser) -> TipURL:
    """Second pair of eyes: another analyst confirms, and the URL enters the feed."""

    def change(reported: TipURL) -> None:
        if reported.assessed_by_id is None or reported.assessed_by_id == actor.pk:
            raise FourEyesError("the analyst who assessed the URL cannot confirm it")
        reported.state = TipURL.State.LISTED
        reported.confirmed_at = timezone.now()
        reported.confirmed_by = actor

    return _url_transition(url_id, actor, "confirmed", (TipURL.State.ASSESSED,), change)


def url_record_removal(*, url_id: int, actor: StaffUser) -> TipURL:
    """An analyst checked by hand that the material is gone: the URL leaves the feed."""

    def change(reported: TipURL) -> None:
        reported.state = TipURL.State.REMOVED
        reported.removed_at = timezone.now()
        reported.removed_by = actor

    return _url_transition(url_id, actor, "removal_recorded", (TipURL.State.LISTED,), change)


def url_withdraw(*, url_id: int, actor: StaffUser, reason: str) -> TipURL:
    """Takes an assessed or listed URL back (a mistake, a changed judgment); the reason is kept, encrypted."""
    if not reason.strip():
        raise ReasonRequired

    def change(reported: TipURL) -> None:
        reported.state = TipURL.State.WITHDRAWN
        reported.withdrawn_at = timezone.now()
        reported.withdrawn_by = actor
        reported.withdrawal_reason = reason.strip()

    return _url_transition(url_id, actor, "withdrawn", (TipURL.State.ASSESSED, TipURL.State.LISTED), change)


_OPEN_STATES = (TipURL.State.REPORTED, TipURL.State.ASSESSED, TipURL.State.LISTED)


def url_hold_for_police(*, url_id: int, actor: StaffUser) -> TipURL:
    """The police asked for time: out of the industry feed, and no notices or reminders, until released."""

    def change(reported: TipURL) -> None:
        if reported.police_hold_at is not None:
            raise TransitionError("already held")
        reported.police_hold_at = timezone.now()
        reported.police_hold_by = actor

    return _url_transition(url_id, actor, "police_hold", _OPEN_STATES, change)


def url_release_police_hold(*, url_id: int, actor: StaffUser) -> TipURL:
    def change(reported: TipURL) -> None:
        if reported.police_hold_at is None:
            raise TransitionError("not held")
        reported.police_hold_at = None
        reported.police_hold_by = None

    return _url_transition(url_id, actor, "police_hold_released", _OPEN_STATES, change)


def feed_entry(kind: str, sha256: str, url: str) -> dict[str, str]:
    return {"sha256": sha256, "url": url} if kind == FeedSnapshot.Kind.URLS else {"sha256": sha256}


def feed_body(document: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent: compact JSON, keys in a fixed order."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _consistent_read() -> None:
    """Makes the current outermost transaction read one snapshot of the database (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def feed_rebuild_snapshots(*, keep_versions: int = 2) -> int:
    """Builds and signs every page of every full feed at the current version; returns the version.

    Idempotent: nothing is built when the newest snapshots already have this
    version and the current signing key. Reads one consistent state without
    blocking analysts (repeatable read). The previous version is kept too, so
    a partner paging through it can finish.
    """
    from hotline import feed_signing

    key_id = feed_signing.signing_key().key_id
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # the isolation level can only be set by a transaction's first statement
            _consistent_read()
        version = FeedVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0
        complete = len(FeedAudience.values) * len(FeedSnapshot.Kind.values)
        if FeedSnapshot.objects.filter(version=version, key_id=key_id, page=1).count() == complete:
            return version
        rows = list(
            TipURL.objects.for_audience(FeedAudience.POLICE)
            .order_by("feed_sha256", "pk")
            .values_list("feed_sha256", "url", "police_hold_at")
        )
    everyone: dict[str, str] = {}
    unheld: dict[str, str] = {}
    for sha256, url, held in rows:
        everyone.setdefault(sha256, url)
        if held is None:
            unheld.setdefault(sha256, url)
    built_at = timezone.now()
    snapshots = []
    for audience, entries in ((FeedAudience.POLICE, everyone), (FeedAudience.INDUSTRY, unheld)):
        items = list(entries.items())
        size = max(1, settings.FEED_PAGE_SIZE)
        pages = max(1, -(-len(items) // size))
        for kind in FeedSnapshot.Kind.values:
            for page in range(1, pages + 1):
                body = feed_body(
                    {
                        "schema_version": FEED_SCHEMA_VERSION,
                        "feed": kind,
                        "version": version,
                        "generated_at": built_at.isoformat(),
                        "page": page,
                        "pages": pages,
                        "total": len(items),
                        "entries": [feed_entry(kind, sha, url) for sha, url in items[(page - 1) * size : page * size]],
                    }
                )
                signature, signed_by = feed_signing.sign(body)
                snapshots.append(
                    FeedSnapshot(
                        audience=audience,
                        kind=kind,
                        version=version,
                        page=page,
                        pages=pages,
                        body=body,
                        signature=signature,
                        key_id=signed_by,
                        built_at=built_at,
                    )
                )
    with transaction.atomic():
        # A rotation re-signs the same version: the old key's rows make way.
        FeedSnapshot.objects.filter(version=version).exclude(key_id=key_id).delete()
        FeedSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True)
        kept = sorted(set(FeedSnapshot.objects.values_list("version", flat=True)), reverse=True)[:keep_versions]
        FeedSnapshot.objects.exclude(version__in=kept).delete()
    return version


@dataclass(frozen=True)
class IssuedToken:
    token: PartnerToken
    secret: str  # shown once; only its hash is stored


@transaction.atomic
def partner_token_issue(
    *, partner_id: int, actor: StaffUser, label: str = "", expires_at: datetime | None = None
) -> IssuedToken:
    """Creates an API token; the secret is returned this once and only its keyed hash is stored."""
    secret = partner_tokens.generate()
    token = PartnerToken.objects.create(
        partner_id=partner_id,
        label=label[:100],
        prefix=secret[:16],
        token_hash=partner_tokens.token_hash(secret),
        created_by=actor,
        expires_at=expires_at,
    )
    record_event(actor=actor, action="hotline.partner_token.issued", object_type=PARTNER_TOKEN, object_id=token.pk)
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def partner_token_revoke(*, token_id: int, actor: StaffUser) -> PartnerToken:
    """Revokes a token at once; a second revocation changes nothing."""
    token = PartnerToken.objects.select_for_update().get(pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record_event(actor=actor, action="hotline.partner_token.revoked", object_type=PARTNER_TOKEN, object_id=token.pk)
    return token


def partner_token_record_use(*, token_id: int, endpoint: str, status_code: int) -> None:
    """Records one use of a token: the time, the endpoint and the status, never where it came from."""
    PartnerTokenUse.objects.create(token_id=token_id, endpoint=endpoint[:20], status_code=status_code)


# --- Notice and takedown -----------------------------------------------------

NOTICE = "hotline.TakedownNotice"

_NOTICE_SUBJECTS = {
    "sv": "Begäran om borttagning av sexuella övergrepp mot barn: {reference}",
    "en": "Notice to remove child sexual abuse material: {reference}",
}
_CATEGORY_NAMES = {
    "sv": "bilder eller filmer som visar sexuella övergrepp mot barn",
    "en": "images or videos showing the sexual abuse of children",
}


class NoticeRefused(TransitionError):
    """No notice now: the URL is held for the police, not confirmed, or its provider cannot take one this way."""


@transaction.atomic
def url_set_provider(*, url_id: int, provider_id: int | None, actor: StaffUser) -> TipURL:
    """Records which provider hosts a URL (an analyst's confirmation of a suggestion, or their own choice)."""
    reported = TipURL.objects.select_for_update().get(pk=url_id)
    reported.provider_id = provider_id
    reported.save(update_fields=["provider"])
    record_event(actor=actor, action="hotline.url.provider_set", object_type=URL, object_id=reported.pk)
    return reported


def _notice_allowed(reported: TipURL) -> Provider:
    if reported.police_hold_at is not None:
        raise NoticeRefused("held for the police")
    if reported.state != TipURL.State.LISTED:
        raise NoticeRefused("only a URL confirmed by two analysts")
    if reported.provider is None:
        raise NoticeRefused("no provider")
    if reported.notices.exclude(state__in=[TakedownNotice.State.REFUSED, TakedownNotice.State.NO_ANSWER]).exists():
        raise NoticeRefused("a notice is already open")
    return reported.provider


def notice_send(*, url_id: int, actor: StaffUser) -> TakedownNotice:
    """Queues an e-mailed notice to the URL's provider; a task sends it after commit (hotline.tasks)."""
    with transaction.atomic():
        reported = TipURL.objects.select_for_update(of=("self",)).select_related("provider").get(pk=url_id)
        provider = _notice_allowed(reported)
        if not provider.abuse_email:
            raise NoticeRefused("the provider takes notices by web form only")
        notice = TakedownNotice.objects.create(
            tip_url=reported,
            provider=provider,
            method=TakedownNotice.Method.EMAIL,
            language=provider.notice_language,
            created_by=actor,
        )
        record_event(actor=actor, action="hotline.notice.queued", object_type=NOTICE, object_id=notice.pk)
        _send_notice_after_commit(notice.pk)
    return notice


def notice_filed_by_hand(*, url_id: int, actor: StaffUser) -> TakedownNotice:
    """Records that an analyst filed the notice in the provider's web form."""
    with transaction.atomic():
        reported = TipURL.objects.select_for_update(of=("self",)).select_related("provider").get(pk=url_id)
        provider = _notice_allowed(reported)
        notice = TakedownNotice.objects.create(
            tip_url=reported,
            provider=provider,
            method=TakedownNotice.Method.WEB_FORM,
            language=provider.notice_language,
            state=TakedownNotice.State.SENT,
            created_by=actor,
            sent_at=timezone.now(),
        )
        record_event(actor=actor, action="hotline.notice.filed_by_hand", object_type=NOTICE, object_id=notice.pk)
    return notice


def _send_notice_after_commit(notice_id: int) -> None:
    from hotline.tasks import send_takedown_notice  # the tasks module imports this one

    enqueue_after_commit(send_takedown_notice, notice_id)


def _notice_message(notice: TakedownNotice, *, reminder: bool) -> EmailMessage:
    language = notice.language if notice.language in _NOTICE_SUBJECTS else "en"
    context = {
        "provider": notice.provider.name,
        "url": notice.tip_url.url,
        "category": _CATEGORY_NAMES[language],
        "reference": notice.reference,
        "reminder": reminder,
        "first_sent": notice.sent_at.date().isoformat() if notice.sent_at else "",
        "sender": settings.NOTICE_FROM_EMAIL,
    }
    subject = _NOTICE_SUBJECTS[language].format(reference=notice.reference)
    if reminder:
        subject = ("Påminnelse: " if language == "sv" else "Reminder: ") + subject
    domain = settings.NOTICE_FROM_EMAIL.rpartition("@")[2] or None
    return EmailMessage(
        subject=subject,
        body=render_to_string(f"hotline/notice/notice_{language}.txt", context),
        from_email=settings.NOTICE_FROM_EMAIL,
        to=[notice.provider.abuse_email],
        reply_to=[settings.NOTICE_FROM_EMAIL],
        headers={"Message-ID": make_msgid(idstring=f"notice-{notice.pk}", domain=domain)},
    )


def notice_deliver(*, notice_id: int) -> str:
    """Sends a queued notice, or a due reminder; idempotent: a sent one is never sent again.

    Raises on a mail failure so the task retries. Under a row lock, so two
    workers never both send; the lock is held across the SMTP call, which is
    short next to the retry interval.
    """
    with transaction.atomic():
        notice = (
            TakedownNotice.objects.select_for_update(of=("self",))
            .select_related("provider", "tip_url")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            return "missing"
        if notice.tip_url.police_hold_at is not None:
            return "held"
        if notice.state == TakedownNotice.State.QUEUED:
            message = _notice_message(notice, reminder=False)
            message.send()
            notice.state = TakedownNotice.State.SENT
            notice.sent_at = timezone.now()
            notice.message_id = message.extra_headers["Message-ID"]
            notice.save(update_fields=["state", "sent_at", "message_id"])
            record_event(actor=None, action="hotline.notice.sent", object_type=NOTICE, object_id=notice.pk)
            return "sent"
        if notice.reminder_due_at is not None and notice.reminder_sent_at is None and notice.is_open:
            message = _notice_message(notice, reminder=True)
            message.send()
            notice.reminder_sent_at = timezone.now()
            notice.reminder_message_id = message.extra_headers["Message-ID"]
            notice.save(update_fields=["reminder_sent_at", "reminder_message_id"])
            record_event(actor=None, action="hotline.notice.reminded", object_type=NOTICE, object_id=notice.pk)
            return "reminded"
    return "nothing"


@dataclass(frozen=True)
class ReminderSweep:
    reminders: list[int]
    escalated: list[int]


def notice_sweep(now: datetime | None = None) -> ReminderSweep:
    """Marks reminders due after NOTICE_REMINDER_HOURS and flags to analysts after NOTICE_ESCALATE_HOURS.

    Only open notices whose URL is not held for the police. Returns the ids to
    send reminders for (e-mailed notices; a web-form notice's reminder is the
    flag) and those newly flagged.
    """
    now = now or timezone.now()
    open_notices = TakedownNotice.objects.filter(
        state__in=[TakedownNotice.State.SENT, TakedownNotice.State.ACKNOWLEDGED],
        tip_url__police_hold_at__isnull=True,
    )
    reminder_after = now - timedelta(hours=settings.NOTICE_REMINDER_HOURS)
    escalate_after = now - timedelta(hours=settings.NOTICE_ESCALATE_HOURS)
    with transaction.atomic():
        due = list(
            open_notices.filter(
                sent_at__lte=reminder_after, reminder_due_at__isnull=True, method=TakedownNotice.Method.EMAIL
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        TakedownNotice.objects.filter(pk__in=due).update(reminder_due_at=now)
        escalated = list(
            open_notices.filter(sent_at__lte=escalate_after, escalated_at__isnull=True)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        TakedownNotice.objects.filter(pk__in=escalated).update(escalated_at=now)
        for notice_id in escalated:
            record_event(actor=None, action="hotline.notice.escalated", object_type=NOTICE, object_id=notice_id)
        for notice_id in due:
            _send_notice_after_commit(notice_id)
    return ReminderSweep(reminders=due, escalated=escalated)


def _notice_transition(notice_id: int, actor: StaffUser, state: str, allowed: tuple[str, ...]) -> TakedownNotice:
    with transaction.atomic():
        notice = TakedownNotice.objects.select_for_update().get(pk=notice_id)
        if notice.state not in allowed:
            raise TransitionError(f"not allowed while the notice is {notice.state}")
        now = timezone.now()
        notice.state = state
        if state == TakedownNotice.State.ACKNOWLEDGED:
            notice.acknowledged_at, notice.acknowledged_by = now, actor
        else:
            notice.closed_at, notice.closed_by = now, actor
        notice.save()
        record_event(actor=actor, action=f"hotline.notice.{state}", object_type=NOTICE, object_id=notice.pk)
    return notice


_OPEN_NOTICE = (TakedownNotice.State.SENT, TakedownNotice.State.ACKNOWLEDGED)


def notice_acknowledge(*, notice_id: int, actor: StaffUser) -> TakedownNotice:
    return _notice_transition(notice_id, actor, TakedownNotice.State.ACKNOWLEDGED, (TakedownNotice.State.SENT,))


def notice_record_removed(*, notice_id: int, actor: StaffUser) -> TakedownNotice:
    """The analyst checked by hand that the material is gone: the notice closes and the URL leaves the feed."""
    with transaction.atomic():
        notice = _notice_transition(notice_id, actor, TakedownNotice.State.REMOVED, _OPEN_NOTICE)
        if TipURL.objects.filter(pk=notice.tip_url_id, state=TipURL.State.LISTED).exists():
            url_record_removal(url_id=notice.tip_url_id, actor=actor)
    return notice


def notice_record_refused(*, notice_id: int, actor: StaffUser) -> TakedownNotice:
    return _notice_transition(notice_id, actor, TakedownNotice.State.REFUSED, _OPEN_NOTICE)


def notice_record_no_answer(*, notice_id: int, actor: StaffUser) -> TakedownNotice:
    return _notice_transition(notice_id, actor, TakedownNotice.State.NO_ANSWER, _OPEN_NOTICE)
