"""The analyst's tip page offers exactly the actions the tip's status allows."""

import re

import pytest

from hotline.models import PoliceHandoff
from tests.hotline.conftest import submit_tip

pytestmark = pytest.mark.django_db

ACTIONS = {"start", "assess", "release", "forward", "takedown", "recheck", "confirm_removal", "close", "ask"}


def offered(client, tip_id: int) -> set[str]:
    page = client.get(f"/admin/hotline/tip/{tip_id}/change/").text
    return set(re.findall(r'name="action" value="([a-z_]+)"', page)) & ACTIONS


def act(client, tip_id: int, action: str, **fields: str) -> None:
    response = client.post(f"/admin/hotline/tip/{tip_id}/change/", {"action": action, **fields})
    assert response.status_code == 302


def test_each_status_offers_its_next_steps(analyst_client, django_capture_on_commit_callbacks):
    tip_id = submit_tip().tip.pk
    assert offered(analyst_client, tip_id) == {"start", "ask"}
    act(analyst_client, tip_id, "start")
    assert offered(analyst_client, tip_id) == {"assess", "release", "ask"}
    act(analyst_client, tip_id, "assess", outcome="illegal")
    assert offered(analyst_client, tip_id) == {"forward", "ask"}
    with django_capture_on_commit_callbacks(execute=False):
        act(analyst_client, tip_id, "forward")
    assert offered(analyst_client, tip_id) == {"takedown", "close", "ask"}
    act(analyst_client, tip_id, "takedown", host_provider="Värd AB")
    assert offered(analyst_client, tip_id) == {"recheck", "confirm_removal", "ask"}
    act(analyst_client, tip_id, "confirm_removal")
    assert offered(analyst_client, tip_id) == {"close", "ask"}
    act(analyst_client, tip_id, "close")
    assert offered(analyst_client, tip_id) == set()


def test_a_tip_assessed_as_not_illegal_can_only_be_closed(analyst_client):
    tip_id = submit_tip().tip.pk
    act(analyst_client, tip_id, "start")
    act(analyst_client, tip_id, "assess", outcome="not_illegal")
    assert offered(analyst_client, tip_id) == {"close", "ask"}


def test_only_a_failed_handoff_is_flagged_with_a_retry_button(analyst_client):
    tip = submit_tip(urgent=True).tip
    page = analyst_client.get(f"/admin/hotline/tip/{tip.pk}/change/").text
    assert 'class="errornote"' not in page and 'value="retry_handoff"' not in page
    PoliceHandoff.objects.filter(tip=tip).update(status=PoliceHandoff.Status.FAILED, failure_reason="HTTP 400")
    page = analyst_client.get(f"/admin/hotline/tip/{tip.pk}/change/").text
    assert 'class="errornote"' in page and 'value="retry_handoff"' in page
