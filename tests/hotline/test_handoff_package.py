"""The package, its signature and sealing, the drop-folder backend and the retry rules.

These call the delivery service in-process (no worker) against a real local
HTTP receiver; tests/hotline/test_delivery.py runs the real worker.
"""

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from nacl.public import PrivateKey, SealedBox

from hotline import selectors, services
from hotline.handoff import build_package
from hotline.models import HandoffAttempt, PoliceHandoff
from tests.hotline.conftest import POLICE_SECRET, submit_tip, tls_receiver
from tests.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(https_settings, request, tmp_path):
    with tls_receiver(https_settings, tmp_path, script=getattr(request, "param", ())) as receiver:
        yield receiver


def urgent_handoff(**overrides):
    tip = submit_tip(urgent=True, contact="min-mejl@example.org", urls=["https://example.com/x"], **overrides).tip
    return PoliceHandoff.objects.get(tip=tip)


def make_due(handoff):
    PoliceHandoff.objects.filter(pk=handoff.pk).update(next_attempt_at=handoff.created_at)


def test_the_package_is_versioned_and_never_holds_contact_details_or_the_receipt():
    submitted = submit_tip(urgent=True, contact="min-mejl@example.org", description="Beskrivningen")
    handoff = PoliceHandoff.objects.get(tip=submitted.tip)
    package = build_package(handoff)
    assert package["version"] == 1
    assert package["handoff_id"] == str(handoff.idempotency_key)
    assert package["tip"]["description"] == "Beskrivningen"
    assert package["tip"]["urgent"] is True
    text = json.dumps(package)
    assert "min-mejl" not in text
    assert "receipt" not in text
    assert submitted.receipt_code not in text
    assert submitted.receipt_code.replace("-", "")[:8] not in text
    assert build_package(handoff) == package  # the same document every attempt


def test_a_delivery_is_signed_and_the_acknowledgement_stored(receiver):
    handoff = urgent_handoff()
    report = services.handoff_attempt(handoff_id=handoff.pk)
    assert report.result == services.AttemptResult.DELIVERED
    [request] = receiver.requests
    assert request.signature_valid
    assert request.idempotency_key == str(handoff.idempotency_key)
    assert json.loads(request.body)["tip"]["urls"] == ["https://example.com/x"]
    handoff.refresh_from_db()
    assert handoff.acknowledgement == "POL-0001"
    attempt = handoff.attempt_log.get()
    assert (attempt.outcome, attempt.status_code) == (HandoffAttempt.Outcome.ACCEPTED, 200)


def test_a_sealed_body_opens_only_with_the_receivers_private_key(receiver, https_settings):
    private = PrivateKey.generate()
    https_settings.POLICE_HANDOFF_PUBLIC_KEY = base64.b64encode(bytes(private.public_key)).decode()
    handoff = urgent_handoff(description="Hemlig beskrivning")
    services.handoff_attempt(handoff_id=handoff.pk)
    [request] = receiver.requests
    assert request.signature_valid
    assert request.content_type == "application/vnd.ecpat.police-handoff.sealed"
    assert b"Hemlig" not in request.body
    opened = json.loads(SealedBox(private).decrypt(request.body))
    assert opened["tip"]["description"] == "Hemlig beskrivning"


@pytest.mark.parametrize("receiver", [(400,)], indirect=True)
def test_another_4xx_fails_at_once_with_the_reason_kept(receiver):
    handoff = urgent_handoff()
    report = services.handoff_attempt(handoff_id=handoff.pk)
    handoff.refresh_from_db()
    assert report.retry_in is None
    assert handoff.status == PoliceHandoff.Status.FAILED
    assert "HTTP 400" in handoff.failure_reason and "scripted" in handoff.failure_reason
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("receiver", [(429, 500, 200)], indirect=True)
def test_429_and_5xx_are_retried_with_backoff(receiver, https_settings):
    https_settings.POLICE_HANDOFF_RETRY_BASE_SECONDS = 30
    handoff = urgent_handoff()
    first = services.handoff_attempt(handoff_id=handoff.pk)
    assert first.retry_in is not None and first.retry_in > 0
    # Not due yet: a redelivered message does nothing.
    assert services.handoff_attempt(handoff_id=handoff.pk).result == services.AttemptResult.NOT_DUE
    make_due(handoff)
    assert services.handoff_attempt(handoff_id=handoff.pk).retry_in is not None
    make_due(handoff)
    assert services.handoff_attempt(handoff_id=handoff.pk).result == services.AttemptResult.DELIVERED
    codes = list(handoff.attempt_log.values_list("status_code", flat=True))
    assert codes == [429, 500, 200]
    assert len({r.idempotency_key for r in receiver.requests}) == 1
    # A delivered hand-off is never sent again.
    assert services.handoff_attempt(handoff_id=handoff.pk).result == services.AttemptResult.DELIVERED
    assert len(receiver.requests) == 3


def test_backoff_grows_with_jitter_and_is_capped(settings):
    settings.POLICE_HANDOFF_RETRY_BASE_SECONDS = 10
    settings.POLICE_HANDOFF_RETRY_MAX_SECONDS = 100
    delays = [services._backoff(n, None) for n in (1, 2, 3, 10)]
    assert 5 <= delays[0] <= 10
    assert 10 <= delays[1] <= 20
    assert 20 <= delays[2] <= 40
    assert 50 <= delays[3] <= 100
    assert services._backoff(1, retry_after=60) >= 60


def test_the_attempt_log_never_holds_the_payload(https_settings):
    https_settings.POLICE_HANDOFF_URL = f"https://127.0.0.1:{free_port()}/down"
    handoff = urgent_handoff(description="Unik-beskrivning-123")
    services.handoff_attempt(handoff_id=handoff.pk)
    attempt = handoff.attempt_log.get()
    assert attempt.outcome == HandoffAttempt.Outcome.RETRY
    assert "network error" in attempt.detail
    assert "Unik" not in json.dumps(list(HandoffAttempt.objects.values()), default=str)


def test_a_concurrent_claim_is_refused_while_a_lease_is_held(receiver):
    handoff = urgent_handoff()
    claimed = services._claim(handoff.pk)
    assert not isinstance(claimed, str)
    assert services.handoff_attempt(handoff_id=handoff.pk).result == services.AttemptResult.BUSY
    assert receiver.requests == []


def test_dropfolder_writes_one_signed_file_atomically(settings, tmp_path):
    settings.POLICE_HANDOFF_BACKEND = "dropfolder"
    settings.POLICE_HANDOFF_DROPFOLDER = str(tmp_path / "drop")
    settings.POLICE_HANDOFF_SECRET = POLICE_SECRET
    handoff = urgent_handoff()
    assert services.handoff_attempt(handoff_id=handoff.pk).result == services.AttemptResult.DELIVERED
    files = list(Path(tmp_path / "drop").iterdir())
    assert [f.name for f in files] == [f"{handoff.idempotency_key}.json"]
    envelope = json.loads(files[0].read_text())
    body = base64.b64decode(envelope["body"])
    assert envelope["signature"] == "sha256=" + hmac.new(POLICE_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body)["handoff_id"] == str(handoff.idempotency_key)
    handoff.refresh_from_db()
    assert handoff.acknowledgement == files[0].name


def test_the_sweeper_finds_lost_and_interrupted_handoffs(settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.POLICE_HANDOFF_SWEEP_SECONDS = 60
    lost = urgent_handoff()
    interrupted = urgent_handoff()
    fresh = urgent_handoff()
    now = timezone.now()
    PoliceHandoff.objects.filter(pk=lost.pk).update(next_attempt_at=now - timedelta(minutes=5))
    PoliceHandoff.objects.filter(pk=interrupted.pk).update(
        status=PoliceHandoff.Status.DELIVERING, lease_until=now - timedelta(seconds=1)
    )
    due = selectors.handoffs_due_for_sweep(now)
    assert set(due) == {lost.pk, interrupted.pk}
    assert fresh.pk not in due


@pytest.mark.parametrize("receiver", [("duplicate",)], indirect=True)
def test_a_409_confirming_the_same_key_counts_as_delivered(receiver):
    handoff = urgent_handoff()
    report = services.handoff_attempt(handoff_id=handoff.pk)
    assert report.result == services.AttemptResult.DELIVERED
    handoff.refresh_from_db()
    assert handoff.status == PoliceHandoff.Status.DELIVERED
    assert handoff.acknowledgement == "POL-0001"
    attempt = handoff.attempt_log.get()
    assert (attempt.outcome, attempt.status_code, attempt.detail) == (HandoffAttempt.Outcome.ACCEPTED, 409, "duplicate")


@pytest.mark.parametrize("receiver", [("conflict",)], indirect=True)
def test_a_409_about_another_key_is_a_rejection(receiver):
    handoff = urgent_handoff()
    report = services.handoff_attempt(handoff_id=handoff.pk)
    assert report.result == services.AttemptResult.FAILED
    handoff.refresh_from_db()
    assert handoff.status == PoliceHandoff.Status.FAILED
    assert "HTTP 409" in handoff.failure_reason
