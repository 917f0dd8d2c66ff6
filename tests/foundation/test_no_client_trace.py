"""No client address or User-Agent in any table or any log line.

A request and a WebSocket come from a recognisable loopback address and
User-Agent, through the real server (uvicorn) and, in services mode, with a
real Celery worker running. Then every table and every captured log is searched.
"""

import json

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async
from websockets.typing import Origin

from ecpat_site.tasks import ping
from tests.conftest import services_available
from tests.processes import AsgiServer, CeleryWorker, database_url_for_subprocess, service_env
from tests.storage import dump_all_tables

CLIENT_ADDRESS = "127.0.0.77"
FORWARDED_ADDRESS = "198.51.100.77"
USER_AGENT = "ZzProbeAgent/7.7 (RecognisablePhone; Android 99)"
MARKERS = (CLIENT_ADDRESS, FORWARDED_ADDRESS, "ZzProbeAgent", "RecognisablePhone")

# The plain command must be as clean as the production one (README, compose).
COMMANDS = {
    "plain": (),
    "production": ("--workers", "2", "--no-access-log", "--no-server-header", "--ws-max-size", "80000"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_client_address_and_agent_leave_no_trace(command, tmp_path):
    env = service_env(DATABASE_URL=database_url_for_subprocess(), DATA_DIR=str(tmp_path), LOG_LEVEL="DEBUG")
    server = AsgiServer(env, extra_args=COMMANDS[command], log_path=tmp_path / "server.log")
    worker = None
    if services_available():
        worker = CeleryWorker(env, log_path=tmp_path / "worker.log")
        worker.start()
    server.start()
    try:
        transport = httpx.AsyncHTTPTransport(local_address=CLIENT_ADDRESS)
        headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": FORWARDED_ADDRESS}
        async with httpx.AsyncClient(transport=transport, base_url=server.url, headers=headers) as client:
            assert (await client.get("/")).status_code == 200
            assert (await client.get("/en/")).status_code == 200
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/finns-inte/")).status_code == 404
            assert (await client.post("/admin/login/", data={"username": "x", "password": "y"})).status_code == 403
            assert (await client.get("/exit/")).status_code == 302

        async with websockets.connect(
            f"{server.ws_url}/ws/ping/",
            origin=Origin(server.url),
            user_agent_header=USER_AGENT,
            additional_headers={"X-Forwarded-For": FORWARDED_ADDRESS},
            local_addr=(CLIENT_ADDRESS, 0),
        ) as socket:
            await socket.send(json.dumps({"type": "ping"}))
            assert json.loads(await socket.recv()) == {"type": "pong"}
            await socket.send("not json")
            assert json.loads(await socket.recv())["type"] == "error"

        if worker is not None:
            assert ping.apply_async(queue="default").get(timeout=30) == "pong"
    finally:
        server.stop()
        if worker is not None:
            worker.stop()

    logs = server.output() + (worker.output() if worker else "")
    assert "Not Found" in logs, "the server's log was not captured"
    tables = await sync_to_async(dump_all_tables)()
    for marker in MARKERS:
        assert marker not in logs, f"{marker!r} was logged"
        assert marker not in tables, f"{marker!r} was stored"
