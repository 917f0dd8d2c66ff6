"""Police hand-off over a real Celery worker on Redis, to a real local HTTP receiver.

No eager mode: the decision to forward commits, the task crosses Redis to
a worker process, and the worker POSTs over verified TLS (the receiver's
self-signed certificate is the worker's POLICE_HANDOFF_CA_FILE) to a threaded
HTTPS server that verifies each signature and keeps one delivery per
Idempotency-Key.
"""

import signal
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from ecpat_site.celery import app as celery_app
from hotline import selectors
from hotline.models import HandoffAttempt, PoliceHandoff
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.conftest import submit_tip
from tests.hotline.receiver import PoliceReceiver, self_signed_certificate
from tests.processes import BIN, CeleryWorker, ManagedProcess, database_url_for_subprocess, free_port, service_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SECRET = "delivery-test-secret"


@pytest.fixture(autouse=True)
def empty_broker():
    """No message from an earlier run (including unacked ones of killed workers) may interfere."""
    celery_app.control.purge()
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("unacked", "unacked_index", "unacked_mutex")
    client.close()


def worker_env(tmp_path: Path, url: str) -> dict[str, str]:
    certificate, _key = self_signed_certificate(tmp_path / "tls")
    return service_env(
        POLICE_HANDOFF_CA_FILE=str(certificate),
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(tmp_path),
        POLICE_HANDOFF_BACKEND="https",
        POLICE_HANDOFF_URL=url,
        POLICE_HANDOFF_SECRET=SECRET,
        POLICE_HANDOFF_TIMEOUT_SECONDS="5",
        POLICE_HANDOFF_LEASE_SECONDS="6",
        POLICE_HANDOFF_MAX_ATTEMPTS="3",
        POLICE_HANDOFF_RETRY_BASE_SECONDS="0.3",
        POLICE_HANDOFF_RETRY_MAX_SECONDS="1",
        POLICE_HANDOFF_SWEEP_SECONDS="1",
    )


def start_worker(tmp_path: Path, env: dict[str, str], name: str) -> CeleryWorker:
    worker = CeleryWorker(env, log_path=tmp_path / f"{name}.log")
    worker.start()
    return worker


def start_beat(tmp_path: Path, env: dict[str, str]) -> ManagedProcess:
    beat = ManagedProcess(
        [
            str(BIN / "celery"),
            "--app",
            "ecpat_site",
            "beat",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--loglevel",
            "INFO",
        ],
        env,
        log_path=tmp_path / "beat.log",
    )
    beat.start()
    return beat


def wait_for_status(handoff: PoliceHandoff, status: str, timeout: float, *logs: ManagedProcess) -> PoliceHandoff:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        handoff.refresh_from_db()
        if handoff.status == status:
            return handoff
        time.sleep(0.2)
    output = "\n".join(process.output()[-4000:] for process in logs)
    raise AssertionError(f"hand-off is {handoff.status}, not {status}, after {timeout} s\n{output}")


def forward_urgent_tip() -> PoliceHandoff:
    """An urgent tip: the hand-off row and the enqueue come with the same commit."""
    tip = submit_tip(urgent=True, contact="reporter@example.org").tip
    return PoliceHandoff.objects.get(tip=tip)


def test_a_signed_delivery_is_verified_by_the_receiver(tmp_path):
    receiver = PoliceReceiver(SECRET, tls_dir=tmp_path / "tls").start()
    worker = start_worker(tmp_path, worker_env(tmp_path, receiver.url), "worker")
    try:
        handoff = wait_for_status(forward_urgent_tip(), PoliceHandoff.Status.DELIVERED, 30, worker)
    finally:
        worker.stop()
        receiver.stop()
    [request] = receiver.requests
    assert request.signature_valid
    assert request.idempotency_key == str(handoff.idempotency_key)
    assert b"reporter@example.org" not in request.body
    assert handoff.acknowledgement == receiver.accepted[str(handoff.idempotency_key)]


def test_503_twice_then_success_is_exactly_one_delivery(tmp_path):
    receiver = PoliceReceiver(SECRET, script=(503, 503), tls_dir=tmp_path / "tls").start()
    worker = start_worker(tmp_path, worker_env(tmp_path, receiver.url), "worker")
    try:
        handoff = wait_for_status(forward_urgent_tip(), PoliceHandoff.Status.DELIVERED, 30, worker)
    finally:
        worker.stop()
        receiver.stop()
    assert [r.answered for r in receiver.requests] == [503, 503, 200]
    assert {r.idempotency_key for r in receiver.requests} == {str(handoff.idempotency_key)}
    assert all(r.signature_valid for r in receiver.requests)
    assert len(receiver.accepted) == 1
    attempts = list(handoff.attempt_log.values_list("outcome", "status_code"))
    assert attempts == [("retry", 503), ("retry", 503), ("accepted", 200)]


def test_a_worker_killed_mid_delivery_still_gives_exactly_one_delivery(tmp_path):
    receiver = PoliceReceiver(SECRET, script=("hold",), tls_dir=tmp_path / "tls").start()
    env = worker_env(tmp_path, receiver.url)
    first = start_worker(tmp_path, env, "worker-1")
    second = beat = None
    try:
        handoff = forward_urgent_tip()
        assert receiver.holding.wait(30), first.output()
        # The receiver has the package; the worker dies before it hears back.
        first.stop(sig=signal.SIGKILL)
        receiver.release.set()
        handoff.refresh_from_db()
        assert handoff.status == PoliceHandoff.Status.DELIVERING
        second = start_worker(tmp_path, env, "worker-2")
        beat = start_beat(tmp_path, env)
        handoff = wait_for_status(handoff, PoliceHandoff.Status.DELIVERED, 60, second, beat)
    finally:
        for process in (beat, second, first):
            if process is not None:
                process.stop()
        receiver.stop()
    assert len(receiver.requests) >= 2
    assert {r.idempotency_key for r in receiver.requests} == {str(handoff.idempotency_key)}
    assert len(receiver.accepted) == 1
    assert handoff.acknowledgement == "POL-0001"
    outcomes = list(handoff.attempt_log.values_list("outcome", flat=True))
    assert outcomes[0] == HandoffAttempt.Outcome.INTERRUPTED
    assert outcomes[-1] == HandoffAttempt.Outcome.ACCEPTED


def test_receiver_down_past_the_last_retry_fails_visibly_and_a_manual_retry_delivers(tmp_path, client):
    port = free_port()
    url = f"https://127.0.0.1:{port}/handoff"
    worker = start_worker(tmp_path, worker_env(tmp_path, url), "worker")
    receiver = None
    try:
        handoff = wait_for_status(forward_urgent_tip(), PoliceHandoff.Status.FAILED, 30, worker)
        assert handoff.failure_reason.startswith("gave up after 3 attempts: network error")
        assert list(handoff.attempt_log.values_list("outcome", "status_code")) == [("retry", None)] * 3

        from staff.roles import Role

        login_verified(client, StaffUserFactory(role=Role.ANALYST))
        assert "1 överlämning till polisen har misslyckats" in client.get("/admin/hotline/tip/").text
        assert "gave up after 3 attempts" in client.get(f"/admin/hotline/tip/{handoff.tip_id}/change/").text

        receiver = PoliceReceiver(SECRET, port=port, tls_dir=tmp_path / "tls").start()
        client.post(f"/admin/hotline/tip/{handoff.tip_id}/change/", {"action": "retry_handoff"})
        client.post(f"/admin/hotline/tip/{handoff.tip_id}/change/", {"action": "retry_handoff"})  # double click
        handoff = wait_for_status(handoff, PoliceHandoff.Status.DELIVERED, 30, worker)
    finally:
        worker.stop()
        if receiver is not None:
            receiver.stop()
    assert len(receiver.requests) == 1
    assert receiver.requests[0].signature_valid
    assert receiver.requests[0].idempotency_key == str(handoff.idempotency_key)
    assert selectors.handoffs_due_for_sweep() == []
