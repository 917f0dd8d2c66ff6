"""The one-time code scheme shared by hotline receipts and letter codes (privacy/codes.py)."""

import hashlib
import hmac

from hotline import receipts
from privacy import codes
from supportline.letters import codes as letter_codes


def test_receipts_already_given_still_match_after_the_move(settings):
    """The hash hotline/receipts.py stored before the scheme moved: existing receipts must keep working."""
    lookup = codes.generate().lookup
    before = hmac.new(
        settings.HOTLINE_HASH_KEY.encode(), b"hotline-receipt\x00" + lookup.encode(), hashlib.sha256
    ).hexdigest()
    assert receipts.lookup_hash(lookup) == before


def test_a_receipt_and_a_letter_code_never_share_a_lookup_hash(settings):
    settings.SUPPORTLINE_LETTER_HASH_KEY = settings.HOTLINE_HASH_KEY  # even under the same key
    lookup = codes.generate().lookup
    assert receipts.lookup_hash(lookup) != letter_codes.lookup_hash(lookup)


def test_a_verifier_checks_only_against_its_own_hash():
    code = codes.generate()
    stored = codes.hash_verifier(code.verifier, n=2**10)
    assert codes.check_verifier(code.verifier, stored, n=2**10)
    assert not codes.check_verifier(codes.generate().verifier, stored, n=2**10)
    assert not codes.check_verifier(code.verifier, None, n=2**10)
