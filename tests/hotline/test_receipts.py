import math
import time

import pytest

from hotline import receipts, selectors
from tests.hotline.conftest import submit_tip


def test_codes_are_groups_of_four_from_an_unambiguous_alphabet_with_high_entropy():
    code = receipts.generate().code
    groups = code.split("-")
    assert [len(group) for group in groups] == [4] * 5
    assert set("".join(groups)) <= set(receipts.ALPHABET)
    assert not set("01OIL") & set(receipts.ALPHABET)
    assert 20 * math.log2(len(receipts.ALPHABET)) > 90


def test_parse_is_lenient_about_case_spaces_and_dashes():
    code = receipts.generate()
    assert receipts.parse(code.code.lower().replace("-", " ")) == (code.lookup, code.verifier)
    assert receipts.parse("too-short") is None


@pytest.mark.django_db
def test_only_hashes_of_the_code_are_stored():
    submitted = submit_tip()
    tip = submitted.tip
    plain = submitted.receipt_code.replace("-", "")
    assert plain[:8] not in tip.receipt_lookup and plain[8:] not in tip.receipt_verifier
    assert tip.receipt_verifier.startswith("scrypt$")
    assert selectors.tip_for_receipt(submitted.receipt_code) == tip
    assert selectors.tip_for_receipt(submitted.receipt_code.lower().replace("-", " ")) == tip


@pytest.mark.django_db
def test_a_wrong_code_takes_as_long_as_a_right_one():
    submitted = submit_tip()
    right = submitted.receipt_code
    wrong_verifier = right[:10] + ("2222-2222-2222" if not right.endswith("2222") else "3333-3333-3333")
    unknown_lookup = "2222-2222-" + right[10:]

    def fastest(code):
        # The minimum of several runs is robust against a busy machine.
        durations = []
        for _ in range(7):
            start = time.perf_counter()
            selectors.tip_for_receipt(code)
            durations.append(time.perf_counter() - start)
        return min(durations)

    right_time = fastest(right)
    for other in (wrong_verifier, unknown_lookup, "nonsense"):
        assert selectors.tip_for_receipt(other) is None
        # The slow hash dominates: a wrong code is never answered much faster.
        assert fastest(other) > right_time * 0.5
