"""The messages a process stored moments ago, which its own receivers take from memory (supportline.recent)."""

import time
from datetime import UTC, datetime

import pytest

from supportline import recent
from supportline.models import Message


def _message(conversation_id: int, seq: int) -> Message:
    return Message(
        conversation_id=conversation_id,
        seq=seq,
        client_id=f"c{seq}",
        sender=Message.Sender.VISITOR,
        text=f"text {seq}",
        created_at=datetime(2026, 12, 2, tzinfo=UTC),
    )


def test_every_missing_seq_or_none():
    store = recent.RecentMessages()
    for seq in (1, 2, 4):
        store.add(_message(7, seq))
    found = store.after(7, 0, 2)
    assert found is not None and [m.seq for m in found] == [1, 2]
    assert store.after(7, 2, 4) is None  # 3 was stored elsewhere: the receiver reads the database
    assert store.after(7, 4, 4) is None  # nothing missing: nothing to say
    assert store.after(8, 0, 1) is None  # another chat


def test_nothing_is_kept_past_its_age_or_the_cap(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    store = recent.RecentMessages()
    store.add(_message(7, 1))
    now[0] += recent.RecentMessages.MAX_AGE + 0.1
    assert store.after(7, 0, 1) is None
    assert store._chats == {}  # the text is gone, not only hidden

    monkeypatch.setattr(recent.RecentMessages, "MAX_MESSAGES", 3)
    for seq in range(1, 6):
        store.add(_message(9, seq))
    assert store.after(9, 0, 2) is None
    found = store.after(9, 2, 5)
    assert found is not None and [m.seq for m in found] == [3, 4, 5]


@pytest.mark.parametrize("through", [0, -1])
def test_an_event_for_nothing_new_finds_nothing(through):
    store = recent.RecentMessages()
    store.add(_message(7, 1))
    assert store.after(7, 0, through) is None
