"""An honest queue: "soon" when a counsellor on duty has a free place, real waits at
comparable positions otherwise, and nothing rather than a made-up number."""

import random
import statistics
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from staff.roles import Role
from supportline import selectors, services
from supportline.models import Conversation, CounsellorProfile
from supportline.views import _chat_strings
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def counsellor(max_chats: int | None = None) -> Any:
    user: Any = StaffUserFactory(role=Role.COUNSELLOR)
    CounsellorProfile.objects.create(user=user, alias="Sara", max_chats=max_chats)
    cache.delete(selectors.on_duty_key(user.pk))  # nothing left over from an earlier run
    return user


def on_duty(user: Any) -> None:
    services.counsellor_on_duty(user_id=user.pk, changed=False)


def chat(n: int, **fields: Any) -> Conversation:
    return Conversation.objects.create(token_hash=selectors.token_hash(f"chat-{n}-{fields}"), **fields)


def answered(n: int, queued_at: datetime, wait_minutes: float, user: Any) -> Conversation:
    """A chat from the past: queued, claimed after ``wait_minutes``, ended."""
    return chat(
        n,
        status=Conversation.Status.ENDED,
        queued_at=queued_at,
        claimed_at=queued_at + timedelta(minutes=wait_minutes),
        ended_at=queued_at + timedelta(minutes=wait_minutes + 20),
        counsellor=user,
    )


def busy(user: Any, chats: int) -> None:
    for n in range(chats):
        chat(1000 + n, status=Conversation.Status.ACTIVE, counsellor=user, claimed_at=timezone.now())


def test_position_one_with_a_free_counsellor_on_duty_is_soon_whatever_the_history():
    sara = counsellor()
    now = timezone.now()
    for n in range(10):  # a history of long waits must not override an idle counsellor
        answered(n, now - timedelta(hours=3 + n), 40, sara)
    on_duty(sara)
    assert selectors.wait_estimate(1) == selectors.WaitEstimate(soon=True, minutes=None)
    waiting = chat(99, queued_at=now)
    frame = selectors.queue_frame(waiting.pk)
    assert frame is not None
    assert (frame["soon"], frame["estimated_wait_minutes"], frame["long_wait"]) == (True, None, False)


def test_a_counsellor_at_their_cap_has_no_free_place():
    sara = counsellor(max_chats=2)
    on_duty(sara)
    busy(sara, 2)
    assert selectors.wait_estimate(1) == selectors.WaitEstimate(soon=False, minutes=None)


def test_free_places_cover_only_that_many_positions():
    sara = counsellor(max_chats=3)
    on_duty(sara)
    busy(sara, 1)  # two free places
    assert selectors.wait_estimate(2).soon
    assert not selectors.wait_estimate(3).soon


def test_no_history_gives_no_estimate():
    sara = counsellor(max_chats=1)
    on_duty(sara)
    busy(sara, 1)
    assert selectors.wait_estimate(1) == selectors.WaitEstimate(soon=False, minutes=None)


def test_too_thin_a_history_gives_no_estimate():
    sara = counsellor(max_chats=1)
    on_duty(sara)
    busy(sara, 1)
    now = timezone.now()
    for n in range(selectors.WAIT_MIN_SAMPLES - 1):
        answered(n, now - timedelta(hours=2 + n), 5, sara)
    assert selectors.wait_estimate(1).minutes is None


def test_nobody_on_duty_gives_no_estimate_even_with_history():
    sara = counsellor()
    now = timezone.now()
    for n in range(20):
        answered(n, now - timedelta(hours=2 + n), 5, sara)
    assert selectors.wait_estimate(1) == selectors.WaitEstimate(soon=False, minutes=None)


def test_estimate_from_a_synthetic_history_is_within_a_quarter_of_the_true_median():
    sara = counsellor(max_chats=1)
    on_duty(sara)
    busy(sara, 1)
    rng = random.Random(11)
    now = timezone.now()
    waits = [rng.lognormvariate(2.2, 0.6) for _ in range(60)]  # median about 9 minutes, long tail
    for n, wait in enumerate(waits):
        # One at a time, an hour apart: each joined the queue at place 1.
        answered(n, now - timedelta(hours=n + 2), wait, sara)
    estimate = selectors.wait_estimate(1).minutes
    true_median = statistics.median(waits)
    assert estimate is not None
    assert abs(estimate - true_median) <= 0.25 * true_median


def test_comparable_positions_are_compared_with_each_other():
    sara = counsellor(max_chats=1)
    on_duty(sara)
    busy(sara, 1)
    now = timezone.now()
    n = 0
    for round_ in range(6):
        # Three join together; the first waits 2 minutes, the third (place 3) 12.
        start = now - timedelta(hours=round_ + 2)
        for place, wait in enumerate((2, 7, 12)):
            answered(n, start + timedelta(seconds=place), wait - place / 60, sara)
            n += 1
    assert selectors.wait_estimate(1).minutes == 2
    assert selectors.wait_estimate(3).minutes == 12
    assert selectors.wait_estimate(4).minutes == 12  # 3 and 4 are one band
    assert selectors.wait_estimate(2).minutes == 7


def test_without_the_roster_the_history_still_answers(monkeypatch):
    sara = counsellor()
    now = timezone.now()
    for n in range(6):
        answered(n, now - timedelta(hours=2 + n), 6, sara)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", broken)
    assert selectors.wait_estimate(1) == selectors.WaitEstimate(soon=False, minutes=6)


def test_a_closed_console_is_off_duty_at_once():
    sara = counsellor()
    on_duty(sara)
    assert selectors.wait_estimate(1).soon
    services.counsellor_off_duty(user_id=sara.pk)
    assert not selectors.wait_estimate(1).soon


def test_longer_than_usual_only_after_really_waiting():
    sara = counsellor(max_chats=1)
    on_duty(sara)
    busy(sara, 1)
    now = timezone.now()
    for n in range(10):  # usually a long wait: an hour
        answered(n, now - timedelta(hours=3 + n), 60, sara)
    just_came = chat(98, queued_at=now)
    frame = selectors.queue_frame(just_came.pk)
    assert frame is not None
    assert (frame["estimated_wait_minutes"], frame["long_wait"]) == (60, False)
    Conversation.objects.filter(pk=just_came.pk).update(queued_at=now - timedelta(minutes=11))
    frame = selectors.queue_frame(just_came.pk)
    assert frame is not None and frame["long_wait"] is True


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("sv", "Det tar ungefär 1 minut innan någon svarar.", "Det tar ungefär 2 minuter innan någon svarar."),
        ("en", "It takes about 1 minute before someone answers.", "It takes about 2 minutes before someone answers."),
    ],
)
def test_the_chat_page_gets_both_plural_forms(language, one, two):
    with translation.override(language):
        forms = _chat_strings()["wait_estimate"]
    assert isinstance(forms, list)
    assert forms[0] % {"minutes": 1} == one
    assert forms[1] % {"minutes": 2} == two
