"""The reporter's side in a real browser against the real server (uvicorn)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from hotline import services
from hotline.models import Tip, TipMessage
from staff.roles import Role
from tests.factories import StaffUserFactory
from tests.processes import AsgiServer, database_url_for_subprocess, service_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def assert_no_axe_violations(page):
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture(scope="module")
def hotline_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The real app, with rate limits raised so repeated runs within an hour stay independent."""
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(tmp_path_factory.mktemp("hotline-live")),
        HOTLINE_TIP_RATE_LIMIT="1000",
        HOTLINE_STATUS_RATE_LIMIT="1000",
        POLICE_HANDOFF_BACKEND="dropfolder",
    )
    server = AsgiServer(env=env)
    server.start()
    yield server
    server.stop()


def submit_with_steps(page, server):
    page.goto(server.url + "/hotline/")
    page.get_by_label("Adresser (länkar)").fill("HTTPS://Example.COM/sida?utm_source=x")
    page.get_by_role("button", name="Nästa").first.click()
    page.get_by_label("Grooming eller försök att få kontakt med barn").check()
    page.locator("fieldset[data-step='2']").get_by_role("button", name="Nästa").click()
    page.get_by_label("När hände det, eller när såg du det?").fill("i går kväll")
    page.get_by_label("Berätta vad du såg").fill("En vuxen skrev sexuella saker till ett barn.")
    page.locator("fieldset[data-step='3']").get_by_role("button", name="Nästa").click()
    page.get_by_role("button", name="Skicka tipset").click()
    page.wait_for_load_state()
    assert page.locator("#receipt-code").count() == 1, page.content()[:3000]
    return page.locator("#receipt-code").inner_text()


def test_a_tip_end_to_end_with_receipt_question_and_answer(page, hotline_server):
    code = submit_with_steps(page, hotline_server)
    assert len(code.replace("-", "")) == 20
    assert page.locator("#receipt-code").is_visible()
    tip = Tip.objects.get()
    assert [u.url for u in tip.urls.all()] == ["https://example.com/sida"]

    analyst = StaffUserFactory.create(role=Role.ANALYST)
    services.tip_ask_reporter(tip_id=tip.pk, actor=analyst, body="Vilket användarnamn hade den vuxna?")

    page.goto(hotline_server.url + "/hotline/status/")
    page.get_by_label("Din kod").fill(code.lower())
    page.get_by_role("button", name="Visa").click()
    assert "Vi har tagit emot ditt tips" in page.locator("#tip-status").inner_text()
    assert page.get_by_text("Vilket användarnamn hade den vuxna?").is_visible()
    page.get_by_label("Ditt svar").fill("Hen hette exempel123.")
    page.get_by_role("button", name="Skicka svaret").click()
    assert page.get_by_text("Tack! Vi har fått ditt svar.").is_visible()
    assert page.get_by_text("Hen hette exempel123.").is_visible()
    assert TipMessage.objects.get(sender=TipMessage.Sender.REPORTER).body == "Hen hette exempel123."


@pytest.mark.parametrize("width", [320, 1280])
def test_form_and_status_pages_have_no_wcag_22_aa_violations(page, hotline_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(hotline_server.url + "/hotline/")
    assert_no_axe_violations(page)
    # With errors shown next to the fields.
    page.get_by_role("button", name="Nästa").first.click()
    page.locator("fieldset[data-step='2']").get_by_role("button", name="Nästa").click()
    page.locator("fieldset[data-step='3']").get_by_role("button", name="Nästa").click()
    page.get_by_role("button", name="Skicka tipset").click()
    assert page.locator(".errorlist").first.is_visible()
    assert_no_axe_violations(page)

    submitted = services.tip_submit(
        category="other", urls=[], place="Ett spel", occurred="", description="Text", contact="", urgent=False
    )
    services.tip_ask_reporter(
        tip_id=submitted.tip.pk, actor=StaffUserFactory.create(role=Role.ANALYST), body="En fråga?"
    )
    page.goto(hotline_server.url + "/hotline/status/")
    assert_no_axe_violations(page)
    page.get_by_label("Din kod").fill(submitted.receipt_code)
    page.get_by_role("button", name="Visa").click()
    assert page.get_by_text("En fråga?").is_visible()
    assert_no_axe_violations(page)
    page.goto(hotline_server.url + "/en/hotline/")
    assert_no_axe_violations(page)


def test_the_form_works_without_javascript_and_keeps_typed_text(browser, hotline_server):
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(hotline_server.url + "/hotline/")
        page.get_by_label("Adresser (länkar)").fill("data:image/png;base64,iVBORw0KGgoAAAANSUhEUg")
        page.get_by_label("Berätta vad du såg").fill("Det jag skrev")
        page.get_by_role("button", name="Skicka tipset").click()
        assert page.get_by_text("data:-adress").first.is_visible()
        assert page.get_by_label("Berätta vad du såg").input_value() == "Det jag skrev"
        page.get_by_label("Adresser (länkar)").fill("")
        page.get_by_label("Eller beskriv platsen").fill("Appen Exempel, användaren x")
        page.get_by_label("Något annat").check()
        page.get_by_role("button", name="Skicka tipset").click()
        assert page.locator("#receipt-code").is_visible()
        assert page.locator("input[type=file]").count() == 0
    finally:
        context.close()


def test_a_reload_of_the_receipt_creates_no_second_tip_and_shows_no_code(page, hotline_server):
    code = submit_with_steps(page, hotline_server)
    assert page.url == hotline_server.url + "/hotline/kvitto/"
    assert code not in page.url
    assert_no_axe_violations(page)
    page.reload()
    assert page.locator("#receipt-code").count() == 0
    assert code not in page.content()
    assert page.get_by_role("heading", name="Koden visas bara en gång").is_visible()
    assert_no_axe_violations(page)
    page.go_back()  # the form again, not a resend
    assert Tip.objects.count() == 1


def test_the_error_summary_names_the_steps_with_errors_and_takes_focus(page, hotline_server):
    page.goto(hotline_server.url + "/hotline/")
    # Step 1 left empty; step 2 answered; step 3 left empty.
    page.get_by_role("button", name="Nästa").first.click()
    page.get_by_label("Något annat").check()
    page.locator("fieldset[data-step='2']").get_by_role("button", name="Nästa").click()
    page.locator("fieldset[data-step='3']").get_by_role("button", name="Nästa").click()
    page.get_by_role("button", name="Skicka tipset").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == ["Steg 1 av 4: Var såg du det?", "Steg 3 av 4: När och vad?"]
    assert_no_axe_violations(page)
    # The step-3 error sits in a hidden step: the link opens that step and lands on the field.
    assert not page.get_by_label("Berätta vad du såg").is_visible()
    summary.get_by_role("link", name="Steg 3 av 4: När och vad?").click()
    assert page.get_by_label("Berätta vad du såg").is_visible()
    assert page.evaluate("document.activeElement.id") == "id_description"
    assert Tip.objects.count() == 0


def test_the_character_counter_counts_and_speaks_only_near_the_limit(page, hotline_server):
    page.goto(hotline_server.url + "/hotline/")
    page.get_by_role("button", name="Nästa").first.click()
    page.locator("fieldset[data-step='2']").get_by_role("button", name="Nästa").click()
    description = page.get_by_label("Berätta vad du såg")
    counter = page.locator("#id_description_count")
    live = page.locator("#id_description_count ~ [aria-live='polite']")
    expect(counter).to_have_text("Du har 5\xa0000 tecken kvar.")
    assert "id_description_count" in (description.get_attribute("aria-describedby") or "")
    description.fill("Hej då")
    expect(counter).to_have_text("Du har 4\xa0994 tecken kvar.")
    page.wait_for_timeout(1800)
    assert live.inner_text() == "", "far from the limit the count is not read out"
    description.fill("a" * 5012)
    expect(counter).to_have_text("Du har skrivit 12 tecken för mycket.")
    assert description.get_attribute("aria-invalid") == "true"
    expect(live).to_have_text("Du har skrivit 12 tecken för mycket.", timeout=5000)
    assert len(description.input_value()) == 5012, "nothing was cut off"


def test_the_copy_button_copies_the_code(browser, hotline_server):
    context = browser.new_context(locale="sv-SE")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=hotline_server.url)
    try:
        page = context.new_page()
        code = submit_with_steps(page, hotline_server)
        page.get_by_role("button", name="Kopiera koden").click()
        # The clipboard answers asynchronously; the message follows once it has.
        expect(page.get_by_role("status")).to_have_text("Koden är kopierad. Klistra in den där du sparar den.")
        assert page.evaluate("navigator.clipboard.readText()") == code
    finally:
        context.close()


def test_without_javascript_the_code_is_plain_text_and_there_is_no_dead_button(browser, hotline_server):
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(hotline_server.url + "/hotline/")
        page.get_by_label("Eller beskriv platsen").fill("Appen Exempel")
        page.get_by_label("Något annat").check()
        page.get_by_label("Berätta vad du såg").fill("En text")
        page.get_by_role("button", name="Skicka tipset").click()
        code = page.locator("#receipt-code")
        assert code.is_visible()
        assert not page.get_by_role("button", name="Kopiera koden").is_visible()
        page.reload()
        assert page.locator("#receipt-code").count() == 0
        assert Tip.objects.count() == 1
    finally:
        context.close()
