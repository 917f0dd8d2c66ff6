"""ASGI middleware that keeps the client's address and device out of the site."""

from collections.abc import Iterable
from typing import Any

from asgiref.typing import ASGI3Application, ASGIReceiveCallable, ASGISendCallable
from django.conf import settings

from privacy.ratelimit import anonymous_client_key

# Headers that identify the visitor's network or device. They are removed
# before Django or Channels sees the request, so no code can store them.
IDENTIFYING_HEADERS = frozenset(
    {
        b"user-agent",
        b"x-forwarded-for",
        b"x-real-ip",
        b"forwarded",
        b"cf-connecting-ip",
        b"true-client-ip",
        b"x-client-ip",
        b"x-cluster-client-ip",
        b"sec-ch-ua",
        b"sec-ch-ua-mobile",
        b"sec-ch-ua-platform",
    }
)


def _client_address(scope: dict[str, Any]) -> str:
    header_name = settings.CLIENT_ADDRESS_HEADER.lower().encode()
    if header_name:
        for name, value in scope.get("headers", ()):
            if name == header_name:
                # The proxy appends the address it saw last; earlier ones are client-supplied.
                return str(value.decode("latin-1")).split(",")[-1].strip()
    client = scope.get("client")
    return str(client[0]) if client else ""


def _without_identifying_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    extra = settings.CLIENT_ADDRESS_HEADER.lower().encode()
    return [(k, v) for k, v in headers if k not in IDENTIFYING_HEADERS and k != extra]


class AnonymousScopeMiddleware:
    """Replaces the client address in every HTTP and WebSocket scope.

    ``scope["client"]`` becomes ``None`` and identifying headers are dropped.
    What rate limits need instead is ``scope["anonymous_client"]``: a keyed
    hash of the address under a key that rotates daily and lives only in the
    cache, so yesterday's hashes cannot be linked to today's.
    """

    def __init__(self, app: ASGI3Application | Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] in ("http", "websocket"):
            address = _client_address(scope)
            scope = {
                **scope,
                "client": None,
                "headers": _without_identifying_headers(scope.get("headers", ())),
                "anonymous_client": await anonymous_client_key(address) if address else "",
            }
        await self.app(scope, receive, send)
