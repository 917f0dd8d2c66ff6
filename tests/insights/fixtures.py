"""A small, hand-countable day of the support line and the hotline (Wednesday 4 March 2026).

Support line, chat open Wednesdays 18-22:
* 6 chats queued at 18:00..18:05, chat i answered after i+1 minutes and talked for 20 minutes,
  all classified (5 "grooming", 1 "grooming" + "sextortion"; 5 "support", 1 "referred"), one marked imminent risk;
* 5 chats queued at 23:00..23:04 (closed) that left the queue after 10 minutes;
* 5 letters written at 10:00..10:40 (closed);
* 12 on-duty samples in the 18:00 hour, 2 counsellors each;
* feedback: 5 "yes", 2 "no".

Hotline:
* 12 tips received at 09:00 (10 abuse material, 2 grooming), all normal priority, each assessment
  started 2 hours later and finished 3 hours later: 6 illegal, 6 not illegal; found via a search
  engine (6), social media (5), and one where the reporter skipped the question;
* the 6 illegal ones forwarded at 12:00: 5 delivered on the first attempt 2 minutes later,
  1 after a retry 10 minutes later;
* 10 takedown notices to one provider (SE) sent at 14:00: 5 removed after 10 hours, 5 after 48 hours.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

import time_machine
from django.utils import timezone

from hotline.models import PoliceHandoff, Provider, TakedownNotice, Tip, TipURL
from insights.models import DutySample
from supportline.letters.models import Letter
from supportline.models import Classification, Conversation, Feedback, OpeningHours

DAY = date(2026, 3, 4)  # a Wednesday
WEDNESDAY = 2


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def _created(model: Any, moment: datetime, **fields: Any) -> Any:
    with time_machine.travel(moment, tick=False):
        return model.objects.create(**fields)


def make_support_day(day: date = DAY) -> None:
    OpeningHours.objects.create(weekday=day.weekday(), opens=time(18), closes=time(22))
    for i in range(6):
        queued = at(18, i, day)
        claimed = queued + timedelta(minutes=i + 1)
        chat = _created(
            Conversation,
            queued,
            status=Conversation.Status.ENDED,
            end_reason=Conversation.EndReason.VISITOR_ENDED,
            age_band=Conversation.AgeBand.AGE_13_15,
            topic=Conversation.Topic.ONLINE,
            queued_at=queued,
            claimed_at=claimed,
            ended_at=claimed + timedelta(minutes=20),
            imminent_risk=i == 0,
            risk_marked_at=claimed + timedelta(minutes=5) if i == 0 else None,
        )
        _created(
            Classification,
            claimed + timedelta(minutes=25),
            conversation=chat,
            categories=["grooming", "sextortion"] if i == 5 else ["grooming"],
            outcome="referred" if i == 5 else "support",
        )
    for i in range(5):
        queued = at(23, i, day)
        _created(
            Conversation,
            queued,
            status=Conversation.Status.ENDED,
            end_reason=Conversation.EndReason.LEFT,
            age_band=Conversation.AgeBand.AGE_13_15,
            topic=Conversation.Topic.ONLINE,
            queued_at=queued,
            ended_at=queued + timedelta(minutes=10),
        )
    for i in range(5):
        _created(
            Letter,
            at(10, i * 10, day),
            code_lookup=secrets.token_hex(32),
            code_verifier="test",
            age_band=Conversation.AgeBand.AGE_16_17,
            topic=Conversation.Topic.FRIEND,
            waiting_since=at(10, i * 10, day),
        )
    for i in range(12):
        DutySample.objects.create(slot=at(18, i * 5, day), on_duty=2)
    for i, answer in enumerate(["yes"] * 5 + ["no"] * 2):
        _created(Feedback, at(18, 30 + i, day), answer=answer)


def _found_via(i: int) -> str:
    if i < 6:
        return Tip.FoundVia.SEARCH_ENGINE
    return Tip.FoundVia.SOCIAL_MEDIA if i < 11 else ""


def make_hotline_day(day: date = DAY) -> None:
    provider = Provider.objects.create(name="Exempelhost AB", country="se", abuse_email="abuse@example.org")
    tips = []
    for i in range(12):
        received = at(9, i, day)
        illegal = i < 6
        tips.append(
            Tip.objects.create(
                received_at=received,
                category=Tip.Category.GROOMING if i >= 10 else Tip.Category.ABUSE_MATERIAL,
                found_via=_found_via(i),
                receipt_lookup=secrets.token_hex(32),
                receipt_verifier="test",
                status=Tip.Status.FORWARDED if illegal else Tip.Status.CLOSED,
                outcome=Tip.Outcome.ILLEGAL if illegal else Tip.Outcome.NOT_ILLEGAL,
                assessment_started_at=received + timedelta(hours=2),
                assessed_at=received + timedelta(hours=3),
                forwarded_at=at(12, 0, day) if illegal else None,
                closed_at=None if illegal else received + timedelta(hours=3),
            )
        )
    for i, tip in enumerate(tips[:6]):
        PoliceHandoff.objects.create(
            tip=tip,
            status=PoliceHandoff.Status.DELIVERED,
            created_at=at(12, 0, day),
            attempts=2 if i == 5 else 1,
            delivered_at=at(12, 10 if i == 5 else 2, day),
        )
    for i in range(10):
        url = TipURL.objects.create(tip=tips[i % 6], url=f"https://example.invalid/{i}", url_hash=secrets.token_hex(32))
        TakedownNotice.objects.create(
            tip_url=url,
            provider=provider,
            method=TakedownNotice.Method.EMAIL,
            language=Provider.Language.EN,
            state=TakedownNotice.State.REMOVED,
            created_at=at(14, 0, day),
            sent_at=at(14, 0, day),
            closed_at=at(14, 0, day) + timedelta(hours=10 if i < 5 else 48),
        )
