"""The sockets' database threads: layer events committed there are published by the event loop."""

import asyncio
import threading

import pytest
from django.db import transaction

from supportline import db, services

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published(monkeypatch):
    events: list[tuple[str, dict[str, object]]] = []
    threads: list[str] = []

    async def record(committed):
        threads.append(threading.current_thread().name)
        events.extend(committed)

    monkeypatch.setattr(db, "_publish", record)
    return events, threads


def _commit_events() -> int:
    with transaction.atomic():
        services.broadcast_on_commit("supportline.queue", {"type": "queue.changed"})
        services.broadcast_on_commit("supportline.queue", {"type": "queue.changed"})  # a repeat goes once
        services.broadcast_on_commit("supportline.staff", {"type": "staff.changed"})
    return 1


async def test_committed_events_are_published_by_the_event_loop_once_the_call_returned(published):
    events, threads = published
    assert await db.run_db(_commit_events) == 1
    assert events == [
        ("supportline.queue", {"type": "queue.changed"}),
        ("supportline.staff", {"type": "staff.changed"}),
    ]
    assert threads == [threading.current_thread().name]


async def test_a_rolled_back_call_publishes_nothing(published):
    events, _ = published

    def refused() -> None:
        with transaction.atomic():
            services.broadcast_on_commit("supportline.queue", {"type": "queue.changed"})
            raise services.ChatError("not_queued")

    with pytest.raises(services.ChatError):
        await db.run_db(refused)
    assert events == []


async def test_events_of_a_call_whose_socket_went_away_are_still_published(published):
    events, _ = published
    release = threading.Event()

    def slow() -> int:
        release.wait(5)
        return _commit_events()

    task = asyncio.create_task(db.run_db(slow))
    await asyncio.sleep(0.1)
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if events:
            break
        await asyncio.sleep(0.02)
    assert [group for group, _ in events] == ["supportline.queue", "supportline.staff"]
