"""Synthetic history for the insights pages and their benchmark: chats, letters, tips, takedowns.

Only ever for a demo or benchmark database (``demo_database_allowed``). Rows are
written with ``bulk_create`` and their own timestamps, then aggregated by the
same job as real data. Nothing here resembles a real person: no text but
placeholders, no tokens, receipt hashes that match no code.
"""

from __future__ import annotations

import contextlib
import math
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models, transaction
from django.utils import timezone

from hotline.models import PoliceHandoff, Provider, TakedownNotice, Tip, TipURL
from insights.models import DutySample
from insights.services import DUTY_SAMPLE_MINUTES, day_start
from supportline.letters.models import Letter
from supportline.models import Classification, Conversation, Feedback, OpeningHours

DEMO_NAME_MARKERS = ("demo", "bench")

# Evening-heavy demand by local hour (relative weights), and busier weekdays.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 9, 11, 13, 14, 15, 16, 16, 13, 8, 3]
WEEKDAY_WEIGHTS = [1.1, 1.15, 1.1, 1.05, 0.9, 0.8, 1.0]
DEMO_OPENS, DEMO_CLOSES = time(14), time(22)

PROVIDERS = [
    ("Exempelhost AB", "SE"),
    ("Nordic Cloud Oy", "FI"),
    ("Bildhotell ApS", "DK"),
    ("Example Hosting Inc.", "US"),
    ("Datacenter GmbH", "DE"),
    ("Server Holland B.V.", "NL"),
    ("Vps Românesc SRL", "RO"),
    ("Cloud Ukraine LLC", "UA"),
    ("Bulletproof Ltd", "RU"),
    ("Small Host AS", "NO"),
]


def demo_database_allowed(*, name: str, debug: bool, confirmed: bool) -> bool:
    """Demo data goes only into a database named for it ("demo" or "bench" in its name),
    and only under DEBUG or with an explicit confirmation."""
    lowered = str(name).lower()
    return any(marker in lowered for marker in DEMO_NAME_MARKERS) and (debug or confirmed)


@contextlib.contextmanager
def _own_timestamps(*fields: tuple[type[models.Model], str]) -> Iterator[None]:
    """Lets ``bulk_create`` keep the timestamps given, for ``auto_now_add`` fields."""
    changed = []
    for model, name in fields:
        field = model._meta.get_field(name)
        changed.append((field, field.auto_now_add))  # type: ignore[union-attr]
        field.auto_now_add = False  # type: ignore[union-attr]
    try:
        yield
    finally:
        for field, value in changed:
            field.auto_now_add = value  # type: ignore[union-attr]


@dataclass(frozen=True)
class DemoResult:
    chats: int
    letters: int
    tips: int


def _moment(rng: random.Random, first: date, days: int) -> datetime:
    """A moment in the ``days`` from ``first``, following the weekday and hour weights."""
    while True:
        day = first + timedelta(days=rng.randrange(days))
        if rng.random() * max(WEEKDAY_WEIGHTS) <= WEEKDAY_WEIGHTS[day.weekday()]:
            break
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return day_start(day) + timedelta(hours=hour, seconds=rng.randrange(3600))


def _lognormal(rng: random.Random, median_seconds: float, sigma: float) -> timedelta:
    return timedelta(seconds=median_seconds * math.exp(rng.gauss(0, sigma)))


def _pick(rng: random.Random, choices: list[str], weights: list[float]) -> str:
    return rng.choices(choices, weights=weights)[0]


def _support(rng: random.Random, first: date, days: int, chats: int, letters: int) -> None:
    now = timezone.now()
    if not OpeningHours.objects.exists():
        OpeningHours.objects.bulk_create(
            OpeningHours(weekday=day, opens=DEMO_OPENS, closes=DEMO_CLOSES) for day in range(7)
        )
    ages = [str(v) for v in Conversation.AgeBand.values] + [""]
    topics = [str(v) for v in Conversation.Topic.values] + [""]
    categories = [str(v) for v in Classification.Category.values]
    outcomes = [str(v) for v in Classification.Outcome.values]
    conversations = []
    for _n in range(chats):
        created = _moment(rng, first, days)
        left = rng.random() < 0.12
        wait = _lognormal(rng, 240, 1.0)
        claimed = None if left else created + wait
        ended = created + wait if left else created + wait + _lognormal(rng, 25 * 60, 0.6)
        risk = rng.random() < 0.03
        conversations.append(
            Conversation(
                status=Conversation.Status.ENDED,
                end_reason=Conversation.EndReason.LEFT if left else Conversation.EndReason.VISITOR_ENDED,
                age_band=_pick(rng, ages, [8, 40, 35, 7, 10]),
                topic=_pick(rng, topics, [25, 15, 12, 10, 3, 15, 10, 10]),
                created_at=created,
                queued_at=created,
                claimed_at=claimed,
                ended_at=ended,
                imminent_risk=risk,
                risk_marked_at=created + wait + timedelta(minutes=5) if risk and not left else None,
                escalation_steps=["informed_supervisor", "documented"] if risk and not left else [],
                transcript_deleted_at=ended + timedelta(days=30),
            )
        )
    with _own_timestamps((Conversation, "created_at"), (Classification, "created_at"), (Feedback, "created_at")):
        Conversation.objects.bulk_create(conversations, batch_size=5000)
        Classification.objects.bulk_create(
            (
                Classification(
                    conversation=conversation,
                    categories=rng.sample(categories, rng.choice([1, 1, 2])),
                    outcome=_pick(rng, outcomes, [40, 25, 15, 2, 3, 10, 5]),
                    created_at=(conversation.ended_at or conversation.created_at) + timedelta(minutes=3),
                )
                for conversation in conversations
                if conversation.claimed_at is not None and rng.random() < 0.85
            ),
            batch_size=5000,
        )
        Feedback.objects.bulk_create(
            (
                Feedback(
                    answer=_pick(rng, ["yes", "partly", "no"], [60, 30, 10]),
                    created_at=conversation.ended_at or conversation.created_at,
                )
                for conversation in conversations
                if conversation.claimed_at is not None and rng.random() < 0.3
            ),
            batch_size=5000,
        )
    with _own_timestamps((Letter, "created_at")):
        letter_rows = []
        for _n in range(letters):
            created = _moment(rng, first, days)
            answered = created + _lognormal(rng, 36 * 3600, 0.5)
            letter_rows.append(
                Letter(
                    code_lookup=secrets.token_hex(32),
                    code_verifier="demo",
                    status=Letter.Status.CLOSED,
                    age_band=_pick(rng, ages, [8, 40, 35, 7, 10]),
                    topic=_pick(rng, topics, [25, 15, 12, 10, 3, 15, 10, 10]),
                    created_at=created,
                    waiting_since=created,
                    answered_at=answered,
                    closed_at=min(answered + timedelta(days=60), now),
                    closed_by=Letter.ClosedBy.INACTIVITY,
                )
            )
        Letter.objects.bulk_create(letter_rows, batch_size=5000)
    samples = []
    for offset in range(days):
        opens = day_start(first + timedelta(days=offset)) + timedelta(hours=DEMO_OPENS.hour)
        slots = (DEMO_CLOSES.hour - DEMO_OPENS.hour) * 60 // DUTY_SAMPLE_MINUTES
        for slot in range(slots):
            samples.append(
                DutySample(slot=opens + timedelta(minutes=slot * DUTY_SAMPLE_MINUTES), on_duty=rng.randint(2, 6))
            )
    DutySample.objects.bulk_create(samples, batch_size=5000, ignore_conflicts=True)


def _hotline(rng: random.Random, first: date, days: int, tips: int) -> None:
    now = timezone.now()
    providers = []
    for name, country in PROVIDERS:
        provider, _ = Provider.objects.get_or_create(
            name=name, defaults={"country": country, "abuse_email": f"abuse@{country.lower()}.example"}
        )
        providers.append(provider)
    categories = [str(v) for v in Tip.Category.values]
    outcomes = [str(v) for v in Tip.Outcome.values]
    # Blank first: many reporters skip the optional question.
    ways = ["", *(str(v) for v in Tip.FoundVia.values)]
    rows = []
    for _n in range(tips):
        received = _moment(rng, first, days)
        urgent = rng.random() < 0.05
        started = received + _lognormal(rng, 20 * 60 if urgent else 5 * 3600, 0.8)
        assessed = started + _lognormal(rng, 30 * 60, 0.5)
        outcome = _pick(rng, outcomes, [35, 10, 15, 5, 35])
        rows.append(
            Tip(
                received_at=received,
                category=_pick(rng, categories, [55, 15, 15, 5, 10]),
                found_via=_pick(rng, ways, [30, 10, 20, 15, 10, 8, 4, 3]),
                priority=Tip.Priority.URGENT if urgent else Tip.Priority.NORMAL,
                status=Tip.Status.CLOSED,
                outcome=outcome,
                receipt_lookup=secrets.token_hex(32),
                receipt_verifier="demo",
                assessment_started_at=started,
                assessed_at=assessed,
                forwarded_at=assessed if outcome == Tip.Outcome.ILLEGAL and rng.random() < 0.5 else None,
                closed_at=min(assessed + timedelta(days=10), now),
            )
        )
    Tip.objects.bulk_create(rows, batch_size=5000)
    handoffs = []
    urls = []
    for tip in rows:
        if tip.forwarded_at is not None:
            failed = rng.random() < 0.02
            handoffs.append(
                PoliceHandoff(
                    tip=tip,
                    status=PoliceHandoff.Status.FAILED if failed else PoliceHandoff.Status.DELIVERED,
                    created_at=tip.forwarded_at,
                    attempts=10 if failed else rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 2, 3]),
                    delivered_at=None if failed else tip.forwarded_at + _lognormal(rng, 90, 1.0),
                )
            )
        if tip.outcome == Tip.Outcome.ILLEGAL:
            urls.append(TipURL(tip=tip, url="https://example.invalid/demo", url_hash=secrets.token_hex(32)))
    PoliceHandoff.objects.bulk_create(handoffs, batch_size=5000)
    TipURL.objects.bulk_create(urls, batch_size=2000)
    notices = []
    for url in urls:
        sent = (url.tip.assessed_at or url.tip.received_at) + timedelta(hours=2)
        provider = rng.choices(providers, weights=[20, 10, 8, 25, 12, 10, 5, 4, 3, 3])[0]
        closed = sent + _lognormal(rng, 30 * 3600, 1.0)
        removed = rng.random() < 0.9 and closed < now
        notices.append(
            TakedownNotice(
                tip_url=url,
                provider=provider,
                method=TakedownNotice.Method.EMAIL,
                language=Provider.Language.EN,
                state=TakedownNotice.State.REMOVED if removed else TakedownNotice.State.SENT,
                created_at=sent,
                sent_at=sent,
                closed_at=closed if removed else None,
            )
        )
    TakedownNotice.objects.bulk_create(notices, batch_size=5000)


def generate_demo_data(*, chats: int, tips: int, days: int = 730, seed: int = 13) -> DemoResult:
    """Writes ``chats`` chats (and a tenth as many letters) and ``tips`` tips over the last ``days`` days."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    first = timezone.localdate() - timedelta(days=days)
    letters = chats // 10
    with transaction.atomic():
        _support(rng, first, days, chats, letters)
        _hotline(rng, first, days, tips)
    return DemoResult(chats=chats, letters=letters, tips=tips)
