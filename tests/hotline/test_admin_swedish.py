"""The analysts' screens: Swedish throughout, messages that say what was done, failed hand-offs first."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hotline import services
from hotline.models import PoliceHandoff
from tests.hotline.conftest import submit_tip

pytestmark = pytest.mark.django_db


def column_headers(html: str) -> list[str]:
    """The change list's column titles (the action checkbox column has none)."""
    table = html[html.index('id="result_list"') :]
    heads = re.findall(r'<div class="text">(.*?)</div>', table[: table.index("</thead>")], re.S)
    titles = [re.sub(r"<[^>]+>|\s+", " ", head).strip() for head in heads]
    return [title for title in titles if title]


def urgent_handoff(status: PoliceHandoff.Status, created_minutes_ago: int) -> PoliceHandoff:
    handoff = PoliceHandoff.objects.get(tip=submit_tip(urgent=True).tip)
    created = timezone.now() - timedelta(minutes=created_minutes_ago)
    PoliceHandoff.objects.filter(pk=handoff.pk).update(status=status, created_at=created)
    return handoff


def test_the_handoff_list_puts_failed_first_then_pending_then_delivered(analyst_client):
    delivered = urgent_handoff(PoliceHandoff.Status.DELIVERED, created_minutes_ago=1)
    pending = urgent_handoff(PoliceHandoff.Status.PENDING, created_minutes_ago=2)
    old_failed = urgent_handoff(PoliceHandoff.Status.FAILED, created_minutes_ago=90)
    new_failed = urgent_handoff(PoliceHandoff.Status.FAILED, created_minutes_ago=30)
    delivering = urgent_handoff(PoliceHandoff.Status.DELIVERING, created_minutes_ago=3)
    response = analyst_client.get("/admin/hotline/policehandoff/")
    assert response.status_code == 200
    expected = [new_failed, old_failed, pending, delivering, delivered]
    assert [h.pk for h in response.context["cl"].result_list] == [h.pk for h in expected]
    # And in that order on the page the analyst reads.
    positions = [response.text.index(f"/admin/hotline/policehandoff/{h.pk}/change/") for h in expected]
    assert positions == sorted(positions)


def test_every_column_and_filter_of_the_tip_list_is_swedish(analyst_client):
    submit_tip(urgent=True)
    html = analyst_client.get("/admin/hotline/tip/").text
    assert column_headers(html) == [
        "Tips",
        "Mottaget",
        "Akut",
        "Kategori",
        "Status",
        "Granskas av",
        "Rapporterad förut",
        "Till polisen",
        "Tid till borttagning",
    ]
    titles = [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<summary>(.*?)</summary>", html, re.S)]
    assert titles == ["På status", "På kategori", "På prioritet", "På ålder"]
    for english in ("Received at", "Assigned to", "By category", "By priority"):
        assert english not in html, english


def test_every_column_and_field_of_the_handoff_screens_is_swedish(analyst_client):
    handoff = urgent_handoff(PoliceHandoff.Status.FAILED, created_minutes_ago=5)
    listing = analyst_client.get("/admin/hotline/policehandoff/").text
    assert column_headers(listing) == [
        "Överlämning",
        "Tips",
        "Status",
        "Försök",
        "Skapad",
        "Levererad",
        "Polisens kvitto",
    ]
    assert "Hand-off " not in listing and "Attempt " not in listing
    page = analyst_client.get(f"/admin/hotline/policehandoff/{handoff.pk}/change/").text
    labels = [re.sub(r"\s+", " ", label).strip() for label in re.findall(r"<label>(.*?)</label>", page, re.S)]
    assert labels == [
        "Tips:",
        "Idempotensnyckel:",
        "Status:",
        "Försök:",
        "Skapad:",
        "Nästa försök:",
        "Levererad:",
        "Polisens kvitto:",
        "Orsak till felet:",
    ]
    english = ("Idempotency key", "Created at", "Failure reason", "Next attempt at", "Acknowledgement", "Attempt ")
    assert not [label for label in english if label in page]


def follow_action(client, tip_id: int, action: str, **fields: str) -> str:
    response = client.post(f"/admin/hotline/tip/{tip_id}/change/", {"action": action, **fields}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1, messages
    return messages[0]


def test_each_action_says_what_it_did(analyst_client, django_capture_on_commit_callbacks):
    tip = submit_tip().tip
    assert follow_action(analyst_client, tip.pk, "start") == "Du granskar nu tipset. Det är låst till dig."
    assert follow_action(analyst_client, tip.pk, "assess", outcome="illegal") == "Bedömningen är sparad."
    with django_capture_on_commit_callbacks(execute=False):
        assert follow_action(analyst_client, tip.pk, "forward") == "Tipset skickades till polisen."
    said = follow_action(analyst_client, tip.pk, "takedown", host_provider="Exempelvärd AB")
    assert said == "Begäran om borttagning är registrerad."
    said = follow_action(analyst_client, tip.pk, "recheck", still_online="yes")
    assert said == "Kontrollen är sparad: innehållet finns kvar."
    assert follow_action(analyst_client, tip.pk, "confirm_removal") == "Borttagningen är bekräftad."
    assert follow_action(analyst_client, tip.pk, "close") == "Tipset är avslutat."


def test_the_reporters_words_are_labelled_as_the_reporters(analyst_client, analyst):
    tip = submit_tip(description="Jag såg en profil.").tip
    services.tip_ask_reporter(tip_id=tip.pk, actor=analyst, body="Vilken app?")
    services.tip_reply_as_reporter(tip_id=tip.pk, body="Exempelappen.")
    html = analyst_client.get(f"/admin/hotline/tip/{tip.pk}/change/").text
    assert "Tipsarens svar i formuläret" in html
    assert re.search(r"Tipsaren: vad hen såg</th><td>Jag såg en profil\.", html)
    conversation = html[html.index('id="tip-conversation"') :]
    assert re.search(r"<strong>Fråga från ECPAT \(.+?\)</strong>[^<]*: Vilken app\?", conversation)
    assert re.search(r"<strong>Tipsarens svar</strong>[^<]*: Exempelappen\.", conversation)
    assert "<strong>Du</strong>" not in conversation
