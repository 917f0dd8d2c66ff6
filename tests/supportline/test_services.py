"""The support line's services and selectors against the real database."""

import json
import threading
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from retention.models import RetentionRun
from retention.services import run_policy
from staff.roles import Role
from supportline import selectors, services
from supportline.models import (
    Conversation,
    Feedback,
    InternalNote,
    Message,
    OpeningHours,
    SpecialDay,
)
from supportline.services import ChatError
from tests.factories import StaffUserFactory
from tests.supportline.helpers import open_all_week

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY_EVENING = datetime(2026, 11, 30, 19, 0, tzinfo=STOCKHOLM)


@pytest.fixture
def counsellor() -> Any:
    return StaffUserFactory(role=Role.COUNSELLOR)


def queued(**fields: Any) -> Conversation:
    defaults = {"token_hash": selectors.token_hash(str(fields)), "queued_at": timezone.now()}
    return Conversation.objects.create(**{**defaults, **fields})


def active(counsellor: Any) -> Conversation:
    return queued(status=Conversation.Status.ACTIVE, counsellor=counsellor, claimed_at=timezone.now())


@pytest.fixture
def layer_events(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    """Every (group, event) sent through the channel layer while the test runs."""
    sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(group: str, event: dict[str, Any]) -> None:
        sent.append((group, event))

    monkeypatch.setattr(get_channel_layer(), "group_send", group_send)
    return sent


# Keys a layer event may carry: ids, seq numbers, kinds and flags, never text.
EVENT_KEYS = {"type", "conversation_id", "seq", "new_conversation_id", "sender", "active"}


def assert_no_text(events: list[tuple[str, dict[str, Any]]]) -> None:
    for _group, event in events:
        assert set(event) <= EVENT_KEYS, event
        assert all(not isinstance(v, str) or v == event["type"] for k, v in event.items() if k != "sender"), event


# --- Opening hours --------------------------------------------------------------


@pytest.mark.django_db
def test_open_within_weekly_hours_and_closed_outside():
    OpeningHours.objects.create(weekday=0, opens=time(18), closes=time(22))
    assert selectors.opening_status(MONDAY_EVENING).is_open
    later = selectors.opening_status(MONDAY_EVENING.replace(hour=22, minute=30))
    assert not later.is_open
    assert later.next_opening == datetime(2026, 12, 7, 18, 0, tzinfo=STOCKHOLM)


@pytest.mark.django_db
def test_a_holiday_closes_the_chat_and_the_next_opening_skips_it():
    for weekday in range(7):
        OpeningHours.objects.create(weekday=weekday, opens=time(18), closes=time(0, 0))
    SpecialDay.objects.create(date=MONDAY_EVENING.date(), label="Stängt för utbildning")
    status = selectors.opening_status(MONDAY_EVENING)
    assert not status.is_open
    assert status.next_opening == datetime(2026, 12, 1, 18, 0, tzinfo=STOCKHOLM)
    assert [d.label for d in status.upcoming_special_days] == ["Stängt för utbildning"]


@pytest.mark.django_db
def test_closing_at_midnight_means_open_until_midnight():
    OpeningHours.objects.create(weekday=0, opens=time(18), closes=time(0, 0))
    assert selectors.opening_status(MONDAY_EVENING.replace(hour=23, minute=59)).is_open


@pytest.mark.django_db
def test_start_is_refused_while_closed():
    with pytest.raises(ChatError) as refused:
        services.conversation_start(now=MONDAY_EVENING)
    assert refused.value.code == "closed"


@pytest.mark.django_db
def test_start_stores_only_a_hash_of_the_token():
    open_all_week()
    started = services.conversation_start(age_band="13_15", topic="threat")
    assert len(started.token) >= 43
    assert started.conversation.token_hash == selectors.token_hash(started.token)
    assert started.token not in str(Conversation.objects.values().get())
    assert selectors.conversation_for_token(started.token) == started.conversation


@pytest.mark.django_db
@pytest.mark.parametrize("choices", [{"age_band": "99"}, {"topic": "nope"}])
def test_start_refuses_unknown_choices(choices):
    open_all_week()
    with pytest.raises(ChatError):
        services.conversation_start(**choices)


# --- Queue --------------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_puts_urgent_chats_first_then_longest_waiting():
    now = timezone.now()
    first = queued(queued_at=now - timedelta(minutes=10))
    second = queued(queued_at=now - timedelta(minutes=5))
    urgent = queued(queued_at=now, topic=Conversation.Topic.DANGER_NOW)
    assert [c.pk for c in selectors.queued_conversations()] == [urgent.pk, first.pk, second.pk]
    assert selectors.queue_position(second.pk) == 3


# --- Messages ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_gapless_unique_seqs(counsellor):
    conversation = active(counsellor)
    errors: list[BaseException] = []

    def sender(n: int) -> None:
        try:
            for i in range(5):
                services.message_post(
                    conversation_id=conversation.pk, sender="visitor", client_id=f"{n}-{i}", text="hej"
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert list(Message.objects.filter(conversation=conversation).values_list("seq", flat=True)) == list(range(1, 41))


@pytest.mark.django_db
def test_resend_returns_the_stored_message(counsellor):
    conversation = active(counsellor)
    first, created = services.message_post(conversation_id=conversation.pk, sender="visitor", client_id="a", text="x")
    again, created_again = services.message_post(
        conversation_id=conversation.pk, sender="visitor", client_id="a", text="x"
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk and again.seq == 1


@pytest.mark.django_db
def test_only_the_assigned_counsellor_may_write(counsellor):
    conversation = active(counsellor)
    other: Any = StaffUserFactory(role=Role.COUNSELLOR)
    with pytest.raises(ChatError) as refused:
        services.message_post(
            conversation_id=conversation.pk, sender="counsellor", client_id="x", text="hej", author=other
        )
    assert refused.value.code == "forbidden"


@pytest.mark.django_db
def test_message_post_broadcasts_nothing_itself_and_its_event_carries_no_plain_text(
    counsellor, django_capture_on_commit_callbacks, layer_events
):
    conversation = active(counsellor)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message, created = services.message_post(
            conversation_id=conversation.pk, sender="visitor", client_id="x", text="hemligt"
        )
    # The consumer announces the message once the service returned (committed).
    assert created and callbacks == [] and layer_events == []
    group, event = services.message_event(message)
    sealed = event.pop("sealed")
    assert (group, event) == (
        f"supportline.conversation.{conversation.pk}",
        {"type": "chat.message", "conversation_id": conversation.pk, "seq": 1},
    )
    # The message as the database holds it, for receivers in other processes: ciphertext, never the text.
    stored = Message.objects.values_list("text", flat=True).get(pk=message.pk)  # decrypted by the field
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM supportline_message WHERE id = %s", [message.pk])
        (token,) = cursor.fetchone()
    assert stored == "hemligt" and sealed["text"] == token and "hemligt" not in json.dumps(sealed)
    assert set(sealed) == {"sender", "client_id", "sent_at", "text", "mac"}
    # Read back from the database, a message has no stored text at hand: ids and seq only.
    assert "sealed" not in services.message_event(Message.objects.get(pk=message.pk))[1]


# --- Counsellor actions ----------------------------------------------------------------


@pytest.mark.django_db
def test_start_and_claim_announce_ids_only_to_the_right_groups(
    counsellor, django_capture_on_commit_callbacks, layer_events
):
    open_all_week()
    with django_capture_on_commit_callbacks(execute=True):
        started = services.conversation_start(topic="threat")
    conversation_id = started.conversation.pk
    assert layer_events == [
        ("supportline.queue", {"type": "queue.changed"}),
        # One staff event both refreshes the dashboards and raises the alert.
        ("supportline.staff", {"type": "staff.changed", "new_conversation_id": conversation_id}),
    ]
    layer_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(conversation_id=conversation_id, sender="visitor", client_id="1", text="Hjälp mig")
        services.conversation_claim(conversation_id=conversation_id, counsellor=counsellor)
        services.conversation_end_by_staff(conversation_id=conversation_id, actor=counsellor)
    group = f"supportline.conversation.{conversation_id}"
    assert layer_events == [
        (group, {"type": "chat.state", "conversation_id": conversation_id}),
        ("supportline.queue", {"type": "queue.changed"}),
        ("supportline.staff", {"type": "staff.changed"}),
        (group, {"type": "chat.state", "conversation_id": conversation_id}),
        ("supportline.staff", {"type": "staff.changed"}),
    ]
    assert_no_text(layer_events)


@pytest.mark.django_db
def test_claim_respects_the_cap(counsellor, settings):
    settings.SUPPORTLINE_MAX_CHATS_PER_COUNSELLOR = 1
    first, second = queued(), queued(topic="other")
    services.conversation_claim(conversation_id=first.pk, counsellor=counsellor)
    with pytest.raises(ChatError) as refused:
        services.conversation_claim(conversation_id=second.pk, counsellor=counsellor)
    assert refused.value.code == "cap_reached"
    assert AuditEvent.objects.filter(action="supportline.conversation.claimed").count() == 1


@pytest.mark.django_db
def test_analysts_and_editors_cannot_claim():
    conversation = queued()
    for role in (Role.ANALYST, Role.EDITOR):
        with pytest.raises(ChatError):
            services.conversation_claim(
                conversation_id=conversation.pk, counsellor=cast(Any, StaffUserFactory(role=role))
            )


@pytest.mark.django_db
def test_transfer_to_a_named_counsellor_or_back_to_the_queue_with_an_encrypted_note(counsellor):
    conversation = active(counsellor)
    colleague: Any = StaffUserFactory(role=Role.COUNSELLOR)
    services.conversation_transfer(
        conversation_id=conversation.pk, actor=counsellor, to_user_id=colleague.pk, note="Tala lugnt"
    )
    conversation.refresh_from_db()
    assert conversation.counsellor == colleague
    services.conversation_transfer(
        conversation_id=conversation.pk, actor=colleague, to_user_id=None, note="Behöver kvinna"
    )
    conversation.refresh_from_db()
    assert (conversation.status, conversation.counsellor) == ("queued", None)
    assert [n.text for n in InternalNote.objects.all()] == ["Tala lugnt", "Behöver kvinna"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM supportline_internalnote")
        assert all("Tala" not in row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_imminent_risk_alerts_supervisors_and_is_audited(counsellor, django_capture_on_commit_callbacks, layer_events):
    conversation = active(counsellor)
    with django_capture_on_commit_callbacks() as callbacks:
        services.conversation_mark_risk(conversation_id=conversation.pk, actor=counsellor)
        assert layer_events == []  # nothing goes out before the commit
    assert callbacks  # the supervisors' alert goes out after commit
    for callback in callbacks:
        callback()
    assert ("supportline.supervisors", {"type": "risk.alert", "conversation_id": conversation.pk}) in layer_events
    assert (
        f"supportline.conversation.{conversation.pk}",
        {"type": "chat.state", "conversation_id": conversation.pk},
    ) in layer_events
    assert ("supportline.staff", {"type": "staff.changed"}) in layer_events
    assert_no_text(layer_events)
    services.escalation_step_done(conversation_id=conversation.pk, actor=counsellor, step="called_112")
    conversation.refresh_from_db()
    assert conversation.imminent_risk and conversation.escalation_steps == ["called_112"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"supportline.conversation.risk_marked", "supportline.escalation.called_112"} <= actions


@pytest.mark.django_db
def test_block_lasts_at_least_a_day_ends_the_chat_and_refuses_resume(counsellor):
    open_all_week()
    started = services.conversation_start()
    services.conversation_claim(conversation_id=started.conversation.pk, counsellor=counsellor)
    with pytest.raises(ChatError):
        services.visitor_block(conversation_id=started.conversation.pk, actor=counsellor, reason="Hot", hours=2)
    with pytest.raises(ChatError):
        services.visitor_block(conversation_id=started.conversation.pk, actor=counsellor, reason=" ", hours=24)
    block = services.visitor_block(conversation_id=started.conversation.pk, actor=counsellor, reason="Hot", hours=24)
    assert block.expires_at - block.created_at >= timedelta(hours=23, minutes=59)
    resume = selectors.conversation_for_resume(started.token)
    assert resume is not None
    assert resume.refusal == "blocked"
    started.conversation.refresh_from_db()
    assert started.conversation.end_reason == "blocked"


@pytest.mark.django_db
def test_classification_only_after_the_chat_and_without_text(counsellor):
    conversation = active(counsellor)
    with pytest.raises(ChatError):
        services.conversation_classify(
            conversation_id=conversation.pk, actor=counsellor, categories=["grooming"], outcome="support"
        )
    services.conversation_end_by_staff(conversation_id=conversation.pk, actor=counsellor)
    classification = services.conversation_classify(
        conversation_id=conversation.pk, actor=counsellor, categories=["grooming", "images"], outcome="referred"
    )
    assert classification.categories == ["grooming", "images"]


@pytest.mark.django_db
def test_quick_exit_beacon_ends_the_chat_as_left():
    open_all_week()
    started = services.conversation_start()
    assert services.conversation_leave_by_token(started.token)
    assert not services.conversation_leave_by_token(started.token)  # idempotent
    started.conversation.refresh_from_db()
    assert (started.conversation.status, started.conversation.end_reason) == ("ended", "left")


@pytest.mark.django_db
def test_sweeper_ends_queued_chats_whose_visitor_left(counsellor):
    gone = queued(visitor_connected=False, visitor_seen_at=timezone.now() - timedelta(minutes=30))
    here = queued(visitor_connected=True, visitor_seen_at=timezone.now() - timedelta(minutes=30), topic="x")
    assert services.sweep_abandoned() == 1
    gone.refresh_from_db()
    here.refresh_from_db()
    assert (gone.end_reason, here.status) == ("abandoned", "queued")


# --- Retention ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_transcripts_are_purged_after_the_retention_period_counting_only(counsellor):
    old, recent = active(counsellor), active(counsellor)
    for conversation in (old, recent):
        services.message_post(conversation_id=conversation.pk, sender="visitor", client_id="1", text="hej")
        services.conversation_end_by_staff(conversation_id=conversation.pk, actor=counsellor)
    Conversation.objects.filter(pk=old.pk).update(ended_at=timezone.now() - timedelta(days=31))
    run = run_policy("transcripts")
    assert (run.kind, run.deleted) == ("transcripts", 1)
    assert not Message.objects.filter(conversation=old).exists()
    assert Message.objects.filter(conversation=recent).exists()
    old.refresh_from_db()
    assert old.transcript_deleted_at is not None and old.token_hash is None
    assert run_policy("transcripts").deleted == 0  # idempotent


@pytest.mark.django_db
def test_delete_transcript_now_for_an_ended_chat(counsellor):
    conversation = active(counsellor)
    services.message_post(conversation_id=conversation.pk, sender="visitor", client_id="1", text="Jag bor på X-gatan 3")
    with pytest.raises(ChatError):
        services.transcript_delete_now(conversation_id=conversation.pk, actor=counsellor)
    services.conversation_end_by_staff(conversation_id=conversation.pk, actor=counsellor)
    assert services.transcript_delete_now(conversation_id=conversation.pk, actor=counsellor) == 1
    assert AuditEvent.objects.filter(action="supportline.transcript.deleted").exists()


@pytest.mark.django_db
def test_feedback_is_purged_by_its_own_period():
    Feedback.objects.create(answer="yes")
    Feedback.objects.filter().update(created_at=timezone.now() - timedelta(days=400))
    Feedback.objects.create(answer="no")
    run = run_policy("feedback")
    assert run.deleted == 1
    assert RetentionRun.objects.filter(kind="feedback").count() == 1


@pytest.mark.django_db
def test_opening_a_transcript_is_audited(counsellor):
    conversation = active(counsellor)
    services.conversation_opened(conversation_id=conversation.pk, user=counsellor)
    event = AuditEvent.objects.filter(action="supportline.transcript.viewed").get()
    assert event.actor == counsellor
    assert event.object_id == str(conversation.pk)
