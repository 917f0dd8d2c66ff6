"""The pub/sub channel layer against a private Redis that is down: channels open, subscriptions follow later."""

import asyncio
import signal
import time
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from resilience.channel_layer import ORIGIN, ResilientPubSubChannelLayer, restore_subscriptions
from tests.processes import RedisServer

pytestmark = pytest.mark.services


@pytest.fixture
def redis_down(tmp_path):
    """A private redis-server, stopped: ``start()`` brings it back on the same port."""
    server = RedisServer(tmp_path)
    server.start()
    server.stop(signal.SIGKILL)
    yield server
    server.stop()


def layer_on(server: RedisServer) -> ResilientPubSubChannelLayer:
    host = {"address": server.url, "socket_connect_timeout": 1, "socket_timeout": None}
    return ResilientPubSubChannelLayer(hosts=[host], prefix="resilient-test")


async def receive(layer: ResilientPubSubChannelLayer, channel: str, timeout: float = 5.0) -> dict[str, Any]:
    return dict(await asyncio.wait_for(layer.receive(channel), timeout))


async def test_a_channel_opens_while_redis_is_down_and_is_subscribed_when_it_is_back(redis_down):
    layer, sender = layer_on(redis_down), layer_on(redis_down)
    started = time.monotonic()
    channel = await layer.new_channel()  # channels_redis's own layer raises ConnectionError here
    assert time.monotonic() - started < 3
    with pytest.raises(RedisConnectionError):
        await layer.group_add("room", channel)  # still raises: the caller learns the layer is down
    assert await layer.restore_subscriptions() == 2  # the channel and the group, nothing at Redis yet

    await asyncio.to_thread(redis_down.start)
    assert await restore_subscriptions(layer) == 0
    await sender.group_send("room", {"type": "room.event", "n": 1})
    assert (await receive(layer, channel))["n"] == 1
    await sender.send(channel, {"type": "direct", "n": 2})
    assert (await receive(layer, channel))["n"] == 2
    await layer.flush()
    await sender.flush()


async def test_what_left_during_the_outage_is_not_subscribed_afterwards(redis_down):
    layer = layer_on(redis_down)
    staying, leaving = await layer.new_channel(), await layer.new_channel()
    with pytest.raises(RedisConnectionError):
        await layer.group_add("left-behind", leaving)
    # A consumer that closes cancels its receive; that releases its channel and groups.
    pending = asyncio.ensure_future(layer.receive(leaving))
    await asyncio.sleep(0)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    await layer.group_discard("left-behind", leaving)

    await asyncio.to_thread(redis_down.start)
    assert await layer.restore_subscriptions() == 0
    client = redis_down.client()
    try:
        subscribed = {name.decode() for name in client.pubsub_channels("resilient-test*")}
    finally:
        client.close()
    assert subscribed == {staying}
    await layer.flush()


async def test_other_layers_have_nothing_to_restore():
    from channels.layers import InMemoryChannelLayer

    assert await restore_subscriptions(InMemoryChannelLayer()) == 0


@pytest.fixture
def redis_up(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_publishes_under_a_burst_share_round_trips_and_keep_their_order(redis_up):
    """channels_redis sends one publish per round trip under one lock; here a burst goes in a few pipelines."""
    layer, sender = layer_on(redis_up), layer_on(redis_up)
    channel = await layer.new_channel()
    await layer.group_add("burst", channel)
    await asyncio.gather(*(sender.group_send("burst", {"type": "burst.event", "n": n}) for n in range(200)))
    received = [(await receive(layer, channel))["n"] for _ in range(200)]
    assert received == list(range(200))
    shard = sender._get_layer()._shards[0]
    assert 1 <= shard.round_trips <= 5
    # One at a time they still go one by one, each acknowledged by Redis before the caller returns.
    for n in range(3):
        await sender.group_send("burst", {"type": "burst.event", "n": n})
    assert shard.round_trips <= 8
    assert [(await receive(layer, channel))["n"] for _ in range(3)] == [0, 1, 2]
    await layer.flush()
    await sender.flush()


async def test_every_publish_waiting_in_a_pipeline_hears_that_redis_is_down(redis_up):
    sender = layer_on(redis_up)
    await sender.group_send("warm", {"type": "warm.up"})
    await asyncio.to_thread(redis_up.stop, signal.SIGKILL)
    results = await asyncio.gather(
        *(sender.group_send("burst", {"type": "burst.event", "n": n}) for n in range(20)), return_exceptions=True
    )
    assert all(isinstance(result, (RedisConnectionError, OSError)) for result in results), results
    await sender.flush()


async def test_a_group_message_is_decoded_once_and_not_handed_back_to_its_origin(redis_up, monkeypatch):
    layer = layer_on(redis_up)
    sender, other, third = await layer.new_channel(), await layer.new_channel(), await layer.new_channel()
    for channel in (sender, other, third):
        await layer.group_add("room", channel)
    decoded: list[object] = []
    real_deserialize = ResilientPubSubChannelLayer.deserialize

    def counted(self, message):
        if not isinstance(message, dict):
            decoded.append(message)
        return real_deserialize(self, message)

    monkeypatch.setattr(ResilientPubSubChannelLayer, "deserialize", counted)
    await layer.group_send("room", {"type": "room.event", "n": 1, ORIGIN: sender})
    await layer.group_send("room", {"type": "room.event", "n": 2})
    first, second = await receive(layer, other), await receive(layer, third)
    assert first == second == {"type": "room.event", "n": 1, ORIGIN: sender}
    assert first is not second  # each member its own copy
    assert (await receive(layer, sender))["n"] == 2  # the first one never reached its origin
    assert (await receive(layer, other))["n"] == 2 and (await receive(layer, third))["n"] == 2
    assert len(decoded) == 2  # once per message, not once per member
    # A direct message still goes as before.
    await layer.send(other, {"type": "direct"})
    assert (await receive(layer, other))["type"] == "direct"
    await layer.flush()
