"""Client frames as typed values, parsed at the socket's edge.

A frame that reaches a service has been checked here for types, sizes and
shape, so services never see raw JSON. Parsing failures raise
:class:`~supportline.services.ChatError` with the code the protocol documents
(``docs/chat-protocol.md``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, dataclass_transform

from django.conf import settings

from supportline.models import Conversation
from supportline.services import ChatError

MAX_FRAME_CHARS = 20_000
# A frame is a flat object; only `categories` holds a list of strings.
MAX_NESTING = 2
MAX_CLIENT_ID_CHARS = 64
MAX_TOKEN_CHARS = 200
MAX_NOTE_CHARS = 4000
MAX_CATEGORIES = 20
# The largest id or number a frame may carry: PostgreSQL's bigint.
MAX_INTEGER = 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A lone surrogate (a JSON "\\ud800" escape) has no UTF-8 form: it could be
# neither stored nor echoed back in an error frame.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass_transform(frozen_default=True)
def _frame[T](cls: type[T]) -> type[T]:
    """Declares a parsed value: immutable, so no handler can change what the edge checked."""
    return dataclass(frozen=True, slots=True)(cls)


@_frame
class Start:
    age_band: str
    topic: str


@_frame
class Resume:
    token: str
    last_seq: int


@_frame
class VisitorMessage:
    client_id: str
    text: str


@_frame
class VisitorTyping:
    active: bool


@_frame
class End:
    pass


@_frame
class Leave:
    pass


@_frame
class Ping:
    pass


@_frame
class ChatAction:
    """A counsellor frame about one chat: claim, close, end, risk, take_over, delete_transcript,
    and the base of every other frame that names a chat."""

    conversation_id: int


@_frame
class Open(ChatAction):
    last_seq: int


@_frame
class StaffMessage(ChatAction):
    client_id: str
    text: str


@_frame
class StaffTyping(ChatAction):
    active: bool


@_frame
class Transfer(ChatAction):
    to_user_id: int | None
    note: str


@_frame
class Escalation(ChatAction):
    step: Conversation.EscalationStep


@_frame
class Block(ChatAction):
    reason: str
    hours: int


@_frame
class Classify(ChatAction):
    categories: tuple[str, ...]
    outcome: str


type Frame = (
    Start
    | Resume
    | VisitorMessage
    | VisitorTyping
    | End
    | Leave
    | Ping
    | ChatAction
    | Open
    | StaffMessage
    | StaffTyping
    | Transfer
    | Escalation
    | Block
    | Classify
)


@_frame
class Envelope:
    """A decoded frame before its type is known: the raw object and its ``type``."""

    type: str
    data: Mapping[str, Any]

    def context(self) -> dict[str, Any]:
        """``client_id``/``conversation_id`` to echo in an error frame, when well formed."""
        context: dict[str, Any] = {}
        client_id = self.data.get("client_id")
        if isinstance(client_id, str) and _is_clean_id(client_id, MAX_CLIENT_ID_CHARS):
            context["client_id"] = client_id
        conversation_id = _non_negative_int(self.data.get("conversation_id"))
        if conversation_id is not None:
            context["conversation_id"] = conversation_id
        return context


def decode(text_data: str | None) -> Envelope:
    """Decodes one WebSocket text frame into an :class:`Envelope`, or raises ChatError."""
    if text_data is None or len(text_data) > MAX_FRAME_CHARS:
        raise ChatError("invalid_frame")
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError) as exc:
        raise ChatError("invalid_json") from exc
    if not isinstance(data, dict):
        raise ChatError("invalid_json")
    if not _well_shaped(data):
        raise ChatError("invalid_frame")
    frame_type = data.get("type")
    return Envelope(frame_type if isinstance(frame_type, str) else "", data)


def _well_shaped(data: dict[str, Any]) -> bool:
    """No deeper than ``MAX_NESTING``, and no string (key or value) with a lone surrogate.

    Walked with a stack, not recursion: json.loads accepts nesting deep
    enough that a recursive walk would run out of stack.
    """
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return False
        elif isinstance(value, dict | list):
            if depth > MAX_NESTING:
                return False
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    return False
                pending.append((item, depth + 1))
    return True


def _is_clean_id(value: str, max_chars: int) -> bool:
    return 1 <= len(value) <= max_chars and not _CONTROL.search(value)


def _non_negative_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        return None
    return value


def _conversation_id(data: Mapping[str, Any]) -> int:
    conversation_id = _non_negative_int(data.get("conversation_id"))
    if conversation_id is None:
        raise ChatError("unknown_conversation")
    return conversation_id


def _client_id(data: Mapping[str, Any]) -> str:
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not _is_clean_id(client_id, MAX_CLIENT_ID_CHARS):
        raise ChatError("invalid_client_id")
    return client_id


def _text(data: Mapping[str, Any]) -> str:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ChatError("empty_text")
    if len(text) > settings.SUPPORTLINE_MAX_MESSAGE_LENGTH:
        raise ChatError("text_too_long")
    return text


def _choice(data: Mapping[str, Any], key: str, code: str) -> str:
    value = data.get(key) or ""
    if not isinstance(value, str) or len(value) > 40:
        raise ChatError(code)
    return value


def _start(data: Mapping[str, Any]) -> Start:
    return Start(age_band=_choice(data, "age_band", "invalid_age_band"), topic=_choice(data, "topic", "invalid_topic"))


def _resume(data: Mapping[str, Any]) -> Resume:
    token = data.get("token")
    if not isinstance(token, str) or not _is_clean_id(token, MAX_TOKEN_CHARS):
        raise ChatError("unknown_token")
    return Resume(token=token, last_seq=_non_negative_int(data.get("last_seq")) or 0)


def _visitor_message(data: Mapping[str, Any]) -> VisitorMessage:
    return VisitorMessage(client_id=_client_id(data), text=_text(data))


def _visitor_typing(data: Mapping[str, Any]) -> VisitorTyping:
    return VisitorTyping(active=data.get("active") is True)


def _chat_action(data: Mapping[str, Any]) -> ChatAction:
    return ChatAction(conversation_id=_conversation_id(data))


def _open(data: Mapping[str, Any]) -> Open:
    return Open(conversation_id=_conversation_id(data), last_seq=_non_negative_int(data.get("last_seq")) or 0)


def _staff_message(data: Mapping[str, Any]) -> StaffMessage:
    return StaffMessage(conversation_id=_conversation_id(data), client_id=_client_id(data), text=_text(data))


def _staff_typing(data: Mapping[str, Any]) -> StaffTyping:
    return StaffTyping(conversation_id=_conversation_id(data), active=data.get("active") is True)


def _transfer(data: Mapping[str, Any]) -> Transfer:
    conversation_id = _conversation_id(data)
    to = data.get("to")
    to_user_id = None
    if to is not None:
        to_user_id = _non_negative_int(to)
        if to_user_id is None:
            raise ChatError("invalid_counsellor")
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise ChatError("invalid_note")
    return Transfer(conversation_id=conversation_id, to_user_id=to_user_id, note=note)


def _escalation(data: Mapping[str, Any]) -> Escalation:
    conversation_id = _conversation_id(data)
    step = data.get("step")
    if step not in Conversation.EscalationStep.values:
        raise ChatError("invalid_step")
    return Escalation(conversation_id=conversation_id, step=Conversation.EscalationStep(step))


def _block(data: Mapping[str, Any]) -> Block:
    conversation_id = _conversation_id(data)
    reason = data.get("reason") or ""
    if not isinstance(reason, str):
        raise ChatError("reason_required")
    hours = _non_negative_int(data.get("hours"))
    if hours is None:
        raise ChatError("invalid_duration")
    return Block(conversation_id=conversation_id, reason=reason, hours=hours)


def _classify(data: Mapping[str, Any]) -> Classify:
    conversation_id = _conversation_id(data)
    categories = data.get("categories")
    if (
        not isinstance(categories, list)
        or len(categories) > MAX_CATEGORIES
        or not all(isinstance(c, str) for c in categories)
    ):
        raise ChatError("invalid_categories")
    outcome = data.get("outcome")
    return Classify(
        conversation_id=conversation_id,
        categories=tuple(categories),
        outcome=outcome if isinstance(outcome, str) else "",
    )


def _nothing[T](kind: Callable[[], T]) -> Callable[[Mapping[str, Any]], T]:
    return lambda _data: kind()


Parser = Callable[[Mapping[str, Any]], Frame]

VISITOR_FRAMES: dict[str, Parser] = {
    "start": _start,
    "resume": _resume,
    "message": _visitor_message,
    "typing": _visitor_typing,
    "end": _nothing(End),
    "leave": _nothing(Leave),
    "ping": _nothing(Ping),
}

STAFF_FRAMES: dict[str, Parser] = {
    "claim": _chat_action,
    "open": _open,
    "close": _chat_action,
    "message": _staff_message,
    "typing": _staff_typing,
    "end": _chat_action,
    "transfer": _transfer,
    "risk": _chat_action,
    "escalation": _escalation,
    "block": _block,
    "take_over": _chat_action,
    "classify": _classify,
    "delete_transcript": _chat_action,
    "ping": _nothing(Ping),
}


def parse(envelope: Envelope, parsers: Mapping[str, Parser]) -> Frame:
    """The typed value of ``envelope`` for one endpoint's frame types, or ChatError."""
    parser = parsers.get(envelope.type)
    if parser is None:
        raise ChatError("unknown_type")
    return parser(envelope.data)
