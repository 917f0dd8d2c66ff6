"""Letters (Brevlådan) end to end over HTTP: the young person's pages and the console's Brev tab."""

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from retention.models import RetentionRun
from retention.tasks import run_retention_policy
from staff.roles import Role
from supportline.letters import selectors, services
from supportline.letters.models import Letter, LetterMessage
from tests.factories import StaffUserFactory, login_verified

pytestmark = pytest.mark.django_db

CODE = re.compile(r"[2-9A-Z]{4}(?:-[2-9A-Z]{4}){4}")
SECRET_TEXT = "Jag heter ingenting men det här är hemligt: blåbärspaj-7731"


def staff_client(role=Role.COUNSELLOR):
    user = StaffUserFactory(role=role)
    client = Client()
    login_verified(client, user)
    return user, client


def board(client):
    response = client.get("/admin/supportline/letter/console/")
    assert response.status_code == 200
    return response.json()


def act(client, letter_id, **body):
    return client.post(
        f"/admin/supportline/letter/console/{letter_id}/", json.dumps(body), content_type="application/json"
    )


def write_letter(client, text=SECRET_TEXT, **extra):
    """Posts a letter, follows the redirect to the code page, and returns (code, every response seen)."""
    posted = client.post("/chat/brev/skriv/", {"text": text, **extra})
    assert posted.status_code == 302
    shown = client.get(posted["Location"])
    assert shown.status_code == 200
    found = CODE.search(shown.text)
    assert found, shown.text
    return found.group(0), [posted, shown]


def test_the_whole_round_trip(client):
    code, responses = write_letter(client, age_band="13_15", topic="online")
    assert "Vi svarar inom tre vardagar" in responses[1].text
    letter = Letter.objects.get()
    assert (letter.status, letter.age_band, letter.topic) == (Letter.Status.WAITING, "13_15", "online")

    counsellor, staff = staff_client()
    queued = board(staff)["queue"]
    assert [row["id"] for row in queued] == [letter.pk]
    detail = staff.get(f"/admin/supportline/letter/console/{letter.pk}/").json()
    assert detail["messages"][0]["text"] == SECRET_TEXT
    assert act(staff, letter.pk, action="claim").status_code == 200
    assert act(staff, letter.pk, action="draft", text="Ett utkast").json()["draft"] == "Ett utkast"
    # A draft is not an answer: the young person sees nothing yet.
    opened = client.post("/chat/brev/oppna/", {"code": code}, follow=True)
    assert "Ett utkast" not in opened.text
    sent = act(staff, letter.pk, action="send", text="Tack för att du skrev. Det är inte ditt fel.")
    assert sent.status_code == 200
    assert sent.json()["draft"] == ""
    assert board(staff)["queue"] == []

    assert "Fortsätt läsa ditt brev" in client.get("/chat/brev/").text
    page = client.get("/chat/brev/las/")
    assert "Det är inte ditt fel." in page.text
    assert counsellor.username not in page.text and counsellor.first_name not in page.text
    replied = client.post("/chat/brev/las/", {"text": "Tack, jag vill fråga en sak till."})
    assert replied.status_code == 302
    assert "Ditt svar är skickat" in client.get(replied["Location"]).text
    letter.refresh_from_db()
    assert letter.status == Letter.Status.WAITING
    mine = board(staff)["mine"]
    assert [row["id"] for row in mine] == [letter.pk]
    assert [m["text"] for m in act(staff, letter.pk, action="close").json()["messages"]][-1] == (
        "Tack, jag vill fråga en sak till."
    )
    closed = client.get("/chat/brev/las/")
    assert "avslutat" in closed.text
    assert 'name="text"' not in closed.text


def test_a_reload_never_sends_a_second_letter_and_the_code_is_shown_once(client):
    code, (posted, _shown) = write_letter(client)
    assert client.head(posted["Location"]).status_code == 405  # a probe does not use up the showing
    again = client.get(posted["Location"])
    assert again.status_code == 302
    assert code not in again.text
    assert Letter.objects.count() == 1


def test_no_code_in_any_url(client):
    code, responses = write_letter(client)
    responses.append(client.post("/chat/brev/oppna/", {"code": code}))
    responses.append(client.get(responses[-1]["Location"]))
    responses.append(client.post("/chat/brev/las/", {"text": "Ett svar"}))
    plain = code.replace("-", "")
    for response in responses:
        location = response.get("Location", "")
        assert code not in location and plain not in location
        for url in re.findall(r'(?:href|action|src)="([^"]*)"', response.content.decode()):
            assert plain not in url.replace("-", "").upper(), url
        assert "no-store" in response["Cache-Control"]


def test_a_wrong_code_says_so_and_keeps_what_was_typed(client):
    write_letter(client)
    other = Client()
    response = other.post("/chat/brev/oppna/", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    assert response.status_code == 404
    assert "Vi hittar inget brev med den koden" in response.text
    assert "AAAA-BBBB-CCCC-DDDD-EEEE" in response.text
    assert other.get("/chat/brev/las/").status_code == 302  # nothing opened


def test_bad_input_is_explained_and_kept(client, settings):
    settings.SUPPORTLINE_LETTER_MAX_LENGTH = 20
    response = client.post("/chat/brev/skriv/", {"text": "x" * 21 + "behåll mig"})
    assert response.status_code == 400
    assert "högst 20 tecken" in response.text
    assert "behåll mig" in response.text
    assert client.post("/chat/brev/skriv/", {"text": "   "}).status_code == 400
    assert client.post("/chat/brev/skriv/", {"text": "hej", "topic": "nonsense"}).status_code == 400
    assert not Letter.objects.exists()


def test_new_letters_are_rate_limited(client, settings, monkeypatch):
    settings.SUPPORTLINE_LETTER_RATE_LIMIT = 2
    identity = f"client-{uuid.uuid4()}"
    monkeypatch.setattr("supportline.letters.views.request_client_key", lambda request: identity)
    write_letter(client)
    write_letter(client)
    limited = client.post("/chat/brev/skriv/", {"text": "Tredje brevet"})
    assert limited.status_code == 429
    assert "Vänta en stund" in limited.text
    assert "Tredje brevet" in limited.text
    assert Letter.objects.count() == 2


def test_code_lookups_are_rate_limited(client, settings, monkeypatch):
    settings.SUPPORTLINE_LETTER_CODE_RATE_LIMIT = 3
    code, _ = write_letter(client)
    identity = f"client-{uuid.uuid4()}"
    monkeypatch.setattr("supportline.letters.views.request_client_key", lambda request: identity)
    for _attempt in range(3):
        client.post("/chat/brev/oppna/", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    blocked = client.post("/chat/brev/oppna/", {"code": code})
    assert blocked.status_code == 429
    assert "Vänta en stund" in blocked.text


def test_text_and_drafts_are_encrypted_at_rest_and_only_hashes_of_the_code_are_kept(client):
    code, _ = write_letter(client)
    letter = Letter.objects.get()
    _counsellor, staff = staff_client()
    act(staff, letter.pk, action="claim")
    act(staff, letter.pk, action="draft", text="Utkast med hemlis-4242")
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM supportline_lettermessage")
        stored = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT draft, code_lookup, code_verifier FROM supportline_letter")
        draft, lookup, verifier = cursor.fetchone()
    assert stored and all("blåbärspaj" not in value for value in stored)
    assert "hemlis" not in draft
    plain = code.replace("-", "")
    assert plain[:8] not in lookup and plain[8:] not in verifier
    assert verifier.startswith("scrypt$")
    assert selectors.letter_for_code(code.lower().replace("-", " ")) == letter


def test_every_staff_read_is_audited_and_others_cannot_read_a_claimed_letter(client):
    write_letter(client)
    letter = Letter.objects.get()
    first, first_client = staff_client()
    _second, second_client = staff_client()
    first_client.get(f"/admin/supportline/letter/console/{letter.pk}/")
    act(first_client, letter.pk, action="claim")
    reads = AuditEvent.objects.filter(action="supportline.letter.viewed", object_id=str(letter.pk))
    assert list(reads.values_list("actor_label", flat=True)) == [first.username, first.username]
    refused = second_client.get(f"/admin/supportline/letter/console/{letter.pk}/")
    assert refused.status_code == 403
    assert SECRET_TEXT not in refused.text
    assert act(second_client, letter.pk, action="send", text="Nej").status_code == 403
    supervisor, supervisor_client = staff_client(Role.SUPERVISOR)
    assert supervisor_client.get(f"/admin/supportline/letter/console/{letter.pk}/").status_code == 200
    assert AuditEvent.objects.filter(action="supportline.letter.viewed", actor=supervisor).count() == 1
    # Nobody else reaches the text at all.
    _analyst, analyst_client = staff_client(Role.ANALYST)
    assert analyst_client.get(f"/admin/supportline/letter/console/{letter.pk}/").status_code == 403


def test_supervisors_see_overdue_letters_and_reassign(client):
    write_letter(client)
    letter = Letter.objects.get()
    Letter.objects.filter(pk=letter.pk).update(waiting_since=timezone.now() - timedelta(days=8))
    _counsellor, counsellor_client = staff_client()
    other, _ = staff_client()
    _supervisor, supervisor_client = staff_client(Role.SUPERVISOR)
    assert board(counsellor_client)["supervisor"] is False
    seen = board(supervisor_client)
    assert [row["id"] for row in seen["overdue"]] == [letter.pk]
    act(counsellor_client, letter.pk, action="claim")
    act(counsellor_client, letter.pk, action="draft", text="halvfärdigt")
    assert act(counsellor_client, letter.pk, action="reassign", to=other.pk).status_code == 403
    moved = act(supervisor_client, letter.pk, action="reassign", to=other.pk)
    assert moved.status_code == 200
    letter.refresh_from_db()
    assert letter.claimed_by == other and letter.draft == ""
    assert act(counsellor_client, letter.pk, action="send", text="för sent").status_code == 403


def test_risk_marking_and_the_escalation_checklist_work_on_letters(client):
    write_letter(client, topic="other")
    write_letter(Client(), text="Ett andra brev")
    first, second = Letter.objects.order_by("pk")
    _counsellor, staff = staff_client()
    act(staff, second.pk, action="claim")
    marked = act(staff, second.pk, action="risk").json()
    assert marked["imminent_risk"] is True and marked["letter"]["risk"] is True
    assert [row["id"] for row in board(staff)["queue"]] == [second.pk, first.pk]  # urgent first
    stepped = act(staff, second.pk, action="step", step="called_112").json()
    assert stepped["escalation_steps"] == ["called_112"]
    assert act(staff, second.pk, action="step", step="nonsense").status_code == 409
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"supportline.letter.risk_marked", "supportline.letter.escalation.called_112"} <= actions


def test_closed_letters_are_purged_after_the_retention_period(client, settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "letters": 90}
    code, _ = write_letter(client)
    _open_letter_code, _ = write_letter(Client(), text="Fortfarande öppet")
    letter = Letter.objects.order_by("pk")[0]
    _counsellor, staff = staff_client()
    act(staff, letter.pk, action="claim")
    act(staff, letter.pk, action="close")
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=89), tick=False):
        run_retention_policy("letters")
        assert Letter.objects.filter(pk=letter.pk).exists()
    with time_machine.travel(start + timedelta(days=91), tick=False):
        run_retention_policy("letters")
    assert not Letter.objects.filter(pk=letter.pk).exists()
    assert not LetterMessage.objects.filter(letter_id=letter.pk).exists()
    assert Letter.objects.count() == 1  # the open thread stays
    assert selectors.letter_for_code(code) is None
    run = RetentionRun.objects.filter(kind="letters").latest("pk")
    assert run.deleted >= 1


def test_the_letters_page_is_there_in_english_too(client):
    assert client.get("/en/chat/letters/").status_code == 200
    assert "three working days" in client.get("/en/chat/letters/").text


def test_the_chat_page_offers_letters_when_closed(client):
    assert "/chat/brev/" in client.get("/chat/").text


def test_the_admin_start_page_links_counsellors_to_the_console_with_counts(client):
    write_letter(client)
    _counsellor, staff = staff_client()
    page = staff.get("/admin/")
    assert "/admin/supportline/conversation/console/" in page.text
    assert "1 obesvarat brev" in page.text
    assert "0 chattar väntar i kön" in page.text
    _analyst, analyst_client = staff_client(Role.ANALYST)
    assert "obesvarat" not in analyst_client.get("/admin/").text


def test_the_board_costs_the_same_queries_for_one_letter_or_many(client):
    _counsellor, staff = staff_client()
    write_letter(client)
    act(staff, Letter.objects.get().pk, action="claim")
    with CaptureQueriesContext(connection) as one:
        board(staff)
    for n in range(8):
        letter = services.letter_write(text=f"Brev {n}").letter
        other: Any = StaffUserFactory(role=Role.COUNSELLOR)
        services.letter_claim(letter_id=letter.pk, counsellor=other)
    with CaptureQueriesContext(connection) as many:
        rows = board(staff)["queue"]
    assert len(rows) == 9
    assert len(many.captured_queries) == len(one.captured_queries)


def test_an_answered_thread_nobody_comes_back_to_is_closed_and_then_purged(client, settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "letters": 90}
    settings.SUPPORTLINE_LETTER_IDLE_CLOSE_DAYS = 60
    write_letter(client)
    write_letter(Client(), text="Ingen har svarat än")
    answered, waiting = Letter.objects.order_by("pk")
    _counsellor, staff = staff_client()
    act(staff, answered.pk, action="claim")
    act(staff, answered.pk, action="send", text="Tack för att du skrev. Vi finns här.")
    answered.refresh_from_db()
    assert answered.status == Letter.Status.ANSWERED
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=59), tick=False):
        run_retention_policy("letters")
    answered.refresh_from_db()
    assert answered.status == Letter.Status.ANSWERED
    with time_machine.travel(start + timedelta(days=61), tick=False):
        run_retention_policy("letters")
    answered.refresh_from_db()
    assert answered.status == Letter.Status.CLOSED
    assert answered.closed_by == Letter.ClosedBy.INACTIVITY
    with time_machine.travel(start + timedelta(days=61 + 91), tick=False):
        run_retention_policy("letters")
    assert not Letter.objects.filter(pk=answered.pk).exists()
    # A letter still waiting for a counsellor is never closed for inactivity.
    waiting.refresh_from_db()
    assert waiting.status == Letter.Status.WAITING
