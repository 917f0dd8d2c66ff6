"""A liveness probe over WebSocket that travels through the channel layer."""

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer


class PingConsumer(AsyncWebsocketConsumer):
    """Answers ``{"type": "ping"}`` with ``{"type": "pong"}``.

    The answer goes out through the channel layer and back, so a pong proves
    the whole path a chat message takes: socket, layer, socket.
    """

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or frame.get("type") != "ping":
            await self.send(json.dumps({"type": "error", "code": "bad_frame"}))
            return
        await self.channel_layer.send(self.channel_name, {"type": "probe.pong"})

    async def probe_pong(self, event: dict[str, Any]) -> None:
        await self.send(json.dumps({"type": "pong"}))
