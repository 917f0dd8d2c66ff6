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
    "/en/kunskap/article/if-your-child-is-a-victim-of-sextortion/",
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


def test_every_article_links_to_chat_and_hotline(page, asgi_server, seeded):
    page.goto(asgi_server.url + "/kunskap/artikel/om-nagon-hotar-att-sprida-dina-bilder/")
    page.get_by_role("link", name="Chatta med oss").click()
    page.wait_for_url(asgi_server.url + "/chat/")


def test_read_aloud_is_hidden_without_a_voice_on_the_device(page, asgi_server, seeded):
    remote_only = '[{"name": "Cloud", "lang": "sv-SE", "localService": false}]'
    page.add_init_script(FAKE_SPEECH % remote_only)
    page.goto(asgi_server.url + "/kunskap/artikel/vad-ar-grooming/")
    assert page.locator("[data-read-aloud]").is_hidden()


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


def test_read_aloud_is_absent_for_parents(page, asgi_server, seeded):
    page.goto(asgi_server.url + "/kunskap/artikel/varningssignaler/")
    assert page.locator("[data-read-aloud]").count() == 0
