"""One-time tokens for the tip form, so a reload or a second POST of one page cannot store a second tip.

A token is a random nonce signed with the site's secret and a timestamp; it is
claimed once, atomically, with the same counter the rate limits use (Redis,
or this process's memory while Redis is away). Nothing else is stored: not
the token, not who held it.
"""

import hashlib
import secrets
from enum import StrEnum

from django.core import signing
from django.core.cache import cache

from privacy.ratelimit import count

_SALT = "hotline.tip-form"
# A reporter may take their time: a page older than this asks them to send again.
MAX_AGE_SECONDS = 24 * 60 * 60


class Claim(StrEnum):
    CLAIMED = "claimed"  # first use: go ahead
    USED = "used"  # this page was sent before
    INVALID = "invalid"  # missing, forged or too old


def issue() -> str:
    """A fresh token for one rendering of the tip form."""
    return signing.dumps(secrets.token_urlsafe(16), salt=_SALT)


def _nonce(token: str) -> str | None:
    try:
        nonce = signing.loads(token, salt=_SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    return nonce if isinstance(nonce, str) else None


def _counter(nonce: str) -> str:
    return f"hotline:form-token:{hashlib.sha256(nonce.encode()).hexdigest()}"


def is_valid(token: str) -> bool:
    """True when ``token`` was issued here and is not too old (it may still have been used)."""
    return _nonce(token) is not None


def claim(token: str) -> Claim:
    """Claims ``token`` for one tip; only the first of any number of concurrent claims gets CLAIMED."""
    nonce = _nonce(token)
    if nonce is None:
        return Claim.INVALID
    first = count(_counter(nonce), MAX_AGE_SECONDS + 60) == 1
    return Claim.CLAIMED if first else Claim.USED


def release(token: str) -> None:
    """Gives a claimed token back when storing the tip failed, so sending again works."""
    nonce = _nonce(token)
    if nonce is not None:
        cache.delete(_counter(nonce))
