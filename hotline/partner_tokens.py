"""Partner API tokens: shown once, stored only as a keyed hash.

A token is ``ecpatfeed_`` and 256 random bits. Receipt codes
(hotline.receipts) need a slow hash because people type them and they carry
fewer bits; a token carries too many bits to guess, so one keyed HMAC is
enough and every API call stays fast. The key (HOTLINE_HASH_KEY) means a copy
of the table alone cannot even confirm a guessed token.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

PREFIX = "ecpatfeed_"


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    key = settings.HOTLINE_HASH_KEY.encode()
    return hmac.new(key, b"feed-token\x00" + secret.encode(), hashlib.sha256).hexdigest()
