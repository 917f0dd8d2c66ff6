"""Reported addresses: normalised so the same place hashes the same, never fetched."""

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings

# Query parameters that only track the visitor and never change the page.
_TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "ref_src"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidReportedURL(ValueError):
    pass


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in _TRACKING_PARAMETERS


def normalise_url(raw: str) -> str:
    """Returns the URL with scheme and host lowercased, default port and tracking parameters removed.

    An address without a scheme is taken as https. Only http and https are accepted.
    """
    text = raw.strip()
    if not text:
        raise InvalidReportedURL("empty")
    if "://" not in text:
        text = "https://" + text.removeprefix("//")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidReportedURL("scheme")
    try:
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError as exc:
        raise InvalidReportedURL("port") from exc
    if not host or any(char.isspace() for char in text):
        raise InvalidReportedURL("host")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidReportedURL("host") from exc
    if "." not in host and host != "localhost" and ":" not in host:
        raise InvalidReportedURL("host")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, parts.fragment))


def url_hash(normalised: str) -> str:
    """Keyed hash of a normalised URL: equal URLs match, the URL itself stays encrypted."""
    key = settings.HOTLINE_HASH_KEY.encode()
    return hmac.new(key, b"hotline-url\x00" + normalised.encode(), hashlib.sha256).hexdigest()
