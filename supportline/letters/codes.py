"""Letter codes: the scheme of ``privacy.codes`` under the letters' own key and domain."""

from django.conf import settings

from privacy import codes
from privacy.codes import OneTimeCode, parse

__all__ = ["OneTimeCode", "check_verifier", "generate", "hash_verifier", "lookup_hash", "parse"]

_DOMAIN = b"supportline-letter"


def generate() -> OneTimeCode:
    return codes.generate()


def lookup_hash(lookup: str) -> str:
    return codes.lookup_hash(lookup, key=settings.SUPPORTLINE_LETTER_HASH_KEY, domain=_DOMAIN)


def hash_verifier(verifier: str) -> str:
    return codes.hash_verifier(verifier, n=settings.SUPPORTLINE_LETTER_SCRYPT_N)


def check_verifier(verifier: str, stored: str | None) -> bool:
    """True when ``verifier`` matches ``stored``; with ``stored=None`` burns the same time and is False."""
    return codes.check_verifier(verifier, stored, n=settings.SUPPORTLINE_LETTER_SCRYPT_N)
