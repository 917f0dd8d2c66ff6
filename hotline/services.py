"""Every write to the hotline: tips, the enforced lifecycle, messages, hand-offs, retention.

Lifecycle (docs/hotline.md)::

    received -> in_assessment (locked to one analyst) -> assessed
    assessed (not illegal / out of remit / duplicate / content gone) -> closed
    assessed (illegal) -> forwarded -> takedown_sent -> removal_confirmed -> closed
    forwarded -> closed (nothing online to take down)

Every transition takes a row lock on the tip, checks the current state and
is audited with ``record_event``.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record_event
from hotline import receipts
from hotline.handoff import DeliveryResult, Outcome, build_package, deliver, sign_package
from hotline.models import HandoffAttempt, PoliceHandoff, TakedownRecheck, Tip, TipMessage, TipURL
from hotline.reported_urls import inward_target, url_hash
from resilience.on_commit import enqueue_after_commit
from staff.types import StaffUser

TIP = "hotline.Tip"
HANDOFF = "hotline.PoliceHandoff"


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


def purge_closed_tips(cutoff: datetime) -> int:
    """Deletes tips closed before ``cutoff``, with their URLs, messages and hand-off records."""
    tips = Tip.objects.filter(status=Tip.Status.CLOSED, closed_at__lt=cutoff)
    count = tips.count()
    tips.delete()
    return count
