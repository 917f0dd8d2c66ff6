"""The channel layer over real Redis: across processes, and under a few hundred sockets."""

import asyncio
import json
import subprocess
import sys
import uuid

import pytest
import websockets
import websockets.exceptions
from channels.layers import get_channel_layer
from websockets.typing import Origin

from tests.processes import ROOT, AsgiServer, service_env

LISTENER = """
import asyncio, json, sys, django
django.setup()
from channels.layers import get_channel_layer

async def main():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(sys.argv[1], channel)
    print("ready", flush=True)
    message = await asyncio.wait_for(layer.receive(channel), 20)
    print(json.dumps(message), flush=True)

asyncio.run(main())
"""


@pytest.mark.services
async def test_group_message_crosses_to_another_application_instance(tmp_path):
    group = f"probe-{uuid.uuid4().hex}"
    listener = subprocess.Popen(
        [sys.executable, "-c", LISTENER, group],
        cwd=ROOT,
        env=service_env(DATA_DIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert listener.stdout is not None and listener.stderr is not None
        line = await asyncio.to_thread(listener.stdout.readline)
        assert line.strip() == "ready", listener.stderr.read()
        layer = get_channel_layer()
        await layer.group_send(group, {"type": "chat.message", "text": "hej från en annan process"})
        received = json.loads(await asyncio.to_thread(listener.stdout.readline))
    finally:
        listener.kill()
        listener.wait()
    assert received == {"type": "chat.message", "text": "hej från en annan process"}


@pytest.fixture
def redis_asgi_server(tmp_path):
    server = AsgiServer(service_env(DATA_DIR=str(tmp_path)), extra_args=("--no-access-log",))
    server.start()
    yield server
    server.stop()


@pytest.mark.services
async def test_three_hundred_concurrent_sockets_all_get_answers(redis_asgi_server):
    """Each pong travels socket -> Redis layer -> socket; none may fail or time out."""
    origin = Origin(redis_asgi_server.url.replace("127.0.0.1", "localhost"))
    url = f"{redis_asgi_server.ws_url}/ws/ping/"

    async def one_client():
        async with websockets.connect(url, origin=origin, open_timeout=30) as socket:
            await socket.send(json.dumps({"type": "ping"}))
            return json.loads(await asyncio.wait_for(socket.recv(), 30))

    answers = await asyncio.gather(*(one_client() for _ in range(300)), return_exceptions=True)
    failures = [a for a in answers if not isinstance(a, dict)]
    assert not failures, failures[:3]
    assert all(a == {"type": "pong"} for a in answers)


@pytest.mark.services
async def test_cross_origin_handshake_is_refused(redis_asgi_server):
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(f"{redis_asgi_server.ws_url}/ws/ping/", origin=Origin("https://evil.example")):
            pass
