"""Frames are parsed into typed values at the socket's edge, or refused with a documented code."""

import json

import pytest

from supportline import frames
from supportline.models import Conversation
from supportline.services import ChatError


def parse(raw: str, parsers=frames.STAFF_FRAMES):
    return frames.parse(frames.decode(raw), parsers)


def refusal(raw: str, parsers=frames.STAFF_FRAMES) -> str:
    with pytest.raises(ChatError) as refused:
        parse(raw, parsers)
    return refused.value.code


def test_well_formed_frames_become_typed_values():
    assert parse('{"type": "message", "conversation_id": 7, "client_id": "c1", "text": "hej"}') == (
        frames.StaffMessage(conversation_id=7, client_id="c1", text="hej")
    )
    step = parse('{"type": "escalation", "conversation_id": 7, "step": "called_112"}')
    assert step == frames.Escalation(7, Conversation.EscalationStep.CALLED_112)
    assert parse('{"type": "transfer", "conversation_id": 7, "to": null}') == frames.Transfer(7, None, "")
    assert parse('{"type": "resume", "token": "%s"}' % ("t" * 43), frames.VISITOR_FRAMES) == frames.Resume("t" * 43, 0)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
        ('{"type": "classify", "categories": [["deep"]]}', "invalid_frame"),
        ('{"type": "claim", "conversation_id": {"a": {"b": 1}}}', "invalid_frame"),
        ('{"type": "x"' + " " * 20_000 + "}", "invalid_frame"),
        ('{"type": "launch"}', "unknown_type"),
        ('{"type": "claim", "conversation_id": "7"}', "unknown_conversation"),
        ('{"type": "claim", "conversation_id": true}', "unknown_conversation"),
        ('{"type": "message", "conversation_id": 7, "client_id": "a\\u0000b", "text": "hej"}', "invalid_client_id"),
        ('{"type": "message", "conversation_id": 7, "client_id": "a\\nb", "text": "hej"}', "invalid_client_id"),
        (
            '{"type": "message", "conversation_id": 7, "client_id": "%s", "text": "hej"}' % ("x" * 65),
            "invalid_client_id",
        ),
        ('{"type": "message", "conversation_id": 7, "client_id": "c", "text": 5}', "empty_text"),
        ('{"type": "transfer", "conversation_id": 7, "to": "3"}', "invalid_counsellor"),
        ('{"type": "transfer", "conversation_id": 7, "note": ["x"]}', "invalid_note"),
        ('{"type": "escalation", "conversation_id": 7, "step": "called_911"}', "invalid_step"),
        ('{"type": "block", "conversation_id": 7, "reason": "x", "hours": "24"}', "invalid_duration"),
        ('{"type": "classify", "conversation_id": 7, "categories": "grooming"}', "invalid_categories"),
        # Nesting that json.loads accepts but a recursive walk would not survive.
        ('{"type": "ping", "a": ' + "[" * 990 + "]" * 990 + "}", "invalid_frame"),
        # Lone surrogates have no UTF-8 form: never stored, never echoed.
        ('{"type": "message", "conversation_id": 7, "client_id": "a\\ud800", "text": "hej"}', "invalid_frame"),
        ('{"type": "message", "conversation_id": 7, "client_id": "c", "text": "\\udfff"}', "invalid_frame"),
        ('{"type": "ping", "\\ud800": 1}', "invalid_frame"),
        # Past PostgreSQL's bigint.
        (json.dumps({"type": "claim", "conversation_id": 2**63}), "unknown_conversation"),
        (json.dumps({"type": "block", "conversation_id": 7, "reason": "x", "hours": 2**64}), "invalid_duration"),
    ],
)
def test_malformed_frames_are_refused_with_their_code(raw, code):
    assert refusal(raw) == code


def test_visitor_token_with_control_characters_is_an_unknown_token():
    raw = json.dumps({"type": "resume", "token": "t" * 40 + "\x00\x01\x02"})
    assert refusal(raw, frames.VISITOR_FRAMES) == "unknown_token"


def test_text_longer_than_the_limit_is_refused(settings):
    raw = json.dumps({"type": "message", "client_id": "c", "text": "a" * (settings.SUPPORTLINE_MAX_MESSAGE_LENGTH + 1)})
    assert refusal(raw, frames.VISITOR_FRAMES) == "text_too_long"
