"""The insights pages in Chromium: charts drawn under the strict CSP, axe clean, one printed page a year.

Also retakes ``docs/screenshot-insights.png``.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.db import connections
from django.test import Client

from insights.demo import generate_demo_data
from insights.services import aggregate_days
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.processes import ROOT

# The tests only read: the demo data and the login are made once for the module
# (committed, so the server sees them) and flushed after its last test.
pytestmark = [pytest.mark.browser, pytest.mark.services]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
PAGES = ["/admin/statistik/stodlinjen/", "/admin/statistik/hotline/", "/admin/statistik/forebyggande/"]
SCREENSHOT = ROOT / "docs" / "screenshot-insights.png"
# Records what the CSP refuses, before any of the page's own code runs.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="module")
def administrator_session(django_db_setup, django_db_blocker):
    """An administrator's session key, over demo data: what the pages under test read."""
    with django_db_blocker.unblock():
        # What manage.py generate_insights_demo_data does, smaller (the command refuses a test database's name).
        generate_demo_data(chats=3000, tips=800, days=400, seed=7)
        aggregate_days()
        client = Client()
        login_verified(client, StaffUserFactory(role=Role.ADMINISTRATOR))
    yield client.cookies["sessionid"].value
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        # Outside a test nothing else closes it, and an open session stops the test database's removal.
        connections.close_all()


@pytest.fixture
def administrator_page(browser, asgi_server, administrator_session):
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    context.add_cookies([{"name": "sessionid", "value": administrator_session, "url": asgi_server.url}])
    page = context.new_page()
    page.add_init_script(WATCH_CSP)
    console_errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", on_console)
    page.console_errors = console_errors
    yield page
    context.close()


def assert_clean(page, status: int = 200) -> None:
    assert page.evaluate("window.__cspViolations") == []
    expected = [f"Failed to load resource: the server responded with a status of {status} (Bad Request)"]
    assert page.console_errors == ([] if status == 200 else expected)
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("path", PAGES)
def test_each_page_draws_its_charts_with_no_csp_violation_and_passes_axe(administrator_page, asgi_server, path):
    page = administrator_page
    response = page.goto(f"{asgi_server.url}{path}?period=90")
    assert response is not None and response.status == 200
    assert page.locator("h1").count() == 1
    charts = page.locator("svg.insights-chart")
    for index in range(charts.count()):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    # The stylesheet reached the charts: bars and lines are coloured, not pygal-less black.
    drawn = page.locator("svg.insights-chart .series rect, svg.insights-chart .series path.line")
    assert drawn.count() > 0
    for index in range(min(drawn.count(), 20)):
        style = drawn.nth(index).evaluate("e => [getComputedStyle(e).fill, getComputedStyle(e).stroke]")
        assert "rgb(0, 0, 0)" not in style, style
    assert_clean(page)
    # The same numbers as a table, one click away.
    disclosures = page.get_by_text("Visa som tabell", exact=True)
    if disclosures.count():
        disclosures.first.click()
        assert page.locator("details[open] table").first.is_visible()
        assert_clean(page)


def test_the_support_page_shows_its_charts_and_is_the_screenshot(administrator_page, asgi_server):
    page = administrator_page
    page.goto(f"{asgi_server.url}/admin/statistik/stodlinjen/?period=90")
    assert page.locator("svg.insights-chart").count() >= 3
    assert page.locator("table.insights-heatmap").count() >= 1
    assert page.get_by_role("img", name=re.compile(".+")).count() >= 3
    # The waiting-time chart and what follows it: a line chart, a table and stacked bars.
    page.evaluate("document.getElementById('figure-support_waits').scrollIntoView()")
    page.screenshot(path=SCREENSHOT)


def test_the_prevention_page_says_there_are_no_search_statistics(administrator_page, asgi_server):
    page = administrator_page
    page.goto(f"{asgi_server.url}/admin/statistik/forebyggande/")
    assert "ingen statistik över sökningar" in page.locator("#insights-notice").inner_text()


def test_bad_input_shows_a_swedish_error_in_the_browser(administrator_page, asgi_server):
    page = administrator_page
    response = page.goto(f"{asgi_server.url}/admin/statistik/hotline/?period=custom&start=2026-02-10&end=2026-01-01")
    assert response is not None and response.status == 400
    assert "Till och med kan inte ligga före från och med." in page.get_by_role("alert").first.inner_text()
    assert_clean(page, status=400)


@pytest.mark.parametrize("path", PAGES)
def test_a_year_prints_on_one_page(administrator_page, asgi_server, path):
    page = administrator_page
    page.goto(f"{asgi_server.url}{path}?period=year&year=2025")
    page.emulate_media(media="print")
    assert page.locator("#header").is_hidden()
    assert page.locator("form.insights-period").is_hidden()
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
