"""A real worker process consumes tasks: over Redis, and over the embedded broker.

No eager mode anywhere: the task crosses a broker to another process.
"""

import pytest

from ecpat_site.tasks import ping
from tests.processes import CeleryWorker, clean_env, manage, service_env


@pytest.mark.services
def test_worker_consumes_both_queues_over_redis(tmp_path):
    worker = CeleryWorker(service_env(DATA_DIR=str(tmp_path)), log_path=tmp_path / "worker.log")
    worker.start()
    try:
        assert ping.apply_async(queue="default").get(timeout=30) == "pong"
        assert ping.apply_async(queue="police_handoff").get(timeout=30) == "pong"
    finally:
        worker.stop()
    assert "redis://" in worker.output()


def test_worker_round_trips_over_the_embedded_broker(tmp_path):
    # Nothing set: SQLite, filesystem broker, file results - as on a fresh machine.
    env = clean_env(DATA_DIR=str(tmp_path))
    worker = CeleryWorker(env, log_path=tmp_path / "worker.log", pool="solo")
    worker.start()
    try:
        result = manage("ping_worker", "--timeout", "30", env=env)
    finally:
        worker.stop()
    assert result.returncode == 0, result.stdout + result.stderr + worker.output()
    assert "default: pong" in result.stdout
    assert "police_handoff: pong" in result.stdout
    assert "filesystem://" in worker.output()
