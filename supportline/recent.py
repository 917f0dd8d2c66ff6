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
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from supportline.loops import PerLoop

if TYPE_CHECKING:
    from supportline.models import Message


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

    def add(self, message: Message) -> None:
        """A message just committed (its text as sent)."""
        now = time.monotonic()
        self._expire(now)
        self._chats.setdefault(message.conversation_id, {})[message.seq] = message
        self._order.append((now, message.conversation_id, message.seq))

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
