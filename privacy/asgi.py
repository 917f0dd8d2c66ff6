"""ASGI middleware that keeps the client's address and device out of the site."""

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.typing import ASGI3Application, ASGIReceiveCallable, ASGISendCallable
from django.conf import settings

from privacy.ratelimit import SHARED_CLIENT, anonymous_client_key

logger = logging.getLogger(__name__)

# The only request headers Django, Channels and WhiteNoise get to see. Anything
# else (User-Agent, client hints, Via, the many vendors' client-address
# headers, and whatever header is invented next) never reaches the site, so no
# code can store it. A header the site starts to need is added here, with why.
ALLOWED_HEADERS = frozenset(
    {
        # Routing, ALLOWED_HOSTS, and the WebSocket origin check.
        b"host",
        # Sessions (staff), the CSRF cookie, the language switch.
        b"cookie",
        # CSRF: Origin first, Referer for HTTPS requests without one; the token header.
        b"origin",
        b"referer",
        b"x-csrftoken",
        # Request bodies.
        b"content-type",
        b"content-length",
        b"transfer-encoding",
        # Content negotiation: LocaleMiddleware, WhiteNoise's compressed files.
        b"accept",
        b"accept-language",
        b"accept-encoding",
        # Conditional and partial GETs (WhiteNoise, Django's conditional views).
        b"if-none-match",
        b"if-modified-since",
        b"if-match",
        b"if-unmodified-since",
        b"range",
        b"if-range",
        b"cache-control",
        # HTTPS ends at the load balancer (SECURE_PROXY_SSL_HEADER in production).
        b"x-forwarded-proto",
        # The WebSocket handshake.
        b"connection",
        b"upgrade",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-protocol",
        b"sec-websocket-extensions",
    }
)


class TrustedProxies:
    """The addresses allowed to name the client: the same list uvicorn's
    ``--forwarded-allow-ips`` takes (``FORWARDED_ALLOW_IPS``): addresses,
    networks, or ``*`` for any peer (a unix socket only a local proxy reaches)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.everyone = False
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.literals: set[str] = set()
        for entry in (e.strip() for e in entries):
            if entry == "*":
                self.everyone = True
            elif entry:
                try:
                    self.networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    self.literals.add(entry)

    def __contains__(self, peer: str) -> bool:
        if self.everyone:
            return True
        if not peer:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return peer in self.literals
        return any(address in network for network in self.networks)


def _peer(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client and client[0] else ""


def _client_address(scope: dict[str, Any], proxies: TrustedProxies) -> str:
    """The client's address: the proxy's header if the peer is a trusted proxy, else the peer.

    uvicorn has already replaced the peer with the X-Forwarded-For address when
    the connection came from ``--forwarded-allow-ips``; a header of another
    name is read here, from the same trusted peers only. From anyone else such a
    header is the client's own invention and would give it a fresh rate-limit
    bucket per request.
    """
    peer = _peer(scope)
    header_name = settings.CLIENT_ADDRESS_HEADER.lower().encode()
    if header_name and peer in proxies:
        for name, value in scope.get("headers", ()):
            if name == header_name:
                # The proxy appends the address it saw last; earlier ones are client-supplied.
                forwarded = str(value.decode("latin-1")).split(",")[-1].strip()
                if forwarded:
                    return forwarded
    return peer


# Partners' bearer tokens (the feed, docs/partner-feed.md), under API_PATH_PREFIX only:
# anywhere else an Authorization header (Basic credentials, say) is something a
# visitor's browser or proxy sent on its own and names a person.
API_PATH_PREFIX = "/api/"
API_HEADERS = ALLOWED_HEADERS | {b"authorization"}


def allowed_headers(headers: Iterable[tuple[bytes, bytes]], path: str = "") -> list[tuple[bytes, bytes]]:
    """Only the headers in :data:`ALLOWED_HEADERS` (and Authorization under ``/api/``), in their order."""
    allowed = API_HEADERS if path.startswith(API_PATH_PREFIX) else ALLOWED_HEADERS
    return [(name, value) for name, value in headers if name.lower() in allowed]


class AnonymousScopeMiddleware:
    """Replaces the client address in every HTTP and WebSocket scope.

    ``scope["client"]`` becomes ``None`` and only the allowed headers are kept.
    What rate limits need instead is ``scope["anonymous_client"]``: a keyed
    hash of the address under a key that rotates daily and lives only in the
    cache, so yesterday's hashes cannot be linked to today's. A connection
    without any address (a unix socket, a proxy that sent no header) gets
    :data:`~privacy.ratelimit.SHARED_CLIENT`: all such visitors share one
    bucket per endpoint, so limits stay on rather than off.
    """

    def __init__(self, app: ASGI3Application | Any) -> None:
        self.app = app
        self.proxies = TrustedProxies(settings.FORWARDED_ALLOW_IPS)
        self._warned_shared = False
        logger.info(
            "rate limits: client address from %s; connections without one share a bucket per endpoint",
            f"the {settings.CLIENT_ADDRESS_HEADER} header of trusted proxies, else the peer"
            if settings.CLIENT_ADDRESS_HEADER
            else "the peer (uvicorn applies X-Forwarded-For from --forwarded-allow-ips)",
        )

    async def __call__(self, scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] in ("http", "websocket"):
            address = _client_address(scope, self.proxies)
            if not address and not self._warned_shared:
                self._warned_shared = True
                logger.warning(
                    "a connection arrived without a client address: such connections share one rate-limit "
                    "bucket per endpoint (set FORWARDED_ALLOW_IPS, and CLIENT_ADDRESS_HEADER if needed)"
                )
            scope = {
                **scope,
                "client": None,
                "headers": allowed_headers(scope.get("headers", ()), scope.get("path", "")),
                "anonymous_client": await anonymous_client_key(address) if address else SHARED_CLIENT,
            }
        await self.app(scope, receive, send)
