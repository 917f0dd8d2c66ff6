"""Channel-layer relay benchmark, beside the raw Redis pub/sub ceiling.

100 rooms, one listener each (as a chat's counsellor socket would be); one
sender offers a fixed rate of group messages spread over the rooms. Reports
what was relayed per second and latency percentiles for:

* raw   - redis-py's asyncio pub/sub directly: the ceiling for this client
* pubsub - channels_redis.pubsub.RedisPubSubChannelLayer (the site's layer)
* core   - channels_redis.core.RedisChannelLayer (list-based)

Run (needs Redis):  REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/channel_layer.py
Noisy machines: compare the ratios to raw, not the absolute numbers.
"""

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
HOST = {"address": REDIS_URL, "socket_timeout": None, "max_connections": 500}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    send: Callable[[int, dict[str, Any]], Awaitable[None]],
    rooms: int,
    rate: int,
    seconds: float,
    latencies: list[float],
) -> int:
    """Offers ``rate`` messages a second for ``seconds``; returns how many were offered."""
    interval = 1.0 / rate
    offered = 0
    start = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        await send(offered % rooms, {"type": "chat.message", "sent": time.time(), "n": offered})
        offered += 1
        next_at = start + offered * interval
        if next_at > now:
            await asyncio.sleep(next_at - time.perf_counter())
    await asyncio.sleep(2)  # let stragglers arrive
    return offered


async def bench_layer(layer: Any, rooms: int, rate: int, seconds: float) -> dict[str, float]:
    prefix = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    channels = []
    for room in range(rooms):
        channel = await layer.new_channel()
        await layer.group_add(f"{prefix}-{room}", channel)
        channels.append(channel)

    async def listen(channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            latencies.append(time.time() - message["sent"])

    listeners = [asyncio.create_task(listen(c)) for c in channels]

    async def send(room: int, message: dict[str, Any]) -> None:
        await layer.group_send(f"{prefix}-{room}", message)

    offered = await drive(send, rooms, rate, seconds, latencies)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    flush = getattr(layer, "flush", None)
    if flush:
        await flush()
    return summarise(offered, latencies, seconds)


async def bench_raw(rooms: int, rate: int, seconds: float) -> dict[str, float]:
    prefix = uuid.uuid4().hex[:8]
    client = aioredis.from_url(REDIS_URL, socket_timeout=None, max_connections=500)
    pubsub = client.pubsub()
    await pubsub.subscribe(*[f"{prefix}-{room}" for room in range(rooms)])
    latencies: list[float] = []

    async def listen() -> None:
        async for item in pubsub.listen():
            if item["type"] == "message":
                latencies.append(time.time() - json.loads(item["data"])["sent"])

    listener = asyncio.create_task(listen())

    async def send(room: int, message: dict[str, Any]) -> None:
        await client.publish(f"{prefix}-{room}", json.dumps(message))

    offered = await drive(send, rooms, rate, seconds, latencies)
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    await pubsub.aclose()
    await client.aclose()
    return summarise(offered, latencies, seconds)


def summarise(offered: int, latencies: list[float], seconds: float) -> dict[str, float]:
    ms = [x * 1000 for x in latencies]
    return {
        "offered_per_s": offered / seconds,
        "relayed_per_s": len(ms) / seconds,
        "delivered_ratio": len(ms) / offered if offered else 0.0,
        "p50_ms": percentile(ms, 0.50),
        "p95_ms": percentile(ms, 0.95),
        "p99_ms": percentile(ms, 0.99),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--rate", type=int, default=500, help="messages offered per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    results = {
        "raw": await bench_raw(args.rooms, args.rate, args.seconds),
        "pubsub": await bench_layer(RedisPubSubChannelLayer(hosts=[HOST]), args.rooms, args.rate, args.seconds),
        "core": await bench_layer(RedisChannelLayer(hosts=[HOST]), args.rooms, args.rate, args.seconds),
    }
    ceiling = results["raw"]["relayed_per_s"] or 1.0
    print(f"{args.rooms} rooms, {args.rate} msg/s offered for {args.seconds:g} s, Redis at {REDIS_URL}")
    print("| layer | relayed/s | share of raw | delivered | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['relayed_per_s']:.0f} | {r['relayed_per_s'] / ceiling:.2f} | {r['delivered_ratio']:.1%} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
