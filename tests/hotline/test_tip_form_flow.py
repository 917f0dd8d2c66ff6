"""The reporter's form as a new user meets it: post/redirect/get, one tip per page, clear limits."""

import re
import uuid

import pytest
from django.db import connection
from django.test import Client

from hotline import form_tokens
from hotline.models import Tip
from hotline.views import RECEIPT_COOKIE
from tests.hotline.conftest import TIP_FORM, post_tip_form

pytestmark = pytest.mark.django_db

RECEIPT = "/hotline/kvitto/"


def shown_code(response) -> str | None:
    match = re.search(r'id="receipt-code">([^<]+)<', response.text)
    return match.group(1) if match else None


def form_token_on(response) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', response.text)
    assert match is not None
    return match.group(1)


def test_the_receipt_is_shown_once_after_a_redirect_and_a_reload_creates_nothing(client):
    page = client.get("/hotline/")
    sent = client.post("/hotline/", {**TIP_FORM, "form_token": form_token_on(page)})
    assert sent.status_code == 303
    assert sent["Location"] == RECEIPT
    assert "receipt-code" not in sent.text

    first = client.get(RECEIPT)
    code = shown_code(first)
    assert code is not None
    assert code not in sent["Location"]
    assert first.cookies[RECEIPT_COOKIE]["max-age"] == 0, "the page deletes the cookie that carried the code"

    reloaded = client.get(RECEIPT)
    assert reloaded.status_code == 200
    assert shown_code(reloaded) is None
    assert code not in reloaded.text
    assert "Koden visas bara en gång" in reloaded.text
    assert Tip.objects.count() == 1


def test_the_cookie_that_carries_the_code_is_short_lived_scoped_and_unreadable():
    sent = post_tip_form(Client(), TIP_FORM)
    morsel = sent.cookies[RECEIPT_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == RECEIPT
    assert morsel["max-age"] == "" and morsel["expires"] == "", "gone when the browser closes"
    browser = Client()
    browser.cookies[RECEIPT_COOKIE] = morsel.value
    code = shown_code(browser.get(RECEIPT))
    assert code is not None
    assert code not in morsel.value and code.replace("-", "") not in morsel.value


def test_a_code_that_waited_too_long_is_not_shown(client, monkeypatch):
    post_tip_form(client, TIP_FORM)
    monkeypatch.setattr("hotline.views.RECEIPT_COOKIE_SECONDS", -1)
    late = client.get(RECEIPT)
    assert shown_code(late) is None
    assert "Koden visas bara en gång" in late.text


def test_a_double_post_of_one_page_stores_one_tip_and_never_a_second_code(client):
    page = client.get("/hotline/")
    data = {**TIP_FORM, "form_token": form_token_on(page)}
    first = client.post("/hotline/", data)
    again = client.post("/hotline/", data)
    assert first.status_code == again.status_code == 303
    assert RECEIPT_COOKIE not in again.cookies, "no new code for the second POST"
    assert Tip.objects.count() == 1


def test_the_session_is_not_used_and_no_session_cookie_is_set(client):
    response = post_tip_form(client, TIP_FORM, follow=True)
    assert shown_code(response) is not None
    assert "sessionid" not in client.cookies
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_session")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("kind", ["missing", "forged", "too old"])
def test_a_missing_forged_or_old_token_keeps_the_text_and_offers_a_fresh_one(client, monkeypatch, kind):
    token = {"missing": "", "forged": "forged:abc", "too old": form_tokens.issue()}[kind]
    if kind == "too old":
        monkeypatch.setattr(form_tokens, "MAX_AGE_SECONDS", -1)
    response = client.post("/hotline/", {**TIP_FORM, "description": "Det jag skrev", "form_token": token})
    monkeypatch.undo()
    assert response.status_code == 400
    assert "Sidan hann bli för gammal" in response.text
    assert "Det jag skrev" in response.text
    assert form_tokens.is_valid(form_token_on(response))
    assert not Tip.objects.exists()


def test_an_invalid_form_keeps_its_token_so_the_corrected_form_is_sent_once(client):
    page = client.get("/hotline/")
    token = form_token_on(page)
    wrong = client.post("/hotline/", {**TIP_FORM, "description": "", "form_token": token})
    assert wrong.status_code == 400
    assert form_token_on(wrong) == token
    assert client.post("/hotline/", {**TIP_FORM, "form_token": token}).status_code == 303
    assert Tip.objects.count() == 1


def test_a_too_long_description_says_how_long_it_is_and_keeps_it(client, settings):
    settings.HOTLINE_DESCRIPTION_MAX_LENGTH = 5000
    text = "a" * 5412
    response = post_tip_form(client, {**TIP_FORM, "description": text})
    assert response.status_code == 400
    assert "Texten är för lång: högst 5\xa0000 tecken. Du har skrivit 5\xa0412." in response.text
    assert text in response.text
    description = re.search(r'<textarea name="description"[^>]*>', response.text)
    assert description is not None
    assert "maxlength" not in description.group(0), "a browser would cut pasted text short without a word"
    assert 'data-max-length="5000"' in response.text
    english = client.post("/en/hotline/", {**TIP_FORM, "description": text, "form_token": form_tokens.issue()})
    assert "The text is too long: at most 5,000 characters. You have written 5,412." in english.text


def test_line_breaks_count_as_one_character_as_the_browser_counts_them(client, settings):
    settings.HOTLINE_DESCRIPTION_MAX_LENGTH = 20
    ten_lines = "\r\n".join(["x"] * 10)  # 19 characters in the browser, 28 bytes on the wire
    assert post_tip_form(client, {**TIP_FORM, "description": ten_lines}).status_code == 303


def test_the_error_summary_names_each_step_with_errors_and_links_to_its_field(client):
    response = post_tip_form(client, {**TIP_FORM, "urls": "", "place": "", "description": "", "category": ""})
    assert response.status_code == 400
    html = response.text
    summary = html[html.index('id="error-summary"') : html.index('data-step="1"')]
    assert 'href="#id_urls">Steg 1 av 4: Var såg du det?</a>' in summary
    assert 'href="#id_category_0">Steg 2 av 4: Vad handlar det om?</a>' in summary
    assert 'href="#id_description">Steg 3 av 4: När och vad?</a>' in summary
    assert "Steg 4 av 4" not in summary
    assert "Berätta vad du såg: Skriv några ord om vad du såg." in summary


def test_the_rate_limit_says_how_many_minutes_to_wait(client, settings, monkeypatch):
    settings.HOTLINE_TIP_RATE_LIMIT = 1
    settings.HOTLINE_TIP_RATE_WINDOW_SECONDS = 600
    identity = f"client-{uuid.uuid4()}"
    monkeypatch.setattr("hotline.views.request_client_key", lambda request: identity)
    # 4 min 50 s into a ten-minute window: 5 min 10 s are left, so "5 minuter" would be too soon.
    monkeypatch.setattr("privacy.ratelimit.time.time", lambda: 600 * 2_900_000 + 290.0)
    assert post_tip_form(client, TIP_FORM).status_code == 303
    limited = post_tip_form(client, TIP_FORM)
    assert limited.status_code == 429
    assert "Vänta 6 minuter och försök sedan igen." in limited.text
    assert limited["Retry-After"] == "310"
