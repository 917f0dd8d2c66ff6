"""The messages this process stored in the last few seconds, for its own receivers.

Every receiver of a message (the counsellor's console, the visitor's page, a
monitoring supervisor) reads the new rows from the database when the layer
announces them: one statement and one decryption per receiver and message.
When the sender's socket lives in the same process (always with one web
process, and for most chats with several), the message was in this process's
memory a moment before: the sender's socket stored it (committed) and holds
its text as sent. :class:`RecentMessages` keeps those messages for at most
``MAX_AGE`` seconds, so a receiver here builds its frames from memory.

The guarantees stay the database's: only committed messages are kept (added
after the store returned), a receiver takes them only when it finds *every*
``seq`` it lacks up to the announced one, and otherwise reads the database as
before. A lost event is healed by the next one either way, and resume,
polling and opening a chat always read the database.

A receiver in *another* process (with several web processes, a chat whose
visitor and counsellor landed on different ones) would read the row instead.
The sender's announcement therefore carries the message as it was stored
(:func:`seal`): its text as the database holds it (the Fernet token, never
the plain text), its ``seq``, sender, ``client_id`` and time, and a MAC over
all of them and the chat's id, keyed by ``SECRET_KEY``. The first receiver in
a process checks the MAC, decrypts the token once and keeps the message here
(:meth:`RecentMessages.learn`); every receiver there then takes it from
memory as above. Redis thus carries ciphertext it cannot read, and a message
with a MAC that does not match (moved to another chat or ``seq``, altered,
or sealed under another key during a rolling deploy) is ignored: the
receiver reads the database as before.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import constant_time_compare, salted_hmac

from privacy.crypto import decrypt
from supportline.loops import PerLoop
from supportline.models import Message

logger = logging.getLogger(__name__)

_MAC_SALT = "supportline.recent.sealed-message"


def _mac(conversation_id: int, seq: int, sender: str, client_id: str, sent_at: str, stored_text: str) -> str:
    # A JSON list: no field's content can shift into another.
    payload = json.dumps([conversation_id, seq, sender, client_id, sent_at, stored_text])
    return salted_hmac(_MAC_SALT, payload, algorithm="sha256").hexdigest()


def seal(message: Message) -> dict[str, Any] | None:
    """A message this process has just stored, as its layer event carries it; None if its stored text is not at hand.

    Only a message stored by this process has its ``stored_text`` (the
    Fernet token the database holds); nothing is encrypted here.
    """
    if message.stored_text is None:
        return None
    sent_at = message.created_at.isoformat()
    return {
        "sender": str(message.sender),
        "client_id": message.client_id,
        "sent_at": sent_at,
        "text": message.stored_text,
        "mac": _mac(
            message.conversation_id, message.seq, str(message.sender), message.client_id, sent_at, message.stored_text
        ),
    }


class RecentMessages:
    """This event loop's messages stored in the last ``MAX_AGE`` seconds, by conversation and ``seq``.

    Text held in memory only as long as a receiver's event normally takes to
    arrive (milliseconds); at most ``MAX_MESSAGES`` are held whatever the rate.
    """

    MAX_AGE = 5.0
    MAX_MESSAGES = 5000

    def __init__(self) -> None:
        self._chats: dict[int, dict[int, Message]] = {}
        self._order: deque[tuple[float, int, int]] = deque()
        self.hits = 0  # receivers answered from memory (tests count them)
        self.learned = 0  # messages kept from other processes' announcements (tests count them)

    def add(self, message: Message) -> None:
        """A message just committed (its text as sent)."""
        now = time.monotonic()
        self._expire(now)
        self._chats.setdefault(message.conversation_id, {})[message.seq] = message
        self._order.append((now, message.conversation_id, message.seq))

    def learn(self, conversation_id: int, seq: int, sealed: Mapping[str, Any] | None) -> None:
        """Keeps a message another process stored and announced (:func:`seal`), unless it is here already.

        A sealed copy that is malformed, fails its MAC or cannot be decrypted
        is left out: the receiver then reads the database.
        """
        if sealed is None:
            return
        self._expire(time.monotonic())
        if seq in self._chats.get(conversation_id, {}):
            return
        try:
            sender, client_id, sent_at, stored_text = (
                str(sealed["sender"]),
                str(sealed["client_id"]),
                str(sealed["sent_at"]),
                str(sealed["text"]),
            )
            if not constant_time_compare(
                _mac(conversation_id, seq, sender, client_id, sent_at, stored_text), str(sealed["mac"])
            ):
                logger.warning("a sealed message failed its MAC; read from the database instead")
                return
            message = Message(
                conversation_id=conversation_id,
                seq=seq,
                sender=sender,
                client_id=client_id,
                text=decrypt(stored_text),
                created_at=datetime.fromisoformat(sent_at),
            )
        except (KeyError, TypeError, ValueError, ImproperlyConfigured) as exc:
            logger.warning("a sealed message was unreadable (%s); read from the database instead", type(exc).__name__)
            return
        self.learned += 1
        self.add(message)

    def after(self, conversation_id: int, after_seq: int, through_seq: int) -> list[Message] | None:
        """Every message ``after_seq < seq <= through_seq`` of the chat, or None unless all of them are here."""
        self._expire(time.monotonic())
        chat = self._chats.get(conversation_id)
        if chat is None or through_seq <= after_seq:
            return None
        found = []
        for seq in range(after_seq + 1, through_seq + 1):
            message = chat.get(seq)
            if message is None:
                return None
            found.append(message)
        self.hits += 1
        return found

    def _expire(self, now: float) -> None:
        order = self._order
        while order and (now - order[0][0] > self.MAX_AGE or len(order) > self.MAX_MESSAGES):
            _, conversation_id, seq = order.popleft()
            chat = self._chats.get(conversation_id)
            if chat is not None:
                chat.pop(seq, None)
                if not chat:
                    del self._chats[conversation_id]


_recent: PerLoop[RecentMessages] = PerLoop()


def recent_messages() -> RecentMessages:
    """The running event loop's :class:`RecentMessages` (one per process in production)."""
    return _recent.get(RecentMessages)
