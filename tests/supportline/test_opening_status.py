"""Whether the chat is open now and when it opens next, on the home page and the chat's start page."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import dateformat, timezone, translation

from supportline import selectors
from supportline.models import OpeningHours, SpecialDay
from tests.supportline.helpers import open_all_week

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY_EVENING = datetime(2026, 11, 30, 19, 0, tzinfo=STOCKHOLM)


def test_while_open_the_status_knows_when_it_closes():
    OpeningHours.objects.create(weekday=0, opens=time(18), closes=time(21))
    status = selectors.opening_status(MONDAY_EVENING)
    assert status.is_open
    assert status.closes_at == datetime(2026, 11, 30, 21, 0, tzinfo=STOCKHOLM)


def test_back_to_back_openings_close_at_the_end_of_the_last():
    OpeningHours.objects.create(weekday=0, opens=time(18), closes=time(0, 0))
    OpeningHours.objects.create(weekday=1, opens=time(0, 0), closes=time(2))
    status = selectors.opening_status(MONDAY_EVENING)
    assert status.closes_at == datetime(2026, 12, 1, 2, 0, tzinfo=STOCKHOLM)


@pytest.mark.parametrize("path", ["/", "/chat/"])
def test_open_now_and_until_when(client, path):
    today = timezone.localdate()
    OpeningHours.objects.create(weekday=today.weekday(), opens=time(0, 0), closes=time(23, 59))
    now = timezone.localtime()
    if now.time() >= time(23, 59):
        pytest.skip("the minute the test opening ends")
    body = client.get(path).content.decode()
    assert "Chatten är öppen nu." in body
    assert "Vi har öppet till klockan 23:59." in body


def test_home_page_says_when_a_closed_chat_opens_next(client):
    open_all_week()
    today = timezone.localdate()
    SpecialDay.objects.create(date=today, label="Utbildningsdag")
    body = client.get("/").content.decode()
    assert "Chatten är stängd just nu." in body
    tomorrow = datetime.combine(today + timedelta(days=1), time(0, 0))
    with translation.override("sv"):
        when = dateformat.format(tomorrow, "l j F")
    assert f"Den öppnar {when} klockan 00:00." in body


def test_home_page_when_no_opening_is_known(client):
    body = client.get("/").content.decode()
    assert "Chatten är stängd just nu." in body
    assert "Vi vet inte än när den öppnar igen." in body


def test_open_around_the_clock_names_no_closing_time(client):
    open_all_week()
    body = client.get("/").content.decode()
    assert "Chatten är öppen nu." in body
    assert "Vi har öppet till" not in body


@pytest.mark.django_db(transaction=True)
def test_the_cached_start_page_follows_a_change_of_opening_hours_at_once(client):
    open_all_week()
    assert "Chatten är öppen nu." in client.get("/").content.decode()
    assert "Chatten är öppen nu." in client.get("/").content.decode()  # now from the page cache
    SpecialDay.objects.create(date=timezone.localdate(), label="Utbildningsdag")
    assert "Chatten är stängd just nu." in client.get("/").content.decode()
