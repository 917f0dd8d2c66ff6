"""Item 11: every documented way to start the web process sets its limits explicitly.

The commands are read from the README (and docs), the Procfile (``make run``,
through honcho) and docker-compose.yml, and parsed by uvicorn's own command
line parser. Then the Procfile's command is started and attacked: an
oversized WebSocket message is cut off by the server, a message of the
protocol's largest size still reaches the consumer, and no answer names the
server software.
"""

import asyncio
import json
import re
import shlex

import httpx
import pytest
import uvicorn
import websockets
import yaml
from websockets.typing import Origin

from ecpat_site.settings.base import FORWARDED_ALLOW_IPS as SETTINGS_DEFAULT
from supportline.frames import MAX_FRAME_CHARS
from tests.processes import ROOT, AsgiServer, database_url_for_subprocess, service_env

# The largest frame the protocol accepts, in UTF-8 bytes: 4 bytes per character at most.
WS_MAX_BYTES = MAX_FRAME_CHARS * 4
APP = "ecpat_site.asgi:application"
# Stands in for the deployment's value, to see that each command really uses the variable.
DEPLOYED_PROXIES = "10.1.2.3/32"
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def _expand(text: str, defaults: dict[str, str]) -> str:
    """Shell / compose interpolation, with FORWARDED_ALLOW_IPS set and the rest defaulted."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        defaults.setdefault(name, match.group(2) or "")
        return {"FORWARDED_ALLOW_IPS": DEPLOYED_PROXIES, "PORT": "8000"}.get(name, match.group(2) or "")

    return _VARIABLE.sub(value, text)


def documented_commands() -> dict[str, tuple[str, dict[str, str]]]:
    """Every uvicorn command line in the docs, Procfile and compose file, by where it is."""
    found: dict[str, str] = {}
    procfile = (ROOT / "Procfile").read_text()
    [web] = [line for line in procfile.splitlines() if line.startswith("web:")]
    found["Procfile"] = web.removeprefix("web:").strip()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found["docker-compose.yml"] = shlex.join(compose["services"]["web"]["command"])
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text().replace("\\\n", " ")
        blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
        lines = [line for block in blocks for line in block.splitlines()]
        # Inline commands with options, e.g. in a table cell.
        lines += re.findall(rf"`(uvicorn {re.escape(APP)} --[^`]*)`", text)
        for n, line in enumerate(line.strip() for line in lines):
            if line.startswith("uvicorn ") and APP in line:
                found[f"{path.relative_to(ROOT)} #{n}"] = line
    commands = {}
    for where, line in found.items():
        defaults: dict[str, str] = {}
        line = line.replace("--workers N", "--workers 2")  # docs/scaling.md's placeholder
        commands[where] = (_expand(line, defaults), defaults)
    return commands


COMMANDS = documented_commands()


def test_the_readme_procfile_and_compose_each_document_a_command():
    places = {where.split(" #")[0] for where in COMMANDS}
    assert {"README.md", "Procfile", "docker-compose.yml"} <= places


@pytest.mark.parametrize("where", sorted(COMMANDS))
def test_every_documented_command_sets_the_limits(where):
    line, defaults = COMMANDS[where]
    args = shlex.split(line)
    assert args[0] == "uvicorn"
    params = uvicorn.main.make_context("uvicorn", args[1:]).params
    assert params["app"] == APP
    assert params["server_header"] is False, "the server header names the software"
    assert params["access_log"] is False, "the access log holds client addresses"
    assert params["ws_max_size"] == WS_MAX_BYTES, "the server's limit must match the protocol's frame limit"
    # Chat frames are small: per-message deflate costs CPU on every frame and saves little.
    assert params["ws_per_message_deflate"] is False
    # uvicorn trusts X-Forwarded-For from the very peers the site trusts its address header from.
    assert params["forwarded_allow_ips"] == DEPLOYED_PROXIES
    if defaults.get("FORWARDED_ALLOW_IPS"):
        assert defaults["FORWARDED_ALLOW_IPS"].split(",") == SETTINGS_DEFAULT


def _procfile_flags() -> list[str]:
    """The Procfile's options, less where to listen (the test picks a free port)."""
    args = shlex.split(COMMANDS["Procfile"][0])[2:]
    flags, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--host", "--port"):
            skip = True
        else:
            flags.append(arg)
    return flags


@pytest.mark.django_db(transaction=True)
async def test_the_started_server_enforces_the_limits(tmp_path):
    env = service_env(DATABASE_URL=database_url_for_subprocess(), DATA_DIR=str(tmp_path))
    flags = [f if f != DEPLOYED_PROXIES else "127.0.0.1" for f in _procfile_flags()]
    server = AsgiServer(env, extra_args=tuple(flags), log_path=tmp_path / "server.log")
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.get("/")
            assert answer.status_code == 200
            assert "server" not in answer.headers

        # The largest frame the protocol allows, in 4-byte characters, reaches the consumer.
        prefix = '{"type":"nothing-such","pad":"'
        largest = prefix + "\U0001f600" * (MAX_FRAME_CHARS - len(prefix) - 2) + '"}'
        assert len(largest) == MAX_FRAME_CHARS
        async with websockets.connect(f"{server.ws_url}/ws/chat/", origin=Origin(server.url), max_size=None) as socket:
            assert socket.response is not None
            assert "server" not in {k.lower() for k in socket.response.headers}
            await socket.send(largest)
            answer = json.loads(await socket.recv())
            assert answer["type"] == "error"

            # One byte more than any valid frame: the server closes before Django sees it.
            await socket.send("x" * (WS_MAX_BYTES + 1))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        await socket.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009
    finally:
        server.stop()
