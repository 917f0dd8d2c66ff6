"""The shared chat socket (static/supportline/socket.js) in Chromium, on a fake clock.

A simulated server answers the way a busy or broken one might; one minute of
the page's reconnect and resend logic runs in milliseconds. The same module
runs against the real server in test_supportline_reconnect.py.
"""

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT

pytestmark = [pytest.mark.browser]

ORIGIN = "http://socket.test"
FILES = {
    "/socket.js": ROOT / "static" / "supportline" / "socket.js",
    "/harness.js": Path(__file__).with_name("socket_harness.js"),
}
# The storm bound of issue 15: a page reconnecting with 100 unsent messages
# sends fewer than this many frames in a minute, whatever the server answers.
FRAMES_PER_MINUTE = 300


@pytest.fixture(scope="module")
def harness(browser: Any) -> Iterator[Any]:
    context = browser.new_context()

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path in FILES:
            route.fulfill(body=FILES[path].read_text(), content_type="text/javascript")
        else:
            route.fulfill(body="<!doctype html><title>socket</title>", content_type="text/html")

    context.route(f"{ORIGIN}/**", serve)
    page = context.new_page()
    page.goto(f"{ORIGIN}/")
    yield page
    context.close()


def run(page: Any, scenario: str, **options: Any) -> dict[str, Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        """async ([scenario, options]) => {
            const socket = await import("/socket.js");
            const harness = await import("/harness.js");
            return harness.run(socket, scenario, options);
        }""",
        [scenario, options],
    )


@pytest.mark.parametrize(
    "scenario",
    [
        "refuse",
        "refuse_retry_after",
        "refuse_retry_after_zero",
        "one_per_second",
        "ack_then_drop",
        "drop_on_open",
        "silent",
    ],
)
def test_a_page_reconnecting_with_100_unsent_messages_cannot_storm(harness, scenario):
    result = run(harness, scenario)
    assert result["frames"] < FRAMES_PER_MINUTE, result
    # One resend loop: the socket never holds more than its five timers
    # (reconnect, ping, pong, stable, outbox), however many refusals arrive.
    assert result["maxTimers"] <= 5, result
    assert result["early"] == 0, "a resend came sooner than the server's retry_after_ms"
    assert len(result["stored"]) == len(set(result["stored"]))


@pytest.mark.parametrize("scenario", ["refuse", "refuse_retry_after_zero", "one_per_second"])
def test_several_chats_share_one_budget(harness, scenario):
    result = run(harness, scenario, lanes=3)
    assert result["frames"] < FRAMES_PER_MINUTE, result


def test_refusals_are_retried_with_a_growing_wait(harness):
    result = run(harness, "refuse")
    # The resend path runs (not just one attempt) but slows down: the waits
    # after 0.5, 1, 2, 4, 8, 16 and 30 s leave only a handful of tries a minute.
    assert 5 <= result["messageFrames"] <= 12, result
    assert result["distinctSent"] == 1, "a refused message must not be overtaken by later ones"


def test_the_servers_retry_after_is_obeyed_and_the_outbox_still_drains(harness):
    result = run(harness, "one_per_second")
    assert result["early"] == 0
    assert len(result["stored"]) >= 45, result  # about one a second, as the server allows
    assert result["stored"] == sorted(result["stored"]), "stored out of the order written"


@pytest.mark.parametrize("scenario", ["ack_all", "echo_all"])
def test_an_acknowledging_server_gets_every_message_once_in_order(harness, scenario):
    # echo_all: the server confirms each message with its own message frame, as the real one does.
    result = run(harness, scenario)
    assert result["stored"] == [f"m{i:03d}" for i in range(100)]
    assert result["messageFrames"] == 100
    assert result["outboxLeft"] == 0
    # Paced below the server's five messages a second per connection.
    assert result["busiestSecond"] <= 5, result


def test_reconnects_back_off_while_the_connection_keeps_failing(harness):
    result = run(harness, "drop_on_open")
    gaps = [b - a for a, b in pairwise(result["connectTimes"])]
    assert len(gaps) >= 4
    assert all(later > earlier for earlier, later in pairwise(gaps)), gaps
    assert max(gaps) <= 30_000 * 1.25 + 10


def test_a_silent_connection_is_dropped_after_the_missing_pong(harness):
    result = run(harness, "silent")
    first_drop = next(s for s in result["statuses"] if s["status"] == "reconnecting")
    assert first_drop["code"] == 1006
    assert 15_000 + 8_000 <= first_drop["t"] <= 15_000 + 8_000 + 50


def test_close_4429_keeps_the_page_away_for_long(harness):
    result = run(harness, "over_budget", seconds=120)
    closed_at = next(s["t"] for s in result["statuses"] if s["code"] == 4429)
    assert result["connections"] >= 2, "the page gave up instead of coming back later"
    assert result["connectTimes"][1] - closed_at >= 45_000


def test_close_4401_stops_and_reports_logged_out(harness):
    result = run(harness, "logged_out")
    assert result["connections"] == 1
    assert result["statuses"][-1]["status"] == "logged_out"


def test_close_4403_stops_and_reports_access_revoked(harness):
    result = run(harness, "access_revoked")
    assert result["connections"] == 1
    assert result["statuses"][-1]["status"] == "access_revoked"
