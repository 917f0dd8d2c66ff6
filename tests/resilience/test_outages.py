"""The site under a Redis or PostgreSQL outage, over real processes.

Each test runs its own ``redis-server`` (and, where PostgreSQL goes down, its
own PostgreSQL cluster) on a free port, a uvicorn server on them, and stops
them under it: never the shared services. Short socket and pool timeouts in
the server's environment keep each test to seconds.
"""

import re
import time
from pathlib import Path

import httpx
import pytest

from hotline.models import PoliceHandoff, Tip
from prevention import services as prevention_services
from prevention.models import Article
from tests.processes import (
    AsgiServer,
    CeleryBeat,
    CeleryWorker,
    PostgresCluster,
    RedisServer,
    database_url_for_subprocess,
    service_env,
)

pytestmark = pytest.mark.services

EXIT_URL = "https://neutral.example/"


def server_env(data_dir: Path, redis: RedisServer, database_url: str, **extra: str) -> dict[str, str]:
    return service_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        CHANNEL_LAYER_PREFIX="ecpat-outage",
        DATA_DIR=str(data_dir),
        QUICK_EXIT_URL=EXIT_URL,
        REDIS_CACHE_TIMEOUT_SECONDS="0.5",
        DATABASE_POOL_TIMEOUT="2",
        **extra,
    )


def start_server(data_dir: Path, env: dict[str, str]) -> AsgiServer:
    server = AsgiServer(env=env, log_path=data_dir / "uvicorn.log")
    server.start()
    return server


def assert_quick_exit_works(client: httpx.Client) -> None:
    started = time.monotonic()
    response = client.get("/exit/")
    assert response.status_code == 302, response.text
    assert response.headers["location"] == EXIT_URL
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    safety = client.get("/sakerhet/")
    assert safety.status_code == 200
    assert 'id="quick-exit"' in safety.text or "/exit/" in safety.text
    assert client.get("/en/safety/").status_code == 200
    assert time.monotonic() - started < 5


def assert_healthz_json(client: httpx.Client, failing: str) -> dict[str, object]:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"][failing] != "ok"
    return dict(body["checks"])


def test_quick_exit_and_safety_page_work_with_postgresql_and_redis_stopped(tmp_path):
    with RedisServer(tmp_path) as redis, PostgresCluster() as postgres:
        server = start_server(tmp_path, server_env(tmp_path, redis, postgres.url()))
        try:
            with httpx.Client(base_url=server.url, timeout=15) as client:
                assert_quick_exit_works(client)

                postgres.stop()
                checks = assert_healthz_json(client, "database")
                assert checks["cache"] == "ok"
                assert_quick_exit_works(client)

                redis.stop()
                checks = assert_healthz_json(client, "database")
                assert checks["cache"] != "ok"
                assert_quick_exit_works(client)
                # A staff member's session cookie: the session cannot be read or
                # deleted, and the exit still answers and drops the cookie.
                client.cookies.set("sessionid", "x" * 32)
                response = client.get("/exit/")
                assert response.status_code == 302
                assert 'sessionid=""' in response.headers["set-cookie"]
                assert client.get("/sakerhet/").status_code == 200
        finally:
            server.stop()
    assert "Internal Server Error" not in server.output()


@pytest.fixture
def article(transactional_db, django_capture_on_commit_callbacks) -> Article:
    with django_capture_on_commit_callbacks(execute=True):
        return prevention_services.article_create(
            language="sv",
            slug="nar-nagon-vill-ha-bilder",
            title="När någon vill ha bilder",
            summary="Vad du kan göra.",
            body="Du har inte gjort något fel.",
            audiences=["youth"],
            status=Article.Status.PUBLISHED,
        )


def test_public_pages_render_and_healthz_answers_json_with_redis_stopped(tmp_path, article):
    with RedisServer(tmp_path) as redis:
        server = start_server(tmp_path, server_env(tmp_path, redis, database_url_for_subprocess()))
        try:
            with httpx.Client(base_url=server.url, timeout=15) as client:
                page = f"/kunskap/artikel/{article.slug}/"
                assert client.get(page).status_code == 200  # now in the page cache
                redis.stop()
                started = time.monotonic()
                for _ in range(3):
                    home = client.get("/")
                    assert home.status_code == 200
                    response = client.get(page)
                    assert response.status_code == 200
                    assert "När någon vill ha bilder" in response.text
                # The breaker keeps requests from waiting for Redis each time.
                assert time.monotonic() - started < 5
                checks = assert_healthz_json(client, "cache")
                assert checks["database"] == "ok"
                assert_quick_exit_works(client)

                redis.start()
                deadline = time.monotonic() + 20
                while client.get("/healthz").json()["checks"]["cache"] != "ok":
                    assert time.monotonic() < deadline, "the cache did not come back"
                    time.sleep(0.5)
                assert client.get(page).status_code == 200
        finally:
            server.stop()
    assert "Internal Server Error" not in server.output()


FORM = {
    "urls": "https://example.com/x",
    "place": "",
    "category": "abuse_material",
    "occurred": "i morse",
    "description": "Ett barn är i fara.",
    "contact": "",
    "website": "",
    "urgent": "on",
}


def post_tip(client: httpx.Client, **overrides: str) -> httpx.Response:
    page = client.get("/hotline/")
    token = client.cookies["csrftoken"]
    match = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert match is not None
    data = {**FORM, **overrides, "csrfmiddlewaretoken": token, "form_token": match.group(1)}
    return client.post("/hotline/", data=data, follow_redirects=True)


def wait_for_delivery(handoff: PoliceHandoff, timeout: float, *logs: object) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        handoff.refresh_from_db()
        if handoff.status == PoliceHandoff.Status.DELIVERED:
            return
        time.sleep(0.2)
    output = "\n".join(process.output()[-3000:] for process in logs)  # type: ignore[attr-defined]
    raise AssertionError(f"hand-off still {handoff.status}\n{output}")


def test_a_tip_is_stored_with_its_receipt_when_redis_is_down_and_delivered_once_it_returns(tmp_path, transactional_db):
    with RedisServer(tmp_path) as redis:
        env = server_env(
            tmp_path,
            redis,
            database_url_for_subprocess(),
            HOTLINE_TIP_RATE_LIMIT="2",
            POLICE_HANDOFF_BACKEND="dropfolder",
            POLICE_HANDOFF_SWEEP_SECONDS="1",
        )
        server = start_server(tmp_path, env)
        worker = beat = None
        try:
            redis.stop()
            with httpx.Client(base_url=server.url, timeout=15) as client:
                response = post_tip(client)
                assert response.status_code == 200, response.text[-2000:]
                assert re.search(r'id="receipt-code">[0-9A-Z-]{24}<', response.text)
                # The rate limit still holds, counted in the server's memory.
                assert post_tip(client, description="Andra").status_code == 200
                assert post_tip(client, description="Tredje").status_code == 429
            tips = list(Tip.objects.order_by("pk"))
            assert [tip.description for tip in tips] == ["Ett barn är i fara.", "Andra"]
            handoffs = list(PoliceHandoff.objects.filter(tip__in=tips))
            assert [h.status for h in handoffs] == [PoliceHandoff.Status.PENDING] * 2

            # Redis returns, empty: the enqueue was lost, the sweeper finds the row.
            redis.start()
            worker = CeleryWorker(env, log_path=tmp_path / "worker.log")
            worker.start()
            beat = CeleryBeat(env, tmp_path)
            beat.start()
            for handoff in handoffs:
                wait_for_delivery(handoff, 60, worker, beat)
                assert (tmp_path / "police-handoff" / f"{handoff.idempotency_key}.json").exists()
        finally:
            for process in (beat, worker, server):
                if process is not None:
                    process.stop()
    log = server.output()
    assert "after commit: enqueue hotline.tasks.deliver_police_handoff failed" in log
    assert "Internal Server Error" not in log
    assert "Ett barn" not in log
