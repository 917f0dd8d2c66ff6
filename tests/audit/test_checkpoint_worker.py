"""Beat's checkpoint entry, run by a real worker: the file and the log get it, and a missing tail stops it."""

import json
import os
import signal
from pathlib import Path

import pytest
from django.db import connection, transaction

from audit.selectors import verify_chain
from audit.services import record_event
from tests.processes import CeleryWorker, database_url_for_subprocess, service_env


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_checkpoints_and_refuses_over_a_missing_tail(tmp_path, settings):
    from ecpat_site.celery import app as celery_app

    events = [record_event(actor=None, action="hotline.tip.viewed", object_id=n) for n in range(3)]
    entry = celery_app.conf.beat_schedule["audit-write-checkpoint"]
    env = service_env(DATABASE_URL=database_url_for_subprocess(), DATA_DIR=str(tmp_path))
    # The worker's default place for the file, which verify here reads too.
    settings.AUDIT_CHECKPOINT_FILE = Path(tmp_path) / "audit" / "checkpoints.jsonl"
    worker = CeleryWorker(env, log_path=tmp_path / "worker.log")
    worker.start()
    try:
        assert celery_app.send_task(entry["task"]).get(timeout=60) == events[2].pk
        assert verify_chain().problems == []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # a superuser's attack
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
        # The worker re-raises AuditTailMissing; Celery rebuilds it on this side.
        with pytest.raises(Exception, match="Tail missing"):
            celery_app.send_task(entry["task"]).get(timeout=60)
    finally:
        # A warm shutdown (main process only) lets the worker ack what it ran, so nothing is requeued.
        if worker.process is not None and worker.process.poll() is None:
            os.kill(worker.process.pid, signal.SIGTERM)
            worker.process.wait(timeout=30)
        worker.stop()
    # No checkpoint was written after the tail went missing: every line still names the deleted head.
    lines = [json.loads(line) for line in settings.AUDIT_CHECKPOINT_FILE.read_text().splitlines()]
    assert lines and {(c["head_id"], c["head_hash"]) for c in lines} == {(events[2].pk, events[2].hash)}
    assert f'"head_id":{events[2].pk}' in worker.output()  # the log stream's copy
    assert "ERROR" in worker.output() and "Tail missing" in worker.output()
    assert "Tail missing" in "\n".join(verify_chain().problems)
