"""Receipt codes: shown once to the reporter, stored only as hashes (``privacy.codes``).

Only the key (``HOTLINE_HASH_KEY``), the domain and the scrypt cost are the
hotline's own; changing the domain would orphan every receipt already given.
"""

from django.conf import settings

from privacy import codes
from privacy.codes import ALPHABET, parse
from privacy.codes import OneTimeCode as ReceiptCode

__all__ = ["ALPHABET", "ReceiptCode", "check_verifier", "generate", "hash_verifier", "lookup_hash", "parse"]

_DOMAIN = b"hotline-receipt"


def generate() -> ReceiptCode:
    return codes.generate()


def lookup_hash(lookup: str) -> str:
    return codes.lookup_hash(lookup, key=settings.HOTLINE_HASH_KEY, domain=_DOMAIN)


def hash_verifier(verifier: str) -> str:
    return codes.hash_verifier(verifier, n=settings.HOTLINE_RECEIPT_SCRYPT_N)


def check_verifier(verifier: str, stored: str | None) -> bool:
    """True when ``verifier`` matches ``stored``; with ``stored=None`` burns the same time and is False."""
    return codes.check_verifier(verifier, stored, n=settings.HOTLINE_RECEIPT_SCRYPT_N)
