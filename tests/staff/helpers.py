"""Typed shortcuts for the staff tests."""

import re
from typing import Any

from tests.factories import StaffUserFactory


def staff_member(**kwargs: Any) -> Any:
    """A saved staff user (the factory's own type hides the model's attributes from mypy)."""
    return StaffUserFactory(**kwargs)


def found(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text``; fails the test when absent."""
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not found"
    return match.group(1)
