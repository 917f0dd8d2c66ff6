"""Quick exit in a real browser, and axe on the home page."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def assert_no_axe_violations(page):
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("path", ["/", "/en/", "/sakerhet/"])
@pytest.mark.parametrize("width", [320, 1280])
def test_pages_have_no_wcag_22_aa_violations(page, asgi_server, path, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(asgi_server.url + path)
    assert_no_axe_violations(page)


def test_quick_exit_button_lands_on_the_neutral_site(page, asgi_server, neutral_site):
    page.goto(asgi_server.url + "/")
    page.get_by_role("link", name="Lämna sidan snabbt").click()
    page.wait_for_url(neutral_site.url)
    assert page.title() == "Neutral"


def test_shift_three_times_leaves(page, asgi_server, neutral_site):
    page.goto(asgi_server.url + "/")
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(neutral_site.url)


def add_text_field(page):
    page.evaluate(
        "() => { const i = document.createElement('input'); i.id = 'probe'; i.setAttribute('aria-label', 'x');"
        " document.querySelector('main').appendChild(i); }"
    )
    page.focus("#probe")


@pytest.mark.parametrize("keys", [["Shift"] * 3, ["Escape"] * 2], ids=["shift-three-times", "escape-twice"])
def test_quick_exit_keys_work_while_typing_in_a_text_field(page, asgi_server, neutral_site, keys):
    page.goto(asgi_server.url + "/")
    add_text_field(page)
    page.keyboard.type("hej")
    for key in keys:
        page.keyboard.press(key)
    page.wait_for_url(neutral_site.url)


def test_escape_twice_leaves(page, asgi_server, neutral_site):
    page.goto(asgi_server.url + "/")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(neutral_site.url)


def test_typing_capitals_and_a_single_escape_do_not_leave(page, asgi_server):
    page.goto(asgi_server.url + "/")
    add_text_field(page)
    # Shift held for capitals is not a Shift press; other keys in between start the count over.
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift+H")
    page.keyboard.type("ej ")
    page.keyboard.press("Shift+A")
    page.keyboard.press("Escape")
    page.keyboard.type("nna")
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    assert page.url.startswith(asgi_server.url)
    assert page.input_value("#probe") == "Hej Anna"


def test_the_keyboard_hint_shows_on_a_computer_but_not_on_a_touch_phone(browser, asgi_server):
    desktop = browser.new_context()
    phone = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    try:
        page = desktop.new_page()
        page.goto(asgi_server.url + "/")
        assert page.locator("#quick-exit-hint").is_visible()
        page = phone.new_page()
        page.goto(asgi_server.url + "/")
        assert page.locator("#quick-exit").is_visible()
        assert not page.locator("#quick-exit-hint").is_visible()
    finally:
        desktop.close()
        phone.close()


def test_back_after_quick_exit_does_not_show_the_page(page, asgi_server, neutral_site):
    page.goto("about:blank")
    page.goto(asgi_server.url + "/")
    page.evaluate("() => sessionStorage.setItem('chat', 'secret')")
    page.get_by_role("link", name="Lämna sidan snabbt").click()
    page.wait_for_url(neutral_site.url)
    page.go_back()
    page.wait_for_timeout(300)
    assert not page.url.startswith(asgi_server.url)
    assert not re.search("Du är inte ensam", page.content())


def test_quick_exit_without_javascript_still_leaves(browser, asgi_server, neutral_site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(asgi_server.url + "/")
        page.get_by_role("link", name="Lämna sidan snabbt").click()
        page.wait_for_url(neutral_site.url)
    finally:
        context.close()
