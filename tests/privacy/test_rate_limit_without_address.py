"""Item 8: rate limits stay on when the site cannot tell visitors apart.

An attacker who reaches the web process without an address (a unix socket
behind a proxy that sends none) or who invents the proxy's address header on
every request must not get unlimited attempts at receipt codes.
"""

import asyncio
import re
import uuid

import httpx
import pytest

from tests.processes import BIN, ManagedProcess, database_url_for_subprocess, free_port, service_env

LIMIT = 3


def server_env(tmp_path, **extra):
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(tmp_path),
        HOTLINE_STATUS_RATE_LIMIT=str(LIMIT),
        # Counters in a fresh file cache: a shared bucket must start empty on every run.
        **extra,
    )
    env.pop("REDIS_URL", None)
    return env


async def wait_ready(client):
    for _ in range(150):
        try:
            await client.get("/healthz")
            return
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise TimeoutError("server did not answer")


async def attempts(client, n, headers_for=lambda i: {}):
    """Tries ``n`` receipt codes the way a browser would; returns the status codes."""
    page = await client.get("/hotline/status/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found is not None, page.text
    token = found.group(1)
    codes = []
    for i in range(n):
        answer = await client.post(
            "/hotline/status/", data={"csrfmiddlewaretoken": token, "code": f"GUESS-{i}"}, headers=headers_for(i)
        )
        codes.append(answer.status_code)
    return codes


@pytest.mark.django_db(transaction=True)
async def test_without_an_address_visitors_share_one_bucket(tmp_path):
    socket_path = str(tmp_path / f"web-{uuid.uuid4().hex[:6]}.sock")
    server = ManagedProcess(
        [str(BIN / "uvicorn"), "ecpat_site.asgi:application", "--uds", socket_path],
        server_env(tmp_path),
        log_path=tmp_path / "server.log",
    )
    server.start()
    try:
        transport = httpx.AsyncHTTPTransport(uds=socket_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            await wait_ready(client)
            codes = await attempts(client, LIMIT + 2)
    finally:
        server.stop()
    assert 429 not in codes[:LIMIT], codes
    assert codes[LIMIT:] == [429, 429], codes
    log = server.output()
    assert log.count("without a client address") == 1, log


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("trusted", "limited"), [("10.9.9.9", True), ("127.0.0.1", False)])
async def test_the_address_header_counts_only_from_a_trusted_proxy(tmp_path, trusted, limited):
    port = free_port()
    server = ManagedProcess(
        [str(BIN / "uvicorn"), "ecpat_site.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        # uvicorn reads FORWARDED_ALLOW_IPS for --forwarded-allow-ips, the site for its own check.
        server_env(tmp_path, CLIENT_ADDRESS_HEADER="CF-Connecting-IP", FORWARDED_ALLOW_IPS=trusted),
        log_path=tmp_path / "server.log",
    )
    server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_ready(client)
            # A fresh invented address per attempt.
            codes = await attempts(client, LIMIT + 2, lambda i: {"CF-Connecting-IP": f"198.51.100.{i + 1}"})
    finally:
        server.stop()
    if limited:  # a stranger's header is ignored: its own address counts, and runs out
        assert codes[LIMIT:] == [429, 429], codes
    else:  # the load balancer's header names each visitor, each with its own bucket
        assert 429 not in codes, codes
