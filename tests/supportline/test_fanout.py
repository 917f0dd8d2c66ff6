"""A queue or dashboard update costs the same queries however long the queue, and is computed once."""

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from staff.roles import Role
from supportline import live, selectors
from supportline.models import Conversation, CounsellorProfile
from tests.factories import StaffUserFactory

# Queue, open chats, chat staff with their caps, and the recent real waits.
SNAPSHOT_QUERIES = 4


def fill(waiting: int, counsellor: Any) -> None:
    now = timezone.now()
    Conversation.objects.bulk_create(
        Conversation(
            token_hash=f"q{n}",
            queued_at=now - timedelta(minutes=n),
            topic=Conversation.Topic.DANGER_NOW if n % 7 == 0 else Conversation.Topic.ONLINE,
        )
        for n in range(waiting)
    )
    Conversation.objects.bulk_create(
        Conversation(
            token_hash=f"a{n}",
            status=Conversation.Status.ACTIVE,
            counsellor=counsellor,
            queued_at=now,
            claimed_at=now,
        )
        for n in range(3)
    )


@pytest.fixture
def counsellor() -> Any:
    user: Any = StaffUserFactory(role=Role.COUNSELLOR)
    CounsellorProfile.objects.create(user=user, alias="Maja", max_chats=4)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("waiting", [1, 10, 100])
def test_dashboard_and_queue_updates_cost_constant_queries(counsellor, waiting):
    fill(waiting, counsellor)
    with CaptureQueriesContext(connection) as snapshot_queries:
        snapshot = selectors.live_snapshot()
    assert len(snapshot_queries) == SNAPSHOT_QUERIES
    with CaptureQueriesContext(connection) as derived:
        dashboard = snapshot.dashboard(counsellor.pk, supervisor=False)
        frames = [snapshot.queue_frame(c["id"]) for c in snapshot.queue]
    assert len(derived) == 0  # each console and visitor derives its frame in memory
    assert len(dashboard["queue"]) == min(waiting, selectors.DASHBOARD_QUEUE_ROWS)
    assert dashboard["queue_total"] == waiting and len(dashboard["mine"]) == 3
    assert json.loads(snapshot.dashboard_json(counsellor.pk, supervisor=False)) == dashboard
    assert [c["counsellor"] for c in dashboard["mine"]] == ["Maja"] * 3
    assert dashboard["cap"] == 4
    assert [f["position"] for f in frames if f] == list(range(1, waiting + 1))
    urgent_first = [c["risk"] for c in dashboard["queue"]]
    assert urgent_first == sorted(urgent_first, reverse=True)


@pytest.mark.django_db
def test_dashboard_matches_what_each_kind_of_console_may_see(counsellor):
    fill(2, counsellor)
    supervisor: Any = StaffUserFactory(role=Role.SUPERVISOR)
    with CaptureQueriesContext(connection) as queries:
        mine = selectors.staff_dashboard(counsellor)
        overseen = selectors.staff_dashboard(supervisor)
    assert len(queries) <= 2 * (SNAPSHOT_QUERIES + 2)  # plus the role look-up
    assert (len(mine["mine"]), mine["live"], mine["supervisor"]) == (3, [], False)
    assert (overseen["mine"], len(overseen["live"]), overseen["supervisor"]) == ([], 3, True)


@pytest.mark.django_db(transaction=True)
async def test_one_change_is_computed_once_for_every_socket_of_the_process(monkeypatch):
    computed = 0
    reused_waits: list[bool] = []
    real = selectors.live_snapshot

    def counting(now=None, *, waits=None):
        nonlocal computed
        computed += 1
        reused_waits.append(waits is not None)
        return real(now, waits=waits)

    monkeypatch.setattr(selectors, "live_snapshot", counting)
    changed_at = time.monotonic()
    memo = live.snapshot_memo()
    snapshots = await asyncio.gather(*(memo.get(not_before=changed_at) for _ in range(50)))
    assert computed == 1 and all(s is snapshots[0] for s in snapshots)
    # A later change needs a newer snapshot.
    await memo.get(not_before=time.monotonic())
    assert computed == 2
    # The slow-changing history behind the wait estimate is read once a minute, not per change.
    assert reused_waits == [False, True]


async def test_updates_are_coalesced_and_the_last_change_is_always_flushed():
    flushes: list[float] = []

    async def flush(since: float) -> None:
        flushes.append(since)

    coalescer = live.Coalescer(flush, interval=0.3)
    for _ in range(20):
        coalescer.mark()
        await asyncio.sleep(0.02)
    last_mark = time.monotonic()
    coalescer.mark()
    await asyncio.sleep(0.8)
    assert 1 <= len(flushes) <= 3  # twenty changes over 0.4 s, at most one flush per 0.3 s
    assert coalescer._dirty_since is None  # the trailing flush came
    assert flushes[-1] <= last_mark
    coalescer.cancel()
