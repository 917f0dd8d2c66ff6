"""Waiting in the page itself, for loops that wait on the server many times.

Playwright's ``expect`` looks again after 100, 250, 500 and 1000 ms, so a
change that lands after 0.4 s is seen at 0.85 s. Over the seventeen rounds of
the fifty-chat DOM test that came to about 8 s. :func:`until_count`
looks every 20 ms inside the page; the caller still asserts with ``expect``,
which then passes at once, or fails with its own message if the wait timed
out. So a test waits no less for what it needs, and asserts the same.
"""

import contextlib
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

_COUNT_IS = "([selector, count]) => document.querySelectorAll(selector).length === count"


def until_count(page: Any, selector: str, count: int, timeout: float = 5_000) -> None:
    """Returns once the CSS ``selector`` matches ``count`` elements, or after ``timeout`` ms (then ``expect`` tells)."""
    # On a timeout the expect() that follows reports what it found.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(_COUNT_IS, arg=[selector, count], polling=20, timeout=timeout)
