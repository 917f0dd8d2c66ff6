"""One-time codes shown once to an anonymous person and stored only as hashes.

A code is ``LOOKUP-VERIFIER``: 8 characters of lookup, stored as a keyed
hash so its row is found with one indexed query, and 12 characters of
verifier, stored only as a salted scrypt hash. 20 characters from a
29-letter alphabet carry about 97 bits. Hotline receipts and support-line
letter codes both use it, each with its own key and domain.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_GROUP = 4
_LOOKUP_LENGTH = 8
_CODE_LENGTH = 20
_SCRYPT_R = 8
_SCRYPT_P = 1
# Verified against when a lookup matches nothing, so a wrong code costs as much as a right one.
_DUMMY_SALT = b"privacy-dummy-salt"


@dataclass(frozen=True)
class OneTimeCode:
    code: str
    lookup: str
    verifier: str


def generate() -> OneTimeCode:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(_CODE_LENGTH))
    return OneTimeCode(
        code="-".join(chars[i : i + _GROUP] for i in range(0, _CODE_LENGTH, _GROUP)),
        lookup=chars[:_LOOKUP_LENGTH],
        verifier=chars[_LOOKUP_LENGTH:],
    )


def parse(text: str) -> tuple[str, str] | None:
    """Splits what a person typed into (lookup, verifier); lenient about case, spaces and dashes."""
    chars = "".join(char for char in text.upper() if char.isalnum())
    if len(chars) != _CODE_LENGTH or any(char not in ALPHABET for char in chars):
        return None
    return chars[:_LOOKUP_LENGTH], chars[_LOOKUP_LENGTH:]


def lookup_hash(lookup: str, *, key: str, domain: bytes) -> str:
    """The keyed hash of a lookup; ``domain`` keeps one kind of code from matching another's."""
    return hmac.new(key.encode(), domain + b"\x00" + lookup.encode(), hashlib.sha256).hexdigest()


def _scrypt(verifier: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(verifier.encode(), salt=salt, n=n, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=256 * 1024 * 1024)


def hash_verifier(verifier: str, *, n: int) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${n}${salt.hex()}${_scrypt(verifier, salt, n).hex()}"


def check_verifier(verifier: str, stored: str | None, *, n: int) -> bool:
    """True when ``verifier`` matches ``stored``; with ``stored=None`` burns the same time and is False."""
    if stored is None:
        _scrypt(verifier, _DUMMY_SALT, n)
        return False
    _, cost, salt, digest = stored.split("$")
    return hmac.compare_digest(_scrypt(verifier, bytes.fromhex(salt), int(cost)).hex(), digest)
