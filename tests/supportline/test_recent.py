"""The messages a process stored moments ago, which its own receivers take from memory (supportline.recent)."""

import json
import time
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from privacy.crypto import encrypt
from supportline import recent, selectors
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


# --- Messages another process stored: their sealed copy in the event --------------------------


def _stored(conversation_id: int, seq: int, text: str) -> Message:
    """A message as the storing process holds it just after the store: its text and its token."""
    message = _message(conversation_id, seq)
    message.text = text
    message.stored_text = encrypt(text)
    return message


def test_a_sealed_copy_carries_the_token_not_the_text_and_is_learned_once():
    sent = _stored(7, 3, "Det känns jobbigt att berätta")
    sealed = recent.seal(sent)
    assert sealed is not None
    assert sealed["text"] == sent.stored_text and "jobbigt" not in json.dumps(sealed)

    elsewhere = recent.RecentMessages()
    elsewhere.learn(7, 3, sealed)
    elsewhere.learn(7, 3, sealed)  # a second receiver in that process: already here, not decrypted again
    assert elsewhere.learned == 1
    found = elsewhere.after(7, 2, 3)
    assert found is not None
    (message,) = found
    assert selectors.message_frame(message) == selectors.message_frame(sent)


def test_a_message_read_back_from_the_database_has_nothing_to_seal():
    assert recent.seal(_message(7, 1)) is None
    store = recent.RecentMessages()
    store.learn(7, 1, None)
    assert store.after(7, 0, 1) is None


@pytest.mark.parametrize(
    ("conversation_id", "seq", "change"),
    [
        (8, 3, {}),  # moved to another chat
        (7, 4, {}),  # moved to another seq
        (7, 3, {"sender": "counsellor"}),
        (7, 3, {"client_id": "other"}),
        (7, 3, {"sent_at": "2026-12-03T00:00:00+00:00"}),
        (7, 3, {"mac": "0" * 64}),
        (7, 3, {"mac": None}),
        (7, 3, {"text": None}),
    ],
)
def test_a_sealed_copy_that_fails_its_mac_is_ignored_and_the_receiver_reads(conversation_id, seq, change, caplog):
    sealed = recent.seal(_stored(7, 3, "hemligt"))
    assert sealed is not None
    store = recent.RecentMessages()
    store.learn(conversation_id, seq, {**sealed, **change})
    assert store.learned == 0 and store.after(conversation_id, seq - 1, seq) is None
    assert "hemligt" not in caplog.text


def test_a_token_of_another_chat_moved_in_with_its_own_mac_recomputed_needs_the_key(settings):
    # Someone who can publish to Redis but does not hold SECRET_KEY cannot make a valid copy.
    sealed = recent.seal(_stored(7, 3, "hemligt"))
    assert sealed is not None
    settings.SECRET_KEY = "not-the-servers-key-" + "x" * 40
    forged = recent.seal(_stored(8, 1, "hemligt"))
    assert forged is not None
    settings.SECRET_KEY = "the-servers-key-" + "y" * 40
    store = recent.RecentMessages()
    store.learn(8, 1, {**forged, "text": sealed["text"]})
    store.learn(8, 1, forged)
    assert store.learned == 0


def test_a_token_this_process_cannot_decrypt_is_ignored(settings, caplog):
    # A rolling deploy: sealed under a key this process does not have yet.
    sealed = recent.seal(_stored(7, 1, "hemligt"))
    assert sealed is not None
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    store = recent.RecentMessages()
    store.learn(7, 1, sealed)
    assert store.learned == 0 and store.after(7, 0, 1) is None
    assert "hemligt" not in caplog.text
