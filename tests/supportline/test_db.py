"""The sockets' database threads: layer events committed there are published by the event loop."""

import asyncio
import itertools
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


class RecordingLayer:
    def __init__(self) -> None:
        self.sent: list[tuple[float, str, dict[str, object]]] = []

    async def group_send(self, group: str, event: dict[str, object]) -> None:
        self.sent.append((asyncio.get_running_loop().time(), group, dict(event)))


async def test_a_burst_of_queue_and_dashboard_notices_goes_out_merged(monkeypatch):
    """200 starts in a second reach each socket as a few notices, the first at once, the last change too."""
    layer = RecordingLayer()
    monkeypatch.setattr(db, "get_channel_layer", lambda: layer)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for n in range(1, 201):
        await db._publish(
            [
                ("supportline.queue", {"type": "queue.changed"}),
                ("supportline.staff", {"type": "staff.changed", "new_conversation_id": n}),
                ("supportline.conversation.9", {"type": "chat.state", "conversation_id": 9}),
            ]
        )
        await asyncio.sleep(0.005)
    await asyncio.sleep(db.NoticeThrottle.INTERVAL * 2)
    by_group: dict[str, list[tuple[float, dict[str, object]]]] = {}
    for at, group, event in layer.sent:
        by_group.setdefault(group, []).append((at, event))
    # Events that carry state still go one by one.
    assert len(by_group["supportline.conversation.9"]) == 200
    for group in ("supportline.queue", "supportline.staff"):
        sent = by_group[group]
        assert sent[0][0] - began < 0.05  # the first at once
        assert len(sent) <= (200 * 0.005 + 0.5) / db.NoticeThrottle.INTERVAL + 2
        gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(sent)]
        assert min(gaps) >= db.NoticeThrottle.INTERVAL * 0.9
    staff = [event for _, event in by_group["supportline.staff"]]
    assert all(event["new_conversation_id"] for event in staff)  # each one still says someone new is waiting
    assert staff[-1]["new_conversation_id"] == 200  # and the last newcomer is announced


async def test_a_single_notice_is_not_delayed(monkeypatch):
    layer = RecordingLayer()
    monkeypatch.setattr(db, "get_channel_layer", lambda: layer)
    began = asyncio.get_running_loop().time()
    await db._publish([("supportline.queue", {"type": "queue.changed"})])
    await asyncio.sleep(0.02)
    assert [(group, event) for _, group, event in layer.sent] == [("supportline.queue", {"type": "queue.changed"})]
    assert layer.sent[0][0] - began < 0.02
