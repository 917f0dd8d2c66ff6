"""The visitor's pages and the console's gate, through Django's test client."""

from typing import Any

import pytest
from django.test import Client

from staff.roles import Role
from supportline import services
from supportline.models import Conversation, Feedback, OtherHelp
from tests.factories import StaffUserFactory, login_verified
from tests.supportline.helpers import open_all_week

CONSOLE = "/admin/supportline/conversation/console/"

pytestmark = pytest.mark.django_db


def test_closed_page_shows_help_and_112(client):
    OtherHelp.objects.create(name="BRIS", phone="116 111")
    response = client.get("/chat/")
    body = response.content.decode()
    assert "Chatten är stängd just nu" in body
    assert 'href="tel:112"' in body and "BRIS" in body and 'href="/kunskap/"' in body


def test_open_page_has_the_pre_chat_card_and_nothing_preselected(client):
    open_all_week()
    body = client.get("/chat/").content.decode()
    assert "Du är anonym" in body and "30 dagar" in body and "liv är i fara" in body
    assert "checked" not in body
    assert 'role="log"' in body
    assert "<script>" not in body  # strict CSP: data is JSON, not inline script


def test_english_page(client):
    open_all_week()
    assert client.get("/en/chat/").status_code == 200


def test_leave_beacon_needs_no_csrf_token_and_ends_the_chat():
    open_all_week()
    started = services.conversation_start()
    client = Client(enforce_csrf_checks=True)
    response = client.post("/chat/lamna/", data=started.token, content_type="text/plain")
    assert response.status_code == 204
    started.conversation.refresh_from_db()
    assert started.conversation.end_reason == Conversation.EndReason.LEFT
    assert client.post("/chat/lamna/", data="nonsense", content_type="text/plain").status_code == 204


def test_feedback_is_stored_without_a_link_to_the_chat(client):
    response = client.post("/chat/aterkoppling/", {"answer": "partly"})
    assert response.status_code == 302
    assert list(Feedback.objects.values_list("answer", flat=True)) == ["partly"]


def test_feedback_without_an_answer_says_so(client):
    response = client.post("/chat/aterkoppling/", {"answer": "maybe"})
    assert response.status_code == 400
    assert "Välj ett av svaren" in response.content.decode()


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.SUPERVISOR])
def test_console_opens_for_verified_chat_staff(client, role):
    user: Any = StaffUserFactory(role=role)
    login_verified(client, user)
    response = client.get(CONSOLE)
    assert response.status_code == 200
    assert 'data-ws-path="/ws/counsellor/"' in response.content.decode()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.EDITOR])
def test_console_and_chat_list_refuse_analysts_and_editors(client, role):
    login_verified(client, StaffUserFactory(role=role))
    assert client.get(CONSOLE).status_code == 403
    assert client.get("/admin/supportline/conversation/").status_code == 403


def test_console_refuses_a_counsellor_without_the_second_factor(client):
    client.force_login(StaffUserFactory(role=Role.COUNSELLOR))
    assert client.get(CONSOLE).status_code in (302, 403)


def test_console_sends_anonymous_visitors_to_login(client):
    response = client.get(CONSOLE)
    assert response.status_code == 302


def test_demo_seed_opens_the_chat_once():
    from django.core.management import call_command

    call_command("seed_supportline")
    call_command("seed_supportline")
    assert OtherHelp.objects.count() == 3
    assert "Starta chatten" in Client().get("/chat/").content.decode()
