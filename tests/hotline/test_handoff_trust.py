"""Issue 10 item 13: "delivered" means the receiver holds the package.

Each test attacks the hand-off as a hostile or broken network would: a
redirect that turns the POST into a GET, a plain http:// address, a 2xx that
carries no receipt, a TLS endpoint whose certificate nobody trusts. Real local
receivers (tests/hotline/receiver.py), the real delivery service.
"""

import base64
import json

import pytest
from nacl.public import PrivateKey

from hotline import services
from hotline.models import HandoffAttempt, PoliceHandoff
from tests.hotline.conftest import POLICE_SECRET, submit_tip, tls_receiver
from tests.hotline.receiver import PoliceReceiver
from tests.processes import clean_env, manage, production_env

pytestmark = pytest.mark.django_db


def attempt_once():
    tip = submit_tip(urgent=True, urls=["https://example.com/x"]).tip
    handoff = PoliceHandoff.objects.get(tip=tip)
    report = services.handoff_attempt(handoff_id=handoff.pk)
    handoff.refresh_from_db()
    return report, handoff, handoff.attempt_log.get()


def test_a_redirect_is_a_failure_and_never_followed_as_a_get(https_settings, tmp_path):
    with tls_receiver(https_settings, tmp_path, script=("redirect",)) as receiver:
        report, handoff, attempt = attempt_once()
    assert report.result != services.AttemptResult.DELIVERED
    assert handoff.status == PoliceHandoff.Status.FAILED
    assert handoff.acknowledgement == ""
    assert (attempt.outcome, attempt.status_code) == (HandoffAttempt.Outcome.REJECTED, 302)
    assert "redirect" in attempt.detail
    assert receiver.gets == 0  # the redirect target never saw a request
    assert len(receiver.requests) == 1


def test_a_plain_http_url_is_refused_before_anything_is_sent(https_settings):
    receiver = PoliceReceiver(POLICE_SECRET).start()
    https_settings.POLICE_HANDOFF_URL = receiver.url
    try:
        _report, handoff, attempt = attempt_once()
    finally:
        receiver.stop()
    assert receiver.url.startswith("http://")
    assert receiver.requests == []
    assert handoff.status == PoliceHandoff.Status.FAILED
    assert attempt.outcome == HandoffAttempt.Outcome.REJECTED
    assert "https://" in attempt.detail


@pytest.mark.parametrize("answer", ["no-receipt", 204])
def test_a_2xx_without_the_receivers_receipt_is_not_delivered(https_settings, tmp_path, answer):
    with tls_receiver(https_settings, tmp_path, script=(answer,)):
        report, handoff, attempt = attempt_once()
    assert report.result == services.AttemptResult.RETRY_SCHEDULED
    assert handoff.status == PoliceHandoff.Status.PENDING
    assert attempt.outcome == HandoffAttempt.Outcome.RETRY
    assert "without a receipt" in attempt.detail


def test_an_untrusted_certificate_is_a_tls_failure(https_settings, tmp_path):
    with tls_receiver(https_settings, tmp_path, trusted=False) as receiver:
        report, handoff, attempt = attempt_once()
    assert report.result == services.AttemptResult.RETRY_SCHEDULED
    assert handoff.status == PoliceHandoff.Status.PENDING
    assert attempt.outcome == HandoffAttempt.Outcome.RETRY
    assert attempt.detail.startswith("TLS error: certificate not verified")
    assert receiver.requests == []  # the body never left over the unverified channel


def test_the_same_receiver_trusted_through_the_ca_file_gets_a_verified_delivery(https_settings, tmp_path):
    with tls_receiver(https_settings, tmp_path):
        report, handoff, attempt = attempt_once()
    assert report.result == services.AttemptResult.DELIVERED
    assert handoff.acknowledgement == "POL-0001"
    assert (attempt.outcome, attempt.status_code) == (HandoffAttempt.Outcome.ACCEPTED, 200)


def test_an_unsealed_package_is_refused_when_unsealed_is_not_allowed(https_settings, tmp_path):
    https_settings.POLICE_HANDOFF_ALLOW_UNSEALED = False
    with tls_receiver(https_settings, tmp_path) as receiver:
        _report, _handoff, attempt = attempt_once()
        assert receiver.requests == []
        assert attempt.outcome == HandoffAttempt.Outcome.REJECTED
        assert "POLICE_HANDOFF_PUBLIC_KEY" in attempt.detail
        private = PrivateKey.generate()
        https_settings.POLICE_HANDOFF_PUBLIC_KEY = base64.b64encode(bytes(private.public_key)).decode()
        sealed_report, _handoff, _attempt = attempt_once()
    assert sealed_report.result == services.AttemptResult.DELIVERED
    assert len(receiver.requests) == 1


# No sealing key, and an http:// address the environment asks to allow.
PRODUCTION = production_env(
    POLICE_HANDOFF_PUBLIC_KEY=None,
    POLICE_HANDOFF_URL="http://police.example.org/handoff",
    POLICE_HANDOFF_REQUIRE_HTTPS="false",
)

SHOW = (
    "from django.conf import settings; "
    "print(settings.POLICE_HANDOFF_REQUIRE_HTTPS, settings.POLICE_HANDOFF_ALLOW_UNSEALED)"
)


def test_production_needs_a_sealing_key_unless_unsealed_is_chosen_and_always_requires_https(tmp_path):
    refused = manage("shell", "-c", SHOW, env=clean_env(DATA_DIR=str(tmp_path), **PRODUCTION))
    assert refused.returncode != 0
    assert "POLICE_HANDOFF_PUBLIC_KEY" in refused.stderr
    key = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    sealed = manage(
        "shell", "-c", SHOW, env=clean_env(DATA_DIR=str(tmp_path), POLICE_HANDOFF_PUBLIC_KEY=key, **PRODUCTION)
    )
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.split()[-2:] == ["True", "False"]  # https forced despite the environment asking otherwise
    unsealed = manage(
        "shell", "-c", SHOW, env=clean_env(DATA_DIR=str(tmp_path), POLICE_HANDOFF_ALLOW_UNSEALED="true", **PRODUCTION)
    )
    assert unsealed.returncode == 0, unsealed.stderr
    assert unsealed.stdout.split()[-2:] == ["True", "True"]
    plain = manage(
        "shell",
        "-c",
        SHOW,
        env=clean_env(
            DATA_DIR=str(tmp_path), POLICE_HANDOFF_PUBLIC_KEY=key, POLICE_HANDOFF_BACKEND="https", **PRODUCTION
        ),
    )
    assert plain.returncode != 0
    assert "POLICE_HANDOFF_URL must be an https:// address" in plain.stderr


def test_receipts_are_read_from_the_body_only():
    from hotline.handoff.https import _receipt

    assert _receipt(json.dumps({"reference": "POL-1"}).encode()) == "POL-1"
    for raw in (b"", b"<html>ok</html>", b"[]", b'{"reference": ""}', b'{"reference": true}', b'{"ok": 1}'):
        assert _receipt(raw) == ""
