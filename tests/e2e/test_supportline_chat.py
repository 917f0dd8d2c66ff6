"""The support line in a real browser: a young person and a counsellor in two contexts."""

import threading
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from staff.roles import Role
from supportline import selectors, services
from supportline.models import Conversation, CounsellorProfile, Feedback, Message
from tests.e2e.waits import until_count
from tests.factories import StaffUserFactory, login_verified
from tests.processes import AsgiServer, database_url_for_subprocess, service_env
from tests.supportline.helpers import open_all_week

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
CONSOLE = "/admin/supportline/conversation/console/"


def start_chat_server(data_dir, **settings_env):
    """The site under uvicorn on the test database, with as many chat starts as the tests need."""
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(data_dir),
        SUPPORTLINE_STARTS_PER_HOUR="100000",
        **settings_env,
    )
    server = AsgiServer(env=env, extra_args=("--no-access-log",))
    server.start()
    return server


@pytest.fixture(scope="module")
def chat_server(django_db_setup, django_db_blocker, tmp_path_factory, neutral_site):
    server = start_chat_server(tmp_path_factory.mktemp("supportline-browser"), QUICK_EXIT_URL=neutral_site.url)
    yield server
    server.stop()


def open_console(browser, server):
    """A verified counsellor, Maja, with the console open in a context of her own."""
    user: Any = StaffUserFactory(role=Role.COUNSELLOR)
    CounsellorProfile.objects.create(user=user, alias="Maja")
    client = Client()
    login_verified(client, user)
    context = browser.new_context(locale="sv-SE")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}])
    page = context.new_page()
    page.goto(server.url + CONSOLE)
    return page


@pytest.fixture
def counsellor_page(browser, chat_server):
    open_all_week()
    page = open_console(browser, chat_server)
    yield page
    page.context.close()


@pytest.fixture
def visitor(browser):
    context = browser.new_context(locale="sv-SE", viewport={"width": 320, "height": 700})
    page = context.new_page()
    yield page
    context.close()


def start_and_claim(visitor, counsellor_page, chat_server):
    visitor.goto(chat_server.url + "/chat/")
    visitor.get_by_role("button", name="Starta chatten").click()
    expect(visitor.get_by_text("Du är näst på tur.", exact=True)).to_be_visible()
    counsellor_page.get_by_role("button", name="Ta chatten").click()
    expect(visitor.get_by_text("Du chattar med Maja.", exact=True)).to_be_visible()
    return Conversation.objects.get()


def visitor_says(visitor, text):
    box = visitor.get_by_label("Skriv ditt meddelande")
    box.fill(text)
    box.press("Enter")


def counsellor_says(counsellor_page, text):
    box = counsellor_page.get_by_label("Svar", exact=True)
    box.fill(text)
    counsellor_page.get_by_role("button", name="Skicka", exact=True).click()


def test_a_young_person_and_a_counsellor_hold_a_conversation(visitor, counsellor_page, chat_server):
    start_and_claim(visitor, counsellor_page, chat_server)
    visitor_says(visitor, "Hej, någon har hotat att sprida bilder på mig")
    counsellor_log = counsellor_page.get_by_role("log")
    expect(counsellor_log).to_contain_text("Hej, någon har hotat att sprida bilder på mig")
    expect(visitor.locator("#log .from-visitor .state")).to_have_text("Skickat")
    counsellor_says(counsellor_page, "Vad modigt att du skriver. Du har inte gjort något fel.")
    visitor_log = visitor.get_by_role("log")
    expect(visitor_log).to_contain_text("Vad modigt att du skriver.")
    expect(visitor_log.locator(".from-counsellor .who")).to_have_text("Maja")
    # Focus stays in the compose box after sending.
    expect(visitor.get_by_label("Skriv ditt meddelande")).to_be_focused()

    visitor.get_by_role("button", name="Avsluta chatten").click()
    visitor.get_by_role("button", name="Ja, avsluta").click()
    expect(visitor.get_by_role("heading", name="Chatten är avslutad")).to_be_visible()
    assert visitor.evaluate("() => sessionStorage.length") == 0
    expect(visitor.get_by_text("Vad modigt att du skriver.")).to_have_count(0)
    visitor.get_by_role("radio", name="Ja", exact=True).check()
    visitor.get_by_role("button", name="Skicka svaret").click()
    expect(visitor.get_by_role("heading", name="Tack för ditt svar")).to_be_visible()
    assert list(Feedback.objects.values_list("answer", flat=True)) == ["yes"]


def test_offline_visitor_gets_every_message_once_in_order(visitor, counsellor_page, chat_server):
    conversation = start_and_claim(visitor, counsellor_page, chat_server)
    visitor_says(visitor, "Är du kvar?")
    expect(counsellor_page.get_by_role("log")).to_contain_text("Är du kvar?")

    visitor.context.set_offline(True)
    expect(visitor.get_by_text("Anslutningen bröts.")).to_be_visible()
    for n in (1, 2, 3):
        counsellor_says(counsellor_page, f"Meddelande {n} medan du var borta")
    expect(counsellor_page.locator(".chat-log .from-counsellor")).to_have_count(3)
    assert Message.objects.filter(conversation=conversation).count() == 4
    expect(visitor.locator("#log .from-counsellor")).to_have_count(0)

    visitor.context.set_offline(False)
    messages = visitor.locator("#log .from-counsellor .body")
    expect(messages).to_have_text([f"Meddelande {n} medan du var borta" for n in (1, 2, 3)])
    visitor.wait_for_timeout(1500)
    expect(messages).to_have_count(3)
    expect(visitor.locator("#log .message")).to_have_count(4)


def test_quick_exit_mid_chat_ends_it_on_the_counsellors_side(visitor, counsellor_page, chat_server, neutral_site):
    conversation = start_and_claim(visitor, counsellor_page, chat_server)
    visitor_says(visitor, "Jag måste gå")
    expect(counsellor_page.get_by_role("log")).to_contain_text("Jag måste gå")
    visitor.get_by_role("link", name="Lämna sidan snabbt").click()
    visitor.wait_for_url(neutral_site.url)
    expect(counsellor_page.locator(".chat-meta")).to_contain_text("Den unga lämnade snabbt")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.end_reason) == ("ended", "left")


@pytest.mark.parametrize("keys", [["Shift"] * 3, ["Escape"] * 2], ids=["shift-three-times", "escape-twice"])
def test_quick_exit_from_inside_the_message_box(visitor, counsellor_page, chat_server, neutral_site, keys):
    conversation = start_and_claim(visitor, counsellor_page, chat_server)
    box = visitor.get_by_label("Skriv ditt meddelande")
    box.fill("Jag skriver något")
    expect(box).to_be_focused()
    for key in keys:
        box.press(key)
    visitor.wait_for_url(neutral_site.url)
    expect(counsellor_page.locator(".chat-meta")).to_contain_text("Den unga lämnade snabbt")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.end_reason) == ("ended", "left")


def test_the_banner_clears_as_soon_as_the_socket_is_back_and_sits_by_the_message_box(
    visitor, counsellor_page, chat_server
):
    start_and_claim(visitor, counsellor_page, chat_server)
    box = visitor.get_by_label("Skriv ditt meddelande")
    box.scroll_into_view_if_needed()
    visitor.context.set_offline(True)
    banner = visitor.locator("#connection")
    expect(banner).to_have_text("Anslutningen bröts. Vi försöker ansluta igen …")
    # On a phone the trouble shows where the young person is looking: by the message box.
    expect(banner).to_be_in_viewport()
    expect(box).to_be_in_viewport()

    visitor.context.set_offline(False)
    expect(banner).not_to_contain_text("Anslutningen bröts", timeout=5000)
    counsellor_says(counsellor_page, "Nu är du tillbaka")
    expect(visitor.get_by_role("log")).to_contain_text("Nu är du tillbaka")
    expect(banner).to_be_hidden(timeout=6000)


def test_the_counsellors_alias_and_queue_changes_are_announced_politely(visitor, counsellor_page, chat_server):
    visitor.goto(chat_server.url + "/chat/")
    visitor.get_by_role("button", name="Starta chatten").click()
    announcer = visitor.locator("#announce")
    assert announcer.get_attribute("role") == "status" and announcer.get_attribute("aria-live") == "polite"
    expect(announcer).to_contain_text("Du är näst på tur.")
    counsellor_page.get_by_role("button", name="Ta chatten").click()
    expect(visitor.get_by_text("Du chattar med Maja.", exact=True)).to_be_visible()
    expect(announcer).to_have_text("Maja har kommit in i chatten. Du chattar med Maja.")

    counsellor_page.locator("summary", has_text="Lämna över").click()
    counsellor_page.locator("[data-action='transfer']").click()
    expect(announcer).to_contain_text("Maja har lämnat chatten. Du står i kön igen")
    expect(visitor.get_by_text("Du chattar med Maja.", exact=True)).to_be_hidden()


def test_no_feedback_question_for_someone_who_left_the_queue(visitor, chat_server):
    open_all_week()
    visitor.goto(chat_server.url + "/chat/")
    visitor.get_by_role("button", name="Starta chatten").click()
    expect(visitor.get_by_role("heading", name="Du står i kö")).to_be_visible()
    visitor.get_by_role("button", name="Avsluta chatten").click()
    visitor.get_by_role("button", name="Ja, avsluta").click()
    expect(visitor.get_by_role("heading", name="Chatten är avslutad")).to_be_visible()
    expect(visitor.get_by_text("Kändes det bra att chatta med oss?")).to_be_hidden()
    expect(visitor.get_by_role("button", name="Skicka svaret")).to_be_hidden()


def test_a_closed_panel_stays_closed_until_the_counsellor_opens_it_again(visitor, counsellor_page, chat_server):
    conversation = start_and_claim(visitor, counsellor_page, chat_server)
    counsellor_page.once("dialog", lambda dialog: dialog.accept())
    counsellor_page.get_by_role("button", name="Avsluta chatten").click()
    expect(counsellor_page.locator(".chat-meta")).to_contain_text("Rådgivaren avslutade")
    counsellor_page.get_by_role("button", name="Stäng fönstret").click()
    expect(counsellor_page.locator(".chat-panel")).to_have_count(0)
    # Dashboard updates (another young person arrives) do not bring it back.
    other = visitor.context.browser.new_context(locale="sv-SE")
    try:
        second = other.new_page()
        second.goto(chat_server.url + "/chat/")
        second.get_by_role("button", name="Starta chatten").click()
        expect(counsellor_page.locator("#queue-table tbody tr")).to_have_count(1)
        counsellor_page.wait_for_timeout(1000)
        expect(counsellor_page.locator(".chat-panel")).to_have_count(0)
        closed = counsellor_page.locator("#mine-closed")
        expect(closed).to_contain_text(f"Chatt #{conversation.pk}")
        closed.get_by_role("button", name="Öppna igen").click()
        expect(counsellor_page.locator(".chat-panel")).to_have_count(1)
        expect(counsellor_page.get_by_role("button", name="Spara klassificering")).to_be_visible()
        expect(counsellor_page.locator("#mine-closed-box")).to_be_hidden()
    finally:
        other.close()


def test_axe_finds_nothing_on_the_chat_page_and_the_console(visitor, counsellor_page, chat_server):
    visitor.goto(chat_server.url + "/chat/")
    results = Axe().run(visitor, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()
    start_and_claim(visitor, counsellor_page, chat_server)
    visitor_says(visitor, "Hej")
    expect(counsellor_page.get_by_role("log")).to_contain_text("Hej")
    for page in (visitor, counsellor_page):
        results = Axe().run(page, options=WCAG_22_AA)
        assert results.violations_count == 0, results.generate_report()


def test_closed_chat_shows_when_it_opens_and_where_to_get_help(visitor, chat_server):
    visitor.goto(chat_server.url + "/chat/")
    expect(visitor.get_by_role("heading", name="Chatten är stängd just nu")).to_be_visible()
    expect(visitor.get_by_role("link", name="112").first).to_be_visible()
    results = Axe().run(visitor, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


def test_identifying_details_get_a_gentle_reminder_but_can_still_be_sent(visitor, counsellor_page, chat_server):
    start_and_claim(visitor, counsellor_page, chat_server)
    box = visitor.get_by_label("Skriv ditt meddelande")
    box.fill("Ring mig på 070-123 45 67")
    box.press("Enter")
    expect(visitor.get_by_text("Det ser ut som ett telefonnummer.")).to_be_visible()
    expect(box).to_have_value("Ring mig på 070-123 45 67")
    expect(box).to_be_focused()
    box.press("Enter")
    expect(counsellor_page.get_by_role("log")).to_contain_text("Ring mig på 070-123 45 67")


def test_queue_place_survives_a_reload(visitor, counsellor_page, chat_server):
    visitor.goto(chat_server.url + "/chat/")
    visitor.get_by_role("radio", name="13–15 år").check()  # noqa: RUF001
    visitor.get_by_role("button", name="Starta chatten").click()
    expect(visitor.get_by_text("Du är näst på tur.", exact=True)).to_be_visible()
    visitor_says(visitor, "Hej, är det någon där?")
    visitor.reload()
    expect(visitor.get_by_text("Du är näst på tur.", exact=True)).to_be_visible()
    expect(visitor.locator("#log .from-visitor .body")).to_have_text(["Hej, är det någon där?"])
    expect(counsellor_page.locator("#queue-table tbody tr")).to_have_count(1)
    expect(counsellor_page.locator("#queue-table")).to_contain_text("13–15 år")  # noqa: RUF001


def off_the_browser_thread(work, *args):
    """Runs ``work`` (services that broadcast) in a thread of its own: Playwright's
    event loop owns this one, where the channel layer cannot be reached synchronously."""

    def run():
        try:
            work(*args)
        finally:
            db_connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def claim_all(chats, counsellor):
    for chat in chats:
        services.conversation_claim(conversation_id=chat.pk, counsellor=counsellor)


def end_and_classify(chats, counsellor):
    for chat in chats:
        services.conversation_end(conversation_id=chat.pk, reason=Conversation.EndReason.VISITOR_ENDED)
        services.conversation_classify(
            conversation_id=chat.pk, actor=counsellor, categories=["other"], outcome="support"
        )


def test_the_console_stays_flat_over_a_shift_of_fifty_chats(counsellor_page, chat_server):
    maja = CounsellorProfile.objects.get(alias="Maja").user
    panels = counsellor_page.locator(".chat-panel")
    closed = counsellor_page.locator("#mine-closed li")
    expect(counsellor_page.locator("#queue-empty")).to_have_text("Ingen väntar just nu.")

    def dom_nodes() -> int:
        return int(counsellor_page.evaluate("() => document.getElementsByTagName('*').length"))

    before = dom_nodes()
    handled = 0
    while handled < 50:
        # Three at a time, the default cap: each opens on the console by itself.
        batch = [
            Conversation.objects.create(token_hash=f"shift-{handled + n}", queued_at=timezone.now()) for n in range(3)
        ]
        off_the_browser_thread(claim_all, batch, maja)
        until_count(counsellor_page, ".chat-panel", 3)
        expect(panels).to_have_count(3)
        for chat in batch:
            expect(counsellor_page.locator(f"#chat-{chat.pk} .chat-meta")).to_contain_text("pågår")
        for _ in batch:
            panels.first.get_by_role("button", name="Stäng fönstret").click()
        until_count(counsellor_page, ".chat-panel", 0)
        expect(panels).to_have_count(0)
        until_count(counsellor_page, "#mine-closed li", 3)
        expect(closed).to_have_count(3)
        off_the_browser_thread(end_and_classify, batch, maja)
        until_count(counsellor_page, "#mine-closed li", 0)
        expect(closed).to_have_count(0)
        handled += len(batch)
    assert Conversation.objects.filter(classification__isnull=False).count() == handled
    assert dom_nodes() == before


def test_a_long_queue_shows_its_front_and_how_many_more_wait(browser, chat_server):
    # On a big evening a console lists the front of the queue (urgent and
    # longest-waiting first) and says how many more are waiting.
    open_all_week()
    waiting = selectors.DASHBOARD_QUEUE_ROWS + 3
    Conversation.objects.bulk_create(
        Conversation(token_hash=f"long-{n}", queued_at=timezone.now()) for n in range(waiting)
    )
    page = open_console(browser, chat_server)
    try:
        expect(page.locator("#queue-count")).to_have_text(str(waiting))
        expect(page.locator("#queue-table tbody tr")).to_have_count(selectors.DASHBOARD_QUEUE_ROWS)
        expect(page.locator("#queue-empty")).to_have_text(
            f"Här visas de {selectors.DASHBOARD_QUEUE_ROWS} första. 3 till väntar."
        )
    finally:
        page.context.close()
