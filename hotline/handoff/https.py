"""POSTs the signed package to POLICE_HANDOFF_URL over verified TLS.

"Delivered" means the receiver answered the POST itself with a 2xx and a
receipt in the body. A redirect is never followed (urllib would turn the
POST into a GET and count the GET's page as an acceptance), a 2xx without a
receipt proves nothing, and a certificate that does not verify is an error.
"""

import json
import ssl
import urllib.error
import urllib.request
from email.message import Message
from typing import Any

from django.conf import settings

from hotline.handoff.base import SCHEMA_VERSION_HEADER, SIGNATURE_HEADER, DeliveryResult, Outcome, SignedPackage

_MAX_ANSWER_BYTES = 64 * 1024


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Leaves every 3xx as an HTTPError instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _tls_context() -> ssl.SSLContext:
    # Verification and host name checks are explicit so no global default can turn them off;
    # a private police CA is trusted through POLICE_HANDOFF_CA_FILE, never by disabling checks.
    context = ssl.create_default_context(cafile=settings.POLICE_HANDOFF_CA_FILE or None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_RefuseRedirects(), urllib.request.HTTPSHandler(context=_tls_context()))


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _receipt(raw: bytes) -> str:
    """The reference in a JSON body ``{"reference": "..."}``, or "" when there is none."""
    try:
        body = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    reference = body.get("reference")
    if not isinstance(reference, str | int) or isinstance(reference, bool):
        return ""
    return str(reference).strip()[:200]


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


def _refused_target(url: str) -> str | None:
    if url.startswith("https://"):
        return None
    if url.startswith("http://") and not settings.POLICE_HANDOFF_REQUIRE_HTTPS:
        return None
    if not url:
        return "POLICE_HANDOFF_URL is not set"
    return "POLICE_HANDOFF_URL must start with https://"


def deliver(package: SignedPackage) -> DeliveryResult:
    url = settings.POLICE_HANDOFF_URL
    refused = _refused_target(url)
    if refused is not None:
        return DeliveryResult(outcome=Outcome.REJECTED, detail=refused)
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
        with _opener().open(request, timeout=settings.POLICE_HANDOFF_TIMEOUT_SECONDS) as response:
            status = response.status
            raw = response.read(_MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        return _answer_error(exc, package)
    except ssl.SSLError as exc:
        return DeliveryResult(outcome=Outcome.RETRY, detail=f"TLS error: {_tls_reason(exc)}"[:300])
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLError):
            return DeliveryResult(outcome=Outcome.RETRY, detail=f"TLS error: {_tls_reason(exc.reason)}"[:300])
        return DeliveryResult(outcome=Outcome.RETRY, detail=f"network error: {type(exc.reason).__name__}"[:300])
    except OSError as exc:
        return DeliveryResult(outcome=Outcome.RETRY, detail=f"network error: {type(exc).__name__}"[:300])
    if not 200 <= status < 300:
        return DeliveryResult(outcome=Outcome.REJECTED, status_code=status, detail=f"HTTP {status} unexpected")
    reference = _receipt(raw)
    if not reference:
        # The receiver may or may not hold it; the same Idempotency-Key makes the retry safe.
        return DeliveryResult(outcome=Outcome.RETRY, status_code=status, detail=f"HTTP {status} without a receipt")
    return DeliveryResult(outcome=Outcome.ACCEPTED, status_code=status, acknowledgement=reference)


def _tls_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not verified ({exc.verify_message})"
    return exc.reason or type(exc).__name__


def _answer_error(exc: urllib.error.HTTPError, package: SignedPackage) -> DeliveryResult:
    code = exc.code
    if 300 <= code < 400:
        # Following would send a GET (or nothing) to an address nobody configured.
        return DeliveryResult(outcome=Outcome.REJECTED, status_code=code, detail=f"HTTP {code} redirect refused")
    if code == 429 or code >= 500:
        return DeliveryResult(
            outcome=Outcome.RETRY, status_code=code, detail=f"HTTP {code}", retry_after=_retry_after(exc.headers)
        )
    raw = exc.read(_MAX_ANSWER_BYTES) if exc.fp is not None else b""
    if code == 409:
        reference = _confirmed_duplicate(raw, package.idempotency_key)
        if reference is not None:
            # The receiver already holds this hand-off (an earlier attempt's answer was lost).
            return DeliveryResult(
                outcome=Outcome.ACCEPTED, status_code=code, acknowledgement=reference, detail="duplicate"
            )
    reason = raw[:300].decode("utf-8", "replace").strip()
    return DeliveryResult(outcome=Outcome.REJECTED, status_code=code, detail=f"HTTP {code} {reason}"[:300])
