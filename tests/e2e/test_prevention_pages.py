"""Prevention pages in a real browser: phone and desktop widths, axe, read aloud."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}

PAGES = [
    "/kunskap/barn/",
    "/kunskap/unga/",
    "/kunskap/foraldrar/",
    "/kunskap/artikel/vad-ar-grooming/",
    "/kunskap/",
    "/en/knowledge/article/if-your-child-is-a-victim-of-sextortion/",
    "/en/knowledge/topic/not-your-fault/",
]

FAKE_SPEECH = """
(() => {
  const voices = %s;
  window.__spoken = [];
  const synth = {
    speaking: false,
    getVoices() { return voices; },
    speak(utterance) {
      window.__spoken.push({voice: utterance.voice && utterance.voice.name, text: utterance.text});
      this.speaking = true;
    },
    cancel() { this.speaking = false; },
    addEventListener() {},
  };
  Object.defineProperty(window, "speechSynthesis", {value: synth, configurable: true});
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
})();
"""


@pytest.fixture
def seeded():
    call_command("seed_articles", verbosity=0)
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("width", [360, 1280])
def test_prevention_pages_pass_axe_at_phone_and_desktop_width(page, asgi_server, seeded, path, width):
    page.set_viewport_size({"width": width, "height": 800})
    response = page.goto(asgi_server.url + path)
    assert response is not None and response.status == 200
    assert page.locator("h1").count() == 1
    # Nothing sideways: the page fits the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


def test_search_results_pass_axe(page, asgi_server, seeded):
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(asgi_server.url + "/kunskap/sok/")
    page.get_by_label("Sök bland texterna").fill("bilder")
    page.get_by_role("button", name="Sök", exact=True).click()
    page.wait_for_selector("#results-heading")
    assert page.url.endswith("/kunskap/sok/")  # the words stay out of the address bar
    assert page.locator("mark").count() > 0
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


def test_a_misspelled_search_offers_did_you_mean_and_passes_axe(page, asgi_server, seeded):
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(asgi_server.url + "/kunskap/sok/")
    page.get_by_label("Sök bland texterna").fill("utpresning")
    page.get_by_role("button", name="Sök", exact=True).click()
    suggestion = page.get_by_role("button", name="utpressning")
    suggestion.wait_for()
    assert "Menade du" in page.locator(".suggestion").inner_text()
    assert page.locator(".article-list li").count() > 0  # the corrected word's articles, shown at once
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()
    suggestion.click()
    page.wait_for_selector("#results-heading")
    assert page.url.endswith("/kunskap/sok/")  # still POST: the word stays out of the address bar
    assert page.get_by_label("Sök bland texterna").input_value() == "utpressning"


def test_every_article_links_to_chat_and_hotline(page, asgi_server, seeded):
    page.goto(asgi_server.url + "/kunskap/artikel/om-nagon-hotar-att-sprida-dina-bilder/")
    page.get_by_role("link", name="Chatta med oss").click()
    page.wait_for_url(asgi_server.url + "/chat/")


def test_without_a_voice_the_page_says_so_and_links_to_the_devices_own_help(page, asgi_server, seeded):
    remote_only = '[{"name": "Cloud", "lang": "sv-SE", "localService": false}]'
    page.add_init_script(FAKE_SPEECH % remote_only)
    page.goto(asgi_server.url + "/kunskap/artikel/vad-ar-grooming/")
    notice = page.locator("[data-read-aloud-missing]")
    notice.wait_for(state="visible")
    assert "Den här enheten har ingen röst" in notice.inner_text()
    assert page.locator("[data-read-aloud]").is_hidden()
    # An unknown desktop (headless Linux) gets every vendor's help.
    assert notice.get_by_role("link").count() == 5
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


def test_without_a_voice_a_phone_gets_its_own_help_only(page, asgi_server, seeded):
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Mobile"
    page.add_init_script(FAKE_SPEECH % "[]")
    page.add_init_script(f"Object.defineProperty(navigator, 'userAgent', {{get: () => {android!r}}});")
    page.goto(asgi_server.url + "/en/knowledge/children/")
    notice = page.locator("[data-read-aloud-missing]")
    notice.wait_for(state="visible")
    assert "This device has no voice" in notice.inner_text()
    links = notice.get_by_role("link")
    assert links.count() == 1
    assert links.first.get_attribute("href").startswith("https://support.google.com/accessibility/android/")


# The device's own read-aloud help, one vendor page per platform. No test fetches them (no request
# leaves the test machine): open them by hand at each yearly review of the texts.
VENDOR_HELP = {
    # iPhone User Guide: "Hear iPhone speak the screen, selected text and typing feedback" (Speak Screen).
    "ios": "https://support.apple.com/guide/iphone/iph96b214f0/ios",
    # Android Accessibility Help: "Select to Speak".
    "android": "https://support.google.com/accessibility/android/answer/7349565",
    # Windows: "Complete guide to Narrator".
    "windows": "https://support.microsoft.com/windows/complete-guide-to-narrator-e4397a0d-ef4f-b386-d8ae-c172f109bdb1",
    # macOS User Guide: "Have your Mac speak text that's on the screen".
    "mac": "https://support.apple.com/guide/mac-help/mh27448/mac",
    # Chromebook Help: "Hear text read aloud" (Select-to-speak).
    "chromeos": "https://support.google.com/chromebook/answer/9032490",
}


def test_without_a_voice_the_help_is_each_vendors_own_page_and_nothing_is_fetched_from_elsewhere(
    page, asgi_server, seeded
):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(FAKE_SPEECH % "[]")
    page.goto(asgi_server.url + "/en/knowledge/children/")
    notice = page.locator("[data-read-aloud-missing]")
    notice.wait_for(state="visible")
    items = notice.locator("[data-platform]")
    help_links = {
        items.nth(i).get_attribute("data-platform"): items.nth(i).get_by_role("link").get_attribute("href")
        for i in range(items.count())
    }
    assert help_links == VENDOR_HELP
    # A visitor who follows one tells the vendor nothing about this page.
    assert {notice.get_by_role("link").nth(i).get_attribute("rel") for i in range(5)} == {"noopener noreferrer"}
    assert requested and all(url.startswith(asgi_server.url) for url in requested), requested


def test_real_headless_chromium_offers_only_what_it_can_do(page, asgi_server, seeded):
    # No stub: whatever this browser has. Headless Chromium usually has no voice at all.
    page.goto(asgi_server.url + "/kunskap/barn/")
    page.wait_for_timeout(2000)  # past the script's wait for late voices
    local_swedish = page.evaluate(
        "speechSynthesis.getVoices().filter(v => v.localService && v.lang.toLowerCase().startsWith('sv')).length"
    )
    button_shown = page.locator("[data-read-aloud]").is_visible()
    notice_shown = page.locator("[data-read-aloud-missing]").is_visible()
    assert button_shown == (local_swedish > 0)
    assert notice_shown == (local_swedish == 0)


def test_read_aloud_speaks_with_a_local_voice_only(page, asgi_server, seeded):
    voices = (
        '[{"name": "Cloud", "lang": "sv-SE", "localService": false},'
        ' {"name": "Alva", "lang": "sv-SE", "localService": true}]'
    )
    page.add_init_script(FAKE_SPEECH % voices)
    page.goto(asgi_server.url + "/kunskap/artikel/vad-ar-grooming/")
    button = page.get_by_role("button", name="Läs upp")
    button.click()
    spoken = page.evaluate("window.__spoken")
    assert spoken[0]["voice"] == "Alva"
    assert "Grooming är när en vuxen" in spoken[0]["text"]
    assert page.get_by_role("button", name="Sluta läsa upp").get_attribute("aria-pressed") == "true"
    assert page.locator("[data-read-aloud-missing]").is_hidden()


def test_read_aloud_is_absent_for_parents(page, asgi_server, seeded):
    page.goto(asgi_server.url + "/kunskap/artikel/varningssignaler/")
    assert page.locator("[data-read-aloud]").count() == 0
