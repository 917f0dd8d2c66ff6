"""A real worker process consumes tasks: over Redis, and over the embedded broker.

No eager mode anywhere: the task crosses a broker to another process.
"""

import pytest

from ecpat_site.tasks import ping
from tests.processes import CeleryWorker, clean_env, ping_both_queues, service_env


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
    assert "filesystem://" in ping_both_queues(env, tmp_path / "worker.log", pool="solo")
