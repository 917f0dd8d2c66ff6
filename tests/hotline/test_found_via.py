"""How the reporter found the material: an optional question from a fixed list, stored with the tip."""

import pytest
from django.utils import translation

from hotline.forms import TipForm
from hotline.models import Tip
from tests.hotline.conftest import TIP_FORM, post_tip_form, submit_tip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def swedish():
    # An earlier request to /en/ leaves English active in this thread.
    with translation.override("sv"):
        yield


def test_the_question_is_optional_and_a_skipped_one_is_stored_blank(client):
    assert TipForm(data=TIP_FORM).is_valid()
    assert post_tip_form(client, TIP_FORM).status_code == 303
    assert Tip.objects.get().found_via == ""


def test_the_answer_is_stored_with_the_tip(client):
    assert post_tip_form(client, {**TIP_FORM, "found_via": "social_media"}).status_code == 303
    tip = Tip.objects.get()
    assert tip.found_via == Tip.FoundVia.SOCIAL_MEDIA
    assert tip.get_found_via_display() == "I sociala medier"


@pytest.mark.parametrize("value", ["facebook.com/some.person", "SOCIAL_MEDIA", "x" * 500])
def test_anything_outside_the_list_is_refused_in_swedish_without_echoing_it(client, value):
    response = post_tip_form(client, {**TIP_FORM, "found_via": value})
    assert response.status_code == 400
    assert "Välj ett av svaren i listan, eller hoppa över frågan." in response.text
    assert value not in response.text
    assert not Tip.objects.exists()


def test_the_error_summary_leads_to_step_one_and_what_was_typed_is_kept(client):
    response = post_tip_form(client, {**TIP_FORM, "found_via": "message", "description": ""})
    assert response.status_code == 400
    html = response.text
    assert 'value="message" required' not in html, "the question stays optional"
    checked = html[html.index('value="message"') : html.index(">", html.index('value="message"'))]
    assert "checked" in checked
    assert "Steg 1 av 4" not in html[html.index('id="error-summary"') : html.index('data-step="1"')]


def test_the_question_is_a_labelled_group_with_its_help_text(client):
    html = client.get("/hotline/").text
    step_one = html[html.index('data-step="1"') : html.index('data-step="2"')]
    assert "Hur hittade du det? (frivilligt)" in step_one
    assert "<legend" in step_one[step_one.index("Hur hittade du det?") - 200 :]
    assert 'aria-describedby="id_found_via_helptext"' in step_one
    assert step_one.count('name="found_via"') == len(Tip.FoundVia.choices)
    assert 'name="found_via" value="rather_not_say"' in step_one


def test_a_bad_value_names_step_one_in_the_summary(client):
    response = post_tip_form(client, {**TIP_FORM, "found_via": "nope"})
    html = response.text
    summary = html[html.index('id="error-summary"') : html.index('data-step="1"')]
    assert 'href="#id_found_via_0">Steg 1 av 4: Var såg du det?</a>' in summary


def test_the_analyst_sees_the_answer_read_only(analyst_client):
    answered = submit_tip(found_via=Tip.FoundVia.SEARCH_ENGINE).tip
    skipped = submit_tip().tip
    page = analyst_client.get(f"/admin/hotline/tip/{answered.pk}/change/").text
    assert "Hur det hittades</th><td>Via en sökmotor, till exempel Google</td>" in page
    assert 'name="found_via"' not in page
    other = analyst_client.get(f"/admin/hotline/tip/{skipped.pk}/change/").text
    assert "Hur det hittades</th><td>Inte angivet</td>" in other
