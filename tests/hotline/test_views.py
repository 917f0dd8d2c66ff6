import re
import uuid

import pytest
from django.urls import reverse

from hotline import selectors, services
from hotline.models import PoliceHandoff, Tip, TipMessage
from tests.hotline.conftest import TIP_FORM, post_tip_form, submit_tip

pytestmark = pytest.mark.django_db

# With a tracking parameter, which the site strips before it stores the address.
FORM = {**TIP_FORM, "urls": "https://example.com/x?utm_source=a"}


def no_store(response):
    return "no-store" in response["Cache-Control"]


def test_the_form_page_is_swedish_and_english_and_never_cached(client):
    response = client.get("/hotline/")
    assert response.status_code == 200
    assert no_store(response)
    assert "Skicka aldrig bilder eller filmer" in response.text
    assert 'type="file"' not in response.text
    english = client.get("/en/hotline/")
    assert english.status_code == 200
    assert "Never send pictures or videos" in english.text


def test_submitting_a_tip_shows_the_receipt_once(client):
    response = post_tip_form(client, FORM, follow=True)
    assert response.redirect_chain == [("/hotline/kvitto/", 303)]
    assert response.status_code == 200
    assert no_store(response)
    match = re.search(r'id="receipt-code">([^<]+)<', response.text)
    assert match is not None
    code = match.group(1)
    tip = Tip.objects.get()
    assert selectors.tip_for_receipt(code) == tip
    assert [u.url for u in tip.urls.all()] == ["https://example.com/x"]
    assert tip.status == Tip.Status.RECEIVED
    assert not PoliceHandoff.objects.exists()


def test_errors_sit_next_to_their_field_and_keep_what_was_typed(client):
    response = post_tip_form(client, {**FORM, "urls": "javascript:alert(1)", "description": "Min text här"})
    assert response.status_code == 400
    assert not Tip.objects.exists()
    html = response.text
    assert "Min text här" in html
    assert "javascript:alert(1)" in html
    assert 'aria-invalid="true"' in html
    # The error message is rendered inside the URL field's group, before the next field.
    urls_block = html[html.index('for="id_urls"') : html.index('for="id_place"')]
    assert "ingen webbadress" in urls_block


def test_a_filled_honeypot_stores_nothing(client):
    response = client.post("/hotline/", {**FORM, "website": "http://spam.example"})
    assert response.status_code == 200
    assert not Tip.objects.exists()
    assert "receipt-code" not in response.text


def test_submissions_are_rate_limited_per_anonymous_client(client, settings, monkeypatch):
    settings.HOTLINE_TIP_RATE_LIMIT = 2
    identity = f"client-{uuid.uuid4()}"
    monkeypatch.setattr("hotline.views.request_client_key", lambda request: identity)
    assert post_tip_form(client, FORM).status_code == 303
    assert post_tip_form(client, FORM).status_code == 303
    limited = post_tip_form(client, {**FORM, "description": "Tredje"})
    assert limited.status_code == 429
    assert "Tredje" in limited.text
    assert Tip.objects.count() == 2


def test_an_urgent_tip_goes_to_the_police_at_once_and_jumps_the_queue(client, django_capture_on_commit_callbacks):
    submit_tip()
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_tip_form(client, {**FORM, "urgent": "on"}, follow=True)
    assert response.status_code == 200
    assert "112" in response.text
    urgent = Tip.objects.get(priority=Tip.Priority.URGENT)
    assert urgent.handoff.status == PoliceHandoff.Status.PENDING
    assert len(callbacks) == 1  # the delivery task, enqueued after commit
    assert Tip.objects.in_queue_order().first() == urgent


def test_status_page_with_a_wrong_code_says_so_and_keeps_it(client):
    response = client.post("/hotline/status/", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    assert response.status_code == 404
    assert no_store(response)
    assert "Vi hittar inget tips med den koden" in response.text
    assert "AAAA-BBBB-CCCC-DDDD-EEEE" in response.text


def test_status_page_shows_fixed_status_and_questions_and_takes_an_answer(client, analyst):
    submitted = submit_tip()
    services.tip_ask_reporter(tip_id=submitted.tip.pk, actor=analyst, body="Vilken app var det?")
    page = client.post("/hotline/status/", {"code": submitted.receipt_code})
    assert page.status_code == 200
    assert no_store(page)
    assert "Vi har tagit emot ditt tips" in page.text
    assert "Vilken app var det?" in page.text
    assert analyst.username not in page.text
    answered = client.post("/hotline/status/", {"code": submitted.receipt_code, "answer": "Det var i Exempelappen."})
    assert "Tack! Vi har fått ditt svar." in answered.text
    assert "Det var i Exempelappen." in answered.text
    reply = TipMessage.objects.get(sender=TipMessage.Sender.REPORTER)
    assert reply.body == "Det var i Exempelappen."


def test_status_attempts_are_rate_limited(client, settings, monkeypatch):
    settings.HOTLINE_STATUS_RATE_LIMIT = 3
    identity = f"client-{uuid.uuid4()}"
    monkeypatch.setattr("hotline.views.request_client_key", lambda request: identity)
    submitted = submit_tip()
    for _ in range(3):
        client.post("/hotline/status/", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    blocked = client.post("/hotline/status/", {"code": submitted.receipt_code})
    assert blocked.status_code == 429
    assert re.search(r"Vänta \d+ minut(er)? och försök sedan igen", blocked.text)


def test_status_url_is_translated_under_en(client):
    assert reverse("hotline:status") == "/hotline/status/"
    assert client.get("/en/hotline/status/").status_code == 200
