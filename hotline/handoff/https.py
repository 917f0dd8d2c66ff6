"""POSTs the signed package to POLICE_HANDOFF_URL."""

import json
import urllib.error
import urllib.request
from email.message import Message

from django.conf import settings

from hotline.handoff.base import SCHEMA_VERSION_HEADER, SIGNATURE_HEADER, DeliveryResult, Outcome, SignedPackage


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _acknowledgement(raw: bytes, headers: Message) -> str:
    try:
        reference = json.loads(raw or b"{}").get("reference", "")
    except (ValueError, AttributeError):
        reference = ""
    return str(reference or headers.get("X-Receipt-Reference", ""))[:200]


def _confirmed_duplicate(raw: bytes, idempotency_key: str) -> str | None:
    """The reference in a 409 body that confirms a duplicate of this key, else None.

    The contract (docs/police-handoff.md): ``{"status": "duplicate",
    "idempotency_key": "<the key sent>", "reference": "..."}``. Anything
    else in a 409 is a rejection like any other 4xx.
    """
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if body.get("status") != "duplicate" or body.get("idempotency_key") != idempotency_key:
        return None
    return str(body.get("reference") or "")[:200]


def deliver(package: SignedPackage) -> DeliveryResult:
    url = settings.POLICE_HANDOFF_URL
    if not url.startswith(("https://", "http://")):
        return DeliveryResult(outcome=Outcome.REJECTED, detail="POLICE_HANDOFF_URL is not set")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=package.body,
        method="POST",
        headers={
            "Content-Type": package.content_type,
            "Idempotency-Key": package.idempotency_key,
            SIGNATURE_HEADER: package.signature,
            SCHEMA_VERSION_HEADER: str(package.schema_version),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.POLICE_HANDOFF_TIMEOUT_SECONDS) as response:  # noqa: S310
            raw = response.read(64 * 1024)
            return DeliveryResult(
                outcome=Outcome.ACCEPTED,
                status_code=response.status,
                acknowledgement=_acknowledgement(raw, response.headers),
            )
    except urllib.error.HTTPError as exc:
        code = exc.code
        if code == 429 or code >= 500:
            return DeliveryResult(
                outcome=Outcome.RETRY, status_code=code, detail=f"HTTP {code}", retry_after=_retry_after(exc.headers)
            )
        raw = exc.read(64 * 1024) if exc.fp is not None else b""
        if code == 409:
            reference = _confirmed_duplicate(raw, package.idempotency_key)
            if reference is not None:
                # The receiver already holds this hand-off (an earlier attempt's answer was lost).
                return DeliveryResult(
                    outcome=Outcome.ACCEPTED, status_code=code, acknowledgement=reference, detail="duplicate"
                )
        reason = raw[:300].decode("utf-8", "replace").strip()
        return DeliveryResult(outcome=Outcome.REJECTED, status_code=code, detail=f"HTTP {code} {reason}"[:300])
    except (urllib.error.URLError, OSError) as exc:
        cause: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return DeliveryResult(outcome=Outcome.RETRY, detail=f"network error: {type(cause).__name__}"[:300])
