"""Symmetric encryption of sensitive text at rest (Fernet, keys from settings)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must hold at least one Fernet key.")
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    # Read at call time, never at import, so settings overrides apply.
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Encrypts with the newest key."""
    return _current().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypts with whichever configured key made the token."""
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("Stored text cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def decrypt_fresh(token: str, max_age_seconds: int) -> str | None:
    """Decrypts a token made at most ``max_age_seconds`` ago; None when it is older, forged or unreadable.

    For short-lived values that come back from the browser, where a bad token
    is the visitor's problem to be told about, not a server error.
    """
    try:
        return _current().decrypt(token.encode("ascii"), ttl=max_age_seconds).decode()
    except (InvalidToken, UnicodeError):
        return None


def rotate(token: str) -> str:
    """Re-encrypts a token under the newest key (for key rotation)."""
    return _current().rotate(token.encode("ascii")).decode("ascii")


def is_under_newest_key(token: str) -> bool:
    """True when the newest key alone decrypts ``token`` (nothing left to rotate)."""
    try:
        _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS[:1])).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True
