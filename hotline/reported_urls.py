"""Reported addresses: normalised so the same place hashes the same, never fetched."""

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
    if "." not in host and host != "localhost" and ":" not in host and _numeric_ipv4(host) is None:
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


class InwardKind(models.TextChoices):
    LOOPBACK = "loopback", _("loopback")
    PRIVATE = "private", _("privat nätverk")
    LINK_LOCAL = "link-local", _("länklokal")
    UNSPECIFIED = "unspecified", _("ospecificerad")
    LOCAL_NAME = "local-name", _("lokalt namn")


@dataclass(frozen=True)
class InwardTarget:
    """Where a reported URL really points when that is inside a network, not on the internet."""

    kind: InwardKind
    address: str  # the address as a browser reads it (127.0.0.1 for 0x7f.1), or the host name


_INWARD_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, InwardKind], ...] = (
    (ipaddress.ip_network("127.0.0.0/8"), InwardKind.LOOPBACK),
    (ipaddress.ip_network("::1/128"), InwardKind.LOOPBACK),
    (ipaddress.ip_network("10.0.0.0/8"), InwardKind.PRIVATE),
    (ipaddress.ip_network("172.16.0.0/12"), InwardKind.PRIVATE),
    (ipaddress.ip_network("192.168.0.0/16"), InwardKind.PRIVATE),
    (ipaddress.ip_network("100.64.0.0/10"), InwardKind.PRIVATE),  # carrier-grade NAT
    (ipaddress.ip_network("fc00::/7"), InwardKind.PRIVATE),
    (ipaddress.ip_network("169.254.0.0/16"), InwardKind.LINK_LOCAL),
    (ipaddress.ip_network("fe80::/10"), InwardKind.LINK_LOCAL),
    (ipaddress.ip_network("0.0.0.0/8"), InwardKind.UNSPECIFIED),  # 0.0.0.0 reaches the local machine
    (ipaddress.ip_network("::/128"), InwardKind.UNSPECIFIED),
)
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa", ".lan")


def _numeric_part(part: str) -> int | None:
    try:
        if not part.isascii():
            return None
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isascii() and part.isdigit() else None
    except ValueError:
        return None


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Reads ``host`` the way browsers and inet_aton do: 1 to 4 parts, each decimal, 0x-hex or 0-octal.

    So 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 all are 127.0.0.1.
    """
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_numeric_part(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    values = [number for number in numbers if number is not None]
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(values)):
        return None
    total = last
    for index, value in enumerate(leading):
        total += value << (8 * (3 - index))
    return ipaddress.IPv4Address(total)


def inward_target(url: str) -> InwardTarget | None:
    """The loopback, private, link-local or local-name target of ``url``, or None for a public one.

    A browser opening such an address reaches the analyst's own machine or
    the office network, not the place that was reported. Names that only
    resolve to private addresses through DNS are not caught here: nothing is
    ever resolved.
    """
    try:
        host = (urlsplit(url if "://" in url else "https://" + url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if not host:
        return None
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return InwardTarget(InwardKind.LOCAL_NAME, host)
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        address = _numeric_ipv4(host)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network, kind in _INWARD_NETWORKS:
        if address.version == network.version and address in network:
            return InwardTarget(kind, str(address))
    return None
