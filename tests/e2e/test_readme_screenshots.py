"""The README's screenshots, taken from the running site on every test run so they never go stale.

Each public part at a phone's width, and the counsellor console at a desktop's,
with a conversation in progress. The files land in ``docs/`` and the README
shows them; a change to a page shows up as a changed PNG in the next commit.
"""

import struct

import pytest
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.test_supportline_chat import CONSOLE, open_console, start_chat_server
from tests.processes import ROOT
from tests.supportline.helpers import open_all_week

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

DOCS = ROOT / "docs"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = {
    "chat": "screenshot-chat.png",
    "hotline": "screenshot-hotline.png",
    "prevention": "screenshot-prevention.png",
    "console": "screenshot-console.png",
}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def server(tmp_path, neutral_site):
    call_command("seed_articles", verbosity=0)
    cache.clear()
    open_all_week()
    server = start_chat_server(tmp_path, QUICK_EXIT_URL=neutral_site.url)
    yield server
    server.stop()
    cache.clear()


def test_the_readme_shows_current_screenshots_of_each_part(browser, server):
    visitor_context = browser.new_context(locale="sv-SE", viewport=PHONE, device_scale_factor=1)
    visitor = visitor_context.new_page()
    counsellor = open_console(browser, server)
    counsellor.set_viewport_size(DESKTOP)
    try:
        visitor.goto(server.url + "/hotline/")
        visitor.screenshot(path=DOCS / SHOTS["hotline"])
        visitor.goto(server.url + "/kunskap/")
        visitor.screenshot(path=DOCS / SHOTS["prevention"])

        # A conversation in progress, seen from both sides.
        visitor.goto(server.url + "/chat/")
        visitor.get_by_role("button", name="Starta chatten").click()
        expect(visitor.get_by_text("Du är näst på tur.")).to_be_visible()
        counsellor.get_by_role("button", name="Ta chatten").click()
        expect(visitor.get_by_text("Du chattar med Maja.")).to_be_visible()
        box = visitor.get_by_label("Skriv ditt meddelande")
        box.fill("Hej, någon jag inte känner vill att jag skickar bilder")
        box.press("Enter")
        expect(counsellor.get_by_role("log")).to_contain_text("någon jag inte känner")
        counsellor.get_by_label("Svar", exact=True).fill("Vad bra att du skriver. Du har inte gjort något fel.")
        counsellor.get_by_role("button", name="Skicka", exact=True).click()
        expect(visitor.get_by_role("log")).to_contain_text("Du har inte gjort något fel.")
        visitor.screenshot(path=DOCS / SHOTS["chat"])
        assert counsellor.url.endswith(CONSOLE)
        counsellor.screenshot(path=DOCS / SHOTS["console"])
    finally:
        visitor_context.close()
        counsellor.context.close()

    readme = (ROOT / "README.md").read_text()
    for part, name in SHOTS.items():
        width, _ = png_size((DOCS / name).read_bytes())
        assert width == (DESKTOP if part == "console" else PHONE)["width"], name
        assert f"(docs/{name})" in readme, f"README does not show {name}"
