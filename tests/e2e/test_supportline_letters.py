"""Letters in a real browser: a young person on a phone, and a counsellor in the console's Brev tab."""

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from playwright.sync_api import expect

from staff.roles import Role
from supportline.letters import services
from supportline.letters.models import Letter, LetterMessage
from supportline.models import CannedResponse, CounsellorProfile
from tests.factories import StaffUserFactory, login_verified
from tests.processes import AsgiServer, database_url_for_subprocess, service_env

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
CONSOLE = "/admin/supportline/conversation/console/"


def assert_no_axe_violations(page):
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture(scope="module")
def letters_server(django_db_setup, django_db_blocker, tmp_path_factory, neutral_site):
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(tmp_path_factory.mktemp("letters-browser")),
        QUICK_EXIT_URL=neutral_site.url,
        SUPPORTLINE_LETTER_RATE_LIMIT="1000",
        SUPPORTLINE_LETTER_CODE_RATE_LIMIT="1000",
    )
    server = AsgiServer(env=env, extra_args=("--no-access-log",))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="sv-SE", viewport={"width": 390, "height": 844}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)
    page.visited = visited
    yield page
    context.close()


def open_console(browser, server, role=Role.COUNSELLOR, alias="Maja"):
    user: Any = StaffUserFactory(role=role)
    CounsellorProfile.objects.create(user=user, alias=alias)
    client = Client()
    login_verified(client, user)
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}])
    page = context.new_page()
    page.goto(server.url + CONSOLE)
    return user, page


def test_writing_and_reading_a_letter_on_a_phone(phone, letters_server, browser):
    phone.goto(letters_server.url + "/chat/")
    phone.get_by_role("link", name="Skriv ett brev till oss i stället").first.click()
    expect(phone.locator("#letter-promise")).to_contain_text("Vi svarar inom tre vardagar")
    assert_no_axe_violations(phone)
    # Sent empty: the error is next to the field, and the page stays accessible.
    phone.get_by_role("button", name="Skicka brevet").click()
    expect(phone.locator("#id_text_error")).to_have_text("Skriv något först.")
    assert phone.get_by_label("Ditt brev", exact=True).get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(phone)

    phone.get_by_label("Ditt brev", exact=True).fill("Någon pressar mig att skicka bilder. Ring mig på 070-123 45 67.")
    phone.get_by_label("13–15 år").check()  # noqa: RUF001
    phone.get_by_role("button", name="Skicka brevet").click()
    # The same gentle reminder as in the chat; a second press sends it anyway.
    expect(phone.get_by_text("Det ser ut som ett telefonnummer.")).to_be_visible()
    assert not Letter.objects.exists()
    assert_no_axe_violations(phone)
    phone.get_by_role("button", name="Skicka brevet").click()

    code = phone.locator("#letter-code").inner_text()
    assert len(code.replace("-", "")) == 20
    expect(phone.get_by_text("Spara koden nu.")).to_be_visible()
    phone.get_by_role("button", name="Kopiera koden").click()
    expect(phone.locator("#copy-status")).to_have_text("Koden är kopierad.")
    assert phone.evaluate("navigator.clipboard.readText()") == code
    assert_no_axe_violations(phone)
    # A reload shows the code no more and writes no second letter.
    phone.reload()
    assert phone.locator("#letter-code").count() == 0
    assert Letter.objects.count() == 1

    letter = Letter.objects.get()
    counsellor: Any = StaffUserFactory(role=Role.COUNSELLOR)
    services.letter_claim(letter_id=letter.pk, counsellor=counsellor)
    services.letter_answer(letter_id=letter.pk, counsellor=counsellor, text="Det är inte ditt fel. Skicka inget.")

    phone.get_by_label("Din kod").fill(code.lower())
    phone.get_by_role("button", name="Läs svaret").click()
    expect(phone.get_by_text("Det är inte ditt fel. Skicka inget.")).to_be_visible()
    assert_no_axe_violations(phone)
    phone.get_by_label("Ditt svar", exact=True).fill("Tack. Vad gör jag om hen hotar mig?")
    phone.get_by_role("button", name="Skicka", exact=True).click()
    expect(phone.get_by_text("Ditt svar är skickat.")).to_be_visible()
    assert LetterMessage.objects.filter(letter=letter).count() == 3
    letter.refresh_from_db()
    assert letter.status == Letter.Status.WAITING

    plain = code.replace("-", "")
    assert phone.visited and all(plain not in url.replace("-", "").upper() for url in phone.visited), phone.visited
    # Quick exit works here too, and leaves for the neutral site.
    phone.get_by_role("link", name="Lämna sidan snabbt").click()
    phone.wait_for_url(lambda url: not url.startswith(letters_server.url))


def test_a_counsellor_answers_in_the_brev_tab_with_a_canned_response(browser, letters_server):
    CannedResponse.objects.create(title="Inte ditt fel", text="Det som hänt är inte ditt fel.")
    written = services.letter_write(text="Jag vet inte vad jag ska göra.", topic="threat")
    _user, console = open_console(browser, letters_server)
    try:
        console.get_by_role("button", name=re.compile(r"^Brev \(")).click()
        expect(console.locator("#letters-queue tbody tr")).to_have_count(1)
        expect(console.locator("#queue-table")).to_be_hidden()
        console.locator("#letters-queue").get_by_role("button", name=f"Öppna Brev #{written.letter.pk}").click()
        expect(console.locator("#letter-messages")).to_contain_text("Jag vet inte vad jag ska göra.")
        console.get_by_role("button", name="Ta brevet", exact=True).click()
        expect(console.locator("#letter-notice")).to_have_text("Brevet är ditt.")
        console.locator("#letter-canned").select_option(label="Inte ditt fel")
        console.get_by_role("button", name="Infoga svaret", exact=True).click()
        expect(console.locator("#letter-text")).to_have_value("Det som hänt är inte ditt fel.")
        console.get_by_role("button", name="Spara utkast", exact=True).click()
        expect(console.locator("#letter-notice")).to_have_text("Utkastet är sparat. Den unga ser det inte.")
        assert Letter.objects.get().draft == "Det som hänt är inte ditt fel."
        console.get_by_role("button", name="Markera akut risk", exact=True).click()
        expect(console.locator("#letter-escalation")).to_be_visible()
        console.get_by_label("Ringt 112").check()
        expect(console.locator("#letter-notice")).to_have_text("")
        console.get_by_role("button", name="Skicka svaret", exact=True).click()
        expect(console.locator("#letter-notice")).to_have_text("Svaret är skickat.")
        expect(console.locator("#letters-queue tbody tr")).to_have_count(0)
        assert_no_axe_violations(console)
        letter = Letter.objects.get()
        assert letter.status == Letter.Status.ANSWERED and letter.draft == ""
        assert letter.imminent_risk and letter.escalation_steps == ["called_112"]
        assert [m.text for m in letter.messages.all()][-1] == "Det som hänt är inte ditt fel."
    finally:
        console.context.close()


def test_opening_and_closing_fifty_letters_keeps_the_console_dom_flat(browser, letters_server):
    for n in range(50):
        services.letter_write(text=f"Brev nummer {n}. " * 20)
    _user, console = open_console(browser, letters_server)
    try:
        console.get_by_role("button", name=re.compile(r"^Brev \(")).click()
        expect(console.locator("#letters-queue tbody tr")).to_have_count(50)
        ids = sorted(Letter.objects.values_list("pk", flat=True))
        count_nodes = "document.getElementsByTagName('*').length"

        def open_and_close(letter_id):
            console.locator(f'#letters-queue [data-letter-open="{letter_id}"]').click()
            expect(console.locator("#letter-title")).to_have_text(f"Brev #{letter_id}")
            expect(console.locator("#letter-messages li")).to_have_count(1)
            console.get_by_role("button", name="Stäng brevet", exact=True).click()
            expect(console.locator("#letter-detail")).to_have_count(0)

        before = console.evaluate(count_nodes)
        for letter_id in ids:
            open_and_close(letter_id)
        after = console.evaluate(count_nodes)
        assert after == before, (before, after)
    finally:
        console.context.close()
