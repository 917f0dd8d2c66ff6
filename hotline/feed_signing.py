"""Ed25519 keys that sign the partner feed, and the signing itself.

``FEED_SIGNING_KEYS`` lists keys newest first, each ``KEY_ID:SEED`` or
``KEY_ID:SEED:EXPIRES`` (SEED is the base64 of the 32-byte private seed,
EXPIRES an ISO date). The first key signs; the others are only published at
``/api/v1/feed/keys`` until they expire, so partners holding a download signed
by a retired key can still verify it. Without the setting (embedded mode
only; production refuses to start) a key is generated once into
``DATA_DIR/feed/signing-key`` and reused.
"""

import base64
import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nacl.encoding import RawEncoder
from nacl.signing import SigningKey


@dataclass(frozen=True)
class FeedKey:
    key_id: str
    signing_key: SigningKey
    expires: date | None

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    def public_key_pem(self) -> str:
        """The public key as SubjectPublicKeyInfo PEM, what ``openssl pkeyutl -verify -pubin`` reads."""
        # DER of SPKI for Ed25519: a fixed 12-byte prefix, then the raw 32-byte key (RFC 8410).
        der = bytes.fromhex("302a300506032b6570032100") + self.public_key
        lines = base64.encodebytes(der).decode().strip()
        return f"-----BEGIN PUBLIC KEY-----\n{lines}\n-----END PUBLIC KEY-----\n"


def _parse(entry: str) -> FeedKey:
    parts = entry.strip().split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise ImproperlyConfigured("FEED_SIGNING_KEYS entries are KEY_ID:SEED or KEY_ID:SEED:YYYY-MM-DD")
    try:
        seed = base64.b64decode(parts[1], validate=True)
        expires = date.fromisoformat(parts[2]) if len(parts) == 3 and parts[2] else None
    except ValueError as exc:
        raise ImproperlyConfigured(f"FEED_SIGNING_KEYS: key {parts[0]!r} is not base64 seed[:date]") from exc
    if len(seed) != 32:
        raise ImproperlyConfigured(f"FEED_SIGNING_KEYS: key {parts[0]!r} must be a 32-byte seed")
    return FeedKey(key_id=parts[0], signing_key=SigningKey(seed, encoder=RawEncoder), expires=expires)


def _embedded_key_entry(path: Path) -> str:
    """The key of the embedded mode, generated on first use and kept in ``path`` (mode 0600)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = SigningKey.generate()
        key_id = "local-" + bytes(key.verify_key).hex()[:12]
        entry = f"{key_id}:{base64.b64encode(bytes(key)).decode()}"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(entry + "\n")
        return entry
    return path.read_text().strip()


@cache
def _keys(configured: tuple[str, ...], embedded_path: str) -> tuple[FeedKey, ...]:
    entries = list(configured) or [_embedded_key_entry(Path(embedded_path))]
    keys = tuple(_parse(entry) for entry in entries)
    if len({key.key_id for key in keys}) != len(keys):
        raise ImproperlyConfigured("FEED_SIGNING_KEYS: key ids must differ")
    return keys


def feed_keys() -> tuple[FeedKey, ...]:
    """Every configured key, the signing key first."""
    return _keys(tuple(settings.FEED_SIGNING_KEYS), str(settings.FEED_SIGNING_KEY_FILE))


def signing_key() -> FeedKey:
    return feed_keys()[0]


def published_keys(today: date | None = None) -> list[FeedKey]:
    """The keys partners may verify against: the signing key and retired keys not yet expired."""
    today = today or datetime.now().astimezone().date()
    current, *retired = feed_keys()
    return [current, *(key for key in retired if key.expires is None or key.expires >= today)]


def sign(body: bytes) -> tuple[str, str]:
    """Returns (base64 detached signature over exactly ``body``, key id)."""
    key = signing_key()
    return base64.b64encode(key.signing_key.sign(body).signature).decode(), key.key_id
