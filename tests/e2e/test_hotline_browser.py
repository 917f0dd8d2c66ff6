"""The reporter's side in a real browser against the real server (uvicorn)."""

import pytest
from axe_playwright_python.sync_playwright import Axe

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
