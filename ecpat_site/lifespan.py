"""The ASGI lifespan of a web process: what must be let go of when the server stops."""

from __future__ import annotations

import logging
from typing import Any

from supportline.db import close_async_pools

logger = logging.getLogger(__name__)


async def lifespan(scope: Any, receive: Any, send: Any) -> None:
    """Answers uvicorn's startup at once; at shutdown closes the chat's event-loop connections to PostgreSQL."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await close_async_pools()
            except Exception as exc:  # stopping anyway: the connections end with the process
                logger.warning("chat connections not closed cleanly: %s", type(exc).__name__)
            await send({"type": "lifespan.shutdown.complete"})
            return
