"""A Redis pub/sub channel layer on which a socket can open while Redis is down.

Channels gives every consumer a channel with ``new_channel()`` before the
consumer's own code runs, and channels_redis subscribes it at Redis there and
then: with Redis unreachable the error ends the handshake with a 500, so no
young person could start a chat and no counsellor open the console until
Redis was back, although the chat itself can run on the database alone
(``supportline/outage.py``). Here ``new_channel()`` always returns a channel
that works in-process; a subscription that Redis refused (for a channel or a
group) is remembered and made by :func:`restore_subscriptions` once Redis
answers again. ``group_add`` still raises, so the caller learns that the
layer is down and can poll meanwhile.

Publishes are pipelined (:class:`PipelinedShardConnection`): channels_redis
sends each ``send``/``group_send`` as its own round trip under one lock per
process, so a burst of chat starts and claims (each publishing several
events) queued every socket of the process behind one Redis reply at a time.

A group message is decoded once per process, not once per member channel, and
a message that names its sender's channel under :data:`ORIGIN` is not handed
back to that channel: a chat message's sender has already shown it, and each
event a socket is handed costs it a task, a wake-up and a dispatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# A subscription that takes longer than this is left for later: the handshake does not wait for Redis.
# Generous, because a busy process is slow too; after a failure, new channels skip Redis for a while.
SUBSCRIBE_TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 1.0
_UNREACHABLE = (RedisError, OSError, TimeoutError)
# A group message carrying the sending consumer's channel name under this key is not delivered to that channel.
ORIGIN = "origin_channel"


class PipelinedShardConnection(RedisSingleShardConnection):
    """channels_redis's connection to one Redis, with publishes pipelined in order.

    channels_redis publishes one message per round trip, holding the shard's
    lock (shared with subscribing) until Redis has answered: every publish of
    the process waits for all those before it, one reply at a time, and each
    reply waits for a turn of a busy event loop. Here a publish joins the
    outbox; one task sends everything waiting in one pipeline (one write, one
    round trip) and tells each caller once Redis has taken its message, or
    gives each the error. Messages leave in the order they were published, as
    before, and a caller still returns only once Redis has its message.
    """

    def __init__(self, host: Any, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._outbox: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None
        self.round_trips = 0  # pipelines sent (tests count them)

    async def publish(self, channel: str, message: bytes) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outbox.append((channel, message, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_outbox())
        await future

    async def subscribe(self, channel: str) -> None:
        # Already subscribed at Redis: nothing to send, so no wait behind the lock.
        if channel in self._subscribed_to:
            return
        await super().subscribe(channel)

    async def _send_outbox(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                self._ensure_redis()
                self.round_trips += 1
                if len(batch) == 1:
                    channel, message, _ = batch[0]
                    await self._redis.publish(channel, message)
                else:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for channel, message, _ in batch:
                            pipe.publish(channel, message)
                        await pipe.execute()
            except BaseException as exc:
                # Redis down, or this task cancelled (the layer flushed): each waiting publish fails.
                failure = exc if isinstance(exc, Exception) else ConnectionError("publish cancelled")
                for _, _, future in batch:
                    if not future.done():  # a caller that timed out has cancelled its own
                        future.set_exception(failure)
                if not isinstance(exc, Exception):
                    for _, _, future in self._outbox:
                        if not future.done():
                            future.set_exception(failure)
                    self._outbox = []
                    raise
            else:
                for _, _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def _receive_message(self, message: Any) -> None:
        # channels_redis hands every member channel the raw bytes, each decoded by
        # its own receive(); here a group message is decoded once, each member gets
        # its own copy, and the channel it came from (ORIGIN) none.
        if message is None:
            return
        name, data = message["channel"], message["data"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels:
            layer.channels[name].put_nowait(data)
            return
        members = layer.groups.get(name)
        if not members:
            return
        event = layer.channel_layer.deserialize(data)
        origin = event.get(ORIGIN)
        for channel_name in members:
            if channel_name != origin and channel_name in layer.channels:
                layer.channels[channel_name].put_nowait(dict(event))

    async def flush(self) -> None:
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        await super().flush()


class ResilientPubSubLoopLayer(RedisPubSubLoopLayer):
    """One event loop's layer: as channels_redis's, remembering the subscriptions Redis refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hosts = [shard.host for shard in self._shards]  # type: ignore[has-type]
        self._shards = [PipelinedShardConnection(host, self) for host in hosts]
        # Channel or group-channel names subscribed in-process but not (yet) at Redis.
        self.deferred: set[str] = set()
        # Until then, new channels do not try Redis (a blackholed Redis would hold each handshake).
        self.retry_at = 0.0

    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = asyncio.Queue()
        if time.monotonic() < self.retry_at:
            self.deferred.add(channel)
        elif not await self._subscribe(channel):
            logger.info("channel layer unreachable: a new channel is subscribed when it is back")
        return channel

    async def group_add(self, group: str, channel: str) -> None:
        try:
            await super().group_add(group, channel)
        except (*_UNREACHABLE, asyncio.CancelledError):
            # Cancelled too (a caller's timeout): the subscription may not have reached Redis.
            self.deferred.add(self._get_group_channel_name(group))
            raise

    async def restore_subscriptions(self) -> int:
        """Subscribes at Redis what was subscribed only in-process; returns how many are still missing."""
        for name in list(self.deferred):
            if name not in self.channels and name not in self.groups:
                self.deferred.discard(name)  # its socket has gone meanwhile
            elif not await self._subscribe(name):
                break
        return len(self.deferred)

    async def _subscribe(self, name: str) -> bool:
        try:
            await asyncio.wait_for(self._get_shard(name).subscribe(name), SUBSCRIBE_TIMEOUT_SECONDS)
        except _UNREACHABLE:
            self.deferred.add(name)
            self.retry_at = time.monotonic() + RETRY_AFTER_SECONDS
            return False
        self.deferred.discard(name)
        self.retry_at = 0.0
        return True


class ResilientPubSubChannelLayer(RedisPubSubChannelLayer):
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` with :class:`ResilientPubSubLoopLayer` per loop."""

    _layers: dict[asyncio.AbstractEventLoop, ResilientPubSubLoopLayer]

    def deserialize(self, message: Any) -> Any:
        # A group message arrives already decoded (PipelinedShardConnection._receive_message).
        if isinstance(message, dict):
            return message
        return super().deserialize(message)

    def _get_layer(self) -> ResilientPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = ResilientPubSubLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer

    async def restore_subscriptions(self) -> int:
        return await self._get_layer().restore_subscriptions()


async def restore_subscriptions(layer: Any) -> int:
    """:meth:`ResilientPubSubLoopLayer.restore_subscriptions` for any layer; others have nothing to restore."""
    if isinstance(layer, ResilientPubSubChannelLayer):
        return await layer.restore_subscriptions()
    return 0
