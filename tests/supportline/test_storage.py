"""What reaches the disk: a full database dump holds no message text in plain form."""

import subprocess
import uuid
from typing import Any

import pytest
from django.db import connection

from retention.models import RetentionRun
from retention.tasks import run_retention_policy
from staff.roles import Role
from supportline.models import Message
from tests.processes import CeleryWorker, database_url_for_subprocess, service_env
from tests.supportline.helpers import adb, claimed_chat, open_all_week, verified_staff_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def database_dump() -> str:
    settings = connection.settings_dict
    result = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "--host",
            settings.get("HOST") or "127.0.0.1",
            "--username",
            settings.get("USER") or "postgres",
            settings["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


async def test_a_database_dump_holds_no_message_text(two_servers):
    visitor_server, counsellor_server = two_servers
    _, cookie = await adb(lambda: (open_all_week(), verified_staff_cookie(Role.COUNSELLOR, "Maja"))[1])()
    visitor, _, staff, conversation_id = await claimed_chat(visitor_server, counsellor_server, cookie)
    secret_from_visitor = f"Min tränare skickar bilder {uuid.uuid4().hex[:8]}"
    secret_from_counsellor = f"Du har inte gjort något fel {uuid.uuid4().hex[:8]}"
    await visitor.send(type="message", client_id="v", text=secret_from_visitor)
    await staff.recv_type("message")
    await staff.send(type="message", conversation_id=conversation_id, client_id="c", text=secret_from_counsellor)
    await visitor.recv_type("message", seq=2)
    await visitor.close()
    await staff.close()

    dump = await adb(database_dump)()
    assert "supportline_message" in dump  # the dump really holds the table
    assert await adb(Message.objects.count)() == 2
    for secret in (secret_from_visitor, secret_from_counsellor):
        assert secret not in dump
        assert secret.split()[-1] not in dump


def test_the_beat_job_purges_transcripts_in_a_real_worker(tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from supportline import services
    from supportline.models import Conversation
    from tests.factories import StaffUserFactory

    counsellor: Any = StaffUserFactory(role=Role.COUNSELLOR)
    conversation = Conversation.objects.create(
        token_hash="x" * 64, status="active", counsellor=counsellor, queued_at=timezone.now()
    )
    services.message_post(conversation_id=conversation.pk, sender="visitor", client_id="1", text="hej")
    services.conversation_end_by_staff(conversation_id=conversation.pk, actor=counsellor)
    Conversation.objects.filter(pk=conversation.pk).update(ended_at=timezone.now() - timedelta(days=31))

    env = service_env(DATABASE_URL=database_url_for_subprocess(), DATA_DIR=str(tmp_path))
    worker = CeleryWorker(env, log_path=tmp_path / "worker.log", pool="solo")
    worker.start()
    try:
        assert run_retention_policy.delay("transcripts").get(timeout=60) == 1
    finally:
        worker.stop()
    assert not Message.objects.exists()
    run = RetentionRun.objects.get(kind="transcripts")
    assert run.deleted == 1
