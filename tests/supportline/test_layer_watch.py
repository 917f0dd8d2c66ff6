"""The layer watch tells a Redis that refuses from a process that is only busy.

Declaring the layer down makes every socket of the process poll the database;
in the benchmark on a loaded machine that was declared on slow answers alone
and kept the process behind. A refused call counts at once; silence only once
it has lasted ``SILENT_DOWN_AFTER_SECONDS``.
"""

import asyncio
import time
from typing import Any

import pytest

from supportline import outage


class FakeLayer:
    """Answers the probe at once, slowly, or with a connection error."""

    def __init__(self) -> None:
        self.mode = "ok"

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.mode == "slow" or (self.mode == "busy" and group == outage.PROBE_GROUP):
            await asyncio.sleep(10)
        elif self.mode == "refused":
            raise ConnectionRefusedError("refused")


class Socket:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def layer_down(self) -> None:
        self.events.append("down")

    async def layer_up(self) -> None:
        self.events.append("up")


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(outage, "PROBE_SECONDS", 0.05)
    monkeypatch.setattr(outage, "PROBE_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(outage, "SILENT_DOWN_AFTER_SECONDS", 1.5)
    monkeypatch.setattr(outage, "LAYER_CALL_TIMEOUT_SECONDS", 0.1)


async def until(condition, within: float) -> float:
    """Waits for ``condition()``; returns how long it took (fails after ``within`` seconds)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "condition not reached"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_slow_answers_are_not_an_outage_until_they_last(quick):
    layer, socket = FakeLayer(), Socket()
    watch = outage.LayerWatch(layer)
    watch.watch(socket)
    try:
        layer.mode = "slow"
        await asyncio.sleep(0.5)  # several probes time out, for well under the silence bound
        assert watch.healthy and socket.events == []
        layer.mode = "ok"
        await asyncio.sleep(0.3)
        layer.mode = "slow"
        silent = await until(lambda: not watch.healthy, within=5)
        assert silent > 1.2  # counted from the last answer (1.5 s), not from the first slow phase (1.0 s left)
        assert socket.events == ["down"]
        layer.mode = "ok"
        await until(lambda: watch.healthy, within=2)
        assert socket.events == ["down", "up"]
    finally:
        watch.unwatch(socket)


async def test_a_process_whose_calls_get_through_is_not_down_however_slow_its_probe(quick):
    layer, socket = FakeLayer(), Socket()
    layer.mode = "busy"  # the probe never answers in time, the sockets' publishes do
    watch = outage.LayerWatch(layer)
    watch.watch(socket)
    try:
        for _ in range(12):
            assert await outage.layer_call(watch, layer.group_send("chat", {}))
            await asyncio.sleep(0.25)
        assert watch.healthy and socket.events == []
    finally:
        watch.unwatch(socket)


async def test_a_refused_probe_is_an_outage_at_once(quick):
    layer, socket = FakeLayer(), Socket()
    layer.mode = "refused"
    watch = outage.LayerWatch(layer)
    watch.watch(socket)
    try:
        assert await until(lambda: not watch.healthy, within=5) < 1.0
        assert socket.events == ["down"]
    finally:
        watch.unwatch(socket)


async def test_a_layer_call_that_times_out_leaves_the_verdict_to_the_probe(quick):
    layer = FakeLayer()
    watch = outage.LayerWatch(layer)
    layer.mode = "slow"
    assert await outage.layer_call(watch, layer.group_send("g", {})) is False
    assert watch.healthy
    layer.mode = "refused"
    assert await outage.layer_call(watch, layer.group_send("g", {})) is False
    assert not watch.healthy
