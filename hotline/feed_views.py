"""The partner feed API (docs/partner-feed.md): plain Django views over precomputed, signed bytes.

Full downloads are served from a stored snapshot (built and signed once per
change, hotline.services.feed_rebuild_snapshots), so a request costs an
authentication, a version check and a copy of bytes. Deltas are small and
are built and signed per request.
"""

import base64
import json
import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from hotline import feed_signing, selectors, services
from hotline.models import FeedSnapshot, PartnerToken
from privacy import ratelimit

_UNAUTHORISED = json.dumps({"error": "unauthorised"}).encode()
_BODY_CACHE_SIZE = 8
_bodies: OrderedDict[tuple[int, str], bytes] = OrderedDict()
_bodies_lock = threading.Lock()


def _json(status: int, document: dict[str, Any]) -> HttpResponse:
    response = JsonResponse(document, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _unauthorised() -> HttpResponse:
    # Identical for a missing, wrong, revoked or expired token and an inactive partner.
    response = HttpResponse(_UNAUTHORISED, status=401, content_type="application/json")
    response["WWW-Authenticate"] = 'Bearer realm="feed"'
    response["Cache-Control"] = "no-store"
    return response


def _token(request: HttpRequest) -> PartnerToken | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return selectors.partner_token_for(secret.strip())


def _snapshot_body(snapshot: FeedSnapshot) -> bytes:
    """A snapshot's bytes, from this process's memory when it served them before (snapshots never change)."""
    # The build time too: a restored or re-created database may hand out an id again.
    cache_key = (snapshot.pk, snapshot.built_at.isoformat())
    with _bodies_lock:
        body = _bodies.get(cache_key)
        if body is not None:
            _bodies.move_to_end(cache_key)
            return body
    body = selectors.feed_snapshot_body(snapshot.pk)
    with _bodies_lock:
        _bodies[cache_key] = body
        while len(_bodies) > _BODY_CACHE_SIZE:
            _bodies.popitem(last=False)
    return body


def _signed(body: bytes, signature: str, key_id: str, etag: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["X-Feed-Signature"] = signature
    response["X-Feed-Key-Id"] = key_id
    response["Cache-Control"] = "private, no-cache"
    return response


def _matches(request: HttpRequest, etag: str) -> bool:
    """If-None-Match names this ETag (among a list, weak or strong, or ``*``)."""
    given = request.headers.get("If-None-Match", "")
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in given.split(",") if tag.strip())


def _not_modified(etag: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _positive_int(raw: str | None, default: int | None) -> int | None:
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


def _full(request: HttpRequest, kind: str, audience: str, page: int, version: int | None) -> HttpResponse:
    snapshot = selectors.feed_snapshot(audience=audience, kind=kind, page=page, version=version)
    current_key = feed_signing.signing_key().key_id
    if version is None and (snapshot is None or snapshot.key_id != current_key):
        # First use, or a rotated signing key: build once, then everyone is served the stored bytes.
        services.feed_rebuild_snapshots()
        snapshot = selectors.feed_snapshot(audience=audience, kind=kind, page=page)
    if snapshot is None:
        if version is not None:
            return _json(410, {"error": "version_gone", "detail": "start again without version="})
        return _json(404, {"error": "no_such_page"})
    if _matches(request, snapshot.etag):
        return _not_modified(snapshot.etag)
    return _signed(_snapshot_body(snapshot), snapshot.signature, snapshot.key_id, snapshot.etag)


def _delta(request: HttpRequest, kind: str, audience: str, since: int) -> HttpResponse:
    delta = selectors.feed_delta(
        audience=audience, since=since, limit=settings.FEED_DELTA_LIMIT, with_urls=kind == FeedSnapshot.Kind.URLS
    )
    if delta.version == since and since > (current := selectors.feed_version()):
        return _json(400, {"error": "since_ahead", "detail": f"the feed is at version {current}"})
    etag = f'"{kind}-{audience}-d{since}-v{delta.version}-{feed_signing.signing_key().key_id}"'
    if _matches(request, etag):
        return _not_modified(etag)
    body = services.feed_body(
        {
            "schema_version": services.FEED_SCHEMA_VERSION,
            "feed": kind,
            "since": since,
            "version": delta.version,
            "more": delta.more,
            "added": [services.feed_entry(kind, sha, url) for sha, url in delta.added],
            "removed": [services.feed_entry(kind, sha, url) for sha, url in delta.removed],
        }
    )
    signature, key_id = feed_signing.sign(body)
    return _signed(body, signature, key_id, etag)


def _serve(request: HttpRequest, kind: str) -> HttpResponse:
    token = _token(request)
    if token is None:
        return _unauthorised()
    response = _respond(request, kind, token)
    services.partner_token_record_use(token_id=token.pk, endpoint=kind, status_code=response.status_code)
    return response


def _respond(request: HttpRequest, kind: str, token: PartnerToken) -> HttpResponse:
    if not ratelimit.hit(
        "feed-token", token.token_hash, limit=settings.FEED_RATE_LIMIT, window_seconds=settings.FEED_RATE_WINDOW_SECONDS
    ):
        response = _json(429, {"error": "rate_limited", "retry_after_seconds": settings.FEED_RATE_WINDOW_SECONDS})
        response["Retry-After"] = str(settings.FEED_RATE_WINDOW_SECONDS)
        return response
    if not token.partner.has_scope(kind):
        response = _json(403, {"error": "insufficient_scope", "scope": kind})
        response["WWW-Authenticate"] = f'Bearer realm="feed", error="insufficient_scope", scope="{kind}"'
        return response
    try:
        since = _positive_int(request.GET.get("since"), None)
        page = _positive_int(request.GET.get("page"), 1) or 0
        version = _positive_int(request.GET.get("version"), None)
    except ValueError:
        return _json(400, {"error": "bad_parameter", "detail": "since, page and version are whole numbers"})
    if page < 1:
        return _json(400, {"error": "bad_parameter", "detail": "page starts at 1"})
    audience = token.partner.audience
    if since is not None:
        return _delta(request, kind, audience, since)
    return _full(request, kind, audience, page, version)


@require_GET
def feed_urls(request: HttpRequest) -> HttpResponse:
    return _serve(request, FeedSnapshot.Kind.URLS)


@require_GET
def feed_url_hashes(request: HttpRequest) -> HttpResponse:
    return _serve(request, FeedSnapshot.Kind.URL_HASHES)


@require_GET
def feed_keys(request: HttpRequest) -> HttpResponse:
    """The public keys that verify feed signatures: the signing key and retired ones until they expire."""
    keys = [
        {
            "key_id": key.key_id,
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(key.public_key).decode(),
            "public_key_pem": key.public_key_pem(),
            "signing": index == 0,
            "expires": key.expires.isoformat() if key.expires else None,
        }
        for index, key in enumerate(feed_signing.published_keys())
    ]
    response = JsonResponse({"schema_version": services.FEED_SCHEMA_VERSION, "keys": keys})
    response["Cache-Control"] = "public, max-age=300"
    return response
