"""Issue 12's whole path on PostgreSQL with a real Celery worker, no eager mode.

tip -> assessed illegal -> confirmed by a second analyst -> in the signed feed
(the worker builds the snapshot) -> notice e-mailed by the worker (the file
backend, read back) -> reminder after the configured time (time-machine) ->
removal recorded -> gone from the feed with a ``removed`` delta -> the
metrics show the time to removal.
"""

import base64
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from ecpat_site.celery import app as celery_app
from hotline import selectors, services
from hotline.models import FeedSnapshot, Provider, TakedownNotice, Tip
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.conftest import submit_tip
from tests.hotline.feed_helpers import FEED_KEYS, get, partner_with_token
from tests.processes import CeleryWorker, database_url_for_subprocess, service_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_until(check: Callable[[], Any], worker: CeleryWorker, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"not reached within {timeout} s\n{worker.output()[-4000:]}")


def mails(folder: Path) -> list[str]:
    return [path.read_text() for path in sorted(folder.glob("*.log"))] if folder.exists() else []


def verified(response: Any) -> Any:
    """The body, after checking its signature with `cryptography` against the key the test configured."""
    key = Ed25519PublicKey.from_public_bytes(_public_key())
    key.verify(base64.b64decode(response["X-Feed-Signature"]), response.content)
    return json.loads(response.content)


def _public_key() -> bytes:
    from nacl.signing import SigningKey

    return bytes(SigningKey(bytes(range(32))).verify_key)


def test_from_tip_to_removal_through_feed_notice_and_reminder(tmp_path: Path, client: Any, settings: Any) -> None:
    celery_app.control.purge()
    client_redis = redis.Redis.from_url(settings.REDIS_URL)
    client_redis.delete("unacked", "unacked_index", "unacked_mutex")
    client_redis.close()
    settings.FEED_SIGNING_KEYS = FEED_KEYS
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(tmp_path),
        FEED_SIGNING_KEYS=FEED_KEYS[0],
        EMAIL_URL="filemail://",
        NOTICE_FROM_EMAIL="hotline@ecpat.example",
    )
    mail_folder = tmp_path / "mail"
    assessor: Any = StaffUserFactory(role=Role.ANALYST)
    confirmer: Any = StaffUserFactory(role=Role.ANALYST)
    host = Provider.objects.create(
        name="Exempel Hosting AB",
        abuse_email="abuse@exempelhost.se",
        country="SE",
        notice_language="sv",
        known_domains="exempelhost.se",
    )
    _, secret = partner_with_token("industry")
    worker = CeleryWorker(env, log_path=tmp_path / "worker.log")
    worker.start()
    try:
        tip = submit_tip(urls=["https://files.exempelhost.se/album/7"], description="Det reportern skrev.").tip
        services.tip_start_assessment(tip_id=tip.pk, actor=assessor)
        services.tip_assess(tip_id=tip.pk, actor=assessor, outcome=Tip.Outcome.ILLEGAL)
        reported = tip.urls.get()
        services.url_assess_illegal(url_id=reported.pk, actor=assessor)
        services.url_confirm(url_id=reported.pk, actor=confirmer)

        # The worker builds and signs the snapshot after the commit.
        wait_until(lambda: FeedSnapshot.objects.filter(version=1).count() == 4, worker)
        listed = verified(get(client, "/api/v1/feed/urls", secret))
        assert [entry["url"] for entry in listed["entries"]] == ["https://files.exempelhost.se/album/7"]

        suggestion = selectors.provider_suggestion(reported.url)
        assert suggestion == host
        services.url_set_provider(url_id=reported.pk, provider_id=suggestion.pk, actor=assessor)
        notice = services.notice_send(url_id=reported.pk, actor=assessor)
        notice = wait_until(lambda: TakedownNotice.objects.filter(pk=notice.pk, state="sent").first(), worker)
        [first_mail] = wait_until(lambda: mails(mail_folder), worker)
        assert "To: abuse@exempelhost.se" in first_mail
        assert notice.message_id in first_mail
        assert "files.exempelhost.se/album/7" in first_mail
        assert "Det reportern skrev" not in first_mail

        later = notice.sent_at + timedelta(hours=settings.NOTICE_REMINDER_HOURS + 1)
        with time_machine.travel(later, tick=False):
            assert services.notice_sweep().reminders == [notice.pk]
        reminded = wait_until(
            lambda: TakedownNotice.objects.filter(pk=notice.pk, reminder_sent_at__isnull=False), worker
        )
        assert reminded
        assert len(wait_until(lambda: mails(mail_folder) if len(mails(mail_folder)) == 2 else None, worker)) == 2
        assert any("Påminnelse" in text or "P=C3=A5minnelse" in text for text in mails(mail_folder))

        removal_at = notice.sent_at + timedelta(hours=30)
        with time_machine.travel(removal_at, tick=False):
            services.notice_record_removed(notice_id=notice.pk, actor=assessor)
        version = wait_until(lambda: FeedSnapshot.objects.filter(version__gte=2).exists() and 2, worker)
        delta = verified(get(client, f"/api/v1/feed/urls?since={listed['version']}", secret))
        assert delta["version"] == version
        assert [entry["url"] for entry in delta["removed"]] == ["https://files.exempelhost.se/album/7"]
        assert delta["added"] == []
        assert verified(get(client, "/api/v1/feed/urls", secret))["entries"] == []
    finally:
        worker.stop()

    [row] = selectors.takedown_metrics(by="provider")
    assert row.notice_to_removal_median == timedelta(hours=30)
    assert row.removed_within_72h == 1.0
    login_verified(client, assessor)
    assert "30.0 h" in client.get("/admin/hotline/takedownnotice/").content.decode()
    assert timezone.now() < removal_at  # the clock is back: only the recorded times moved
