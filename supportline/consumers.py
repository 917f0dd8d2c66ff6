"""The two chat sockets: ``/ws/chat/`` for visitors, ``/ws/counsellor/`` for staff.

Consumers only parse frames into typed values (``supportline.frames``), call
services and selectors off the event loop, and forward events. Layer events
carry ids and ``seq`` numbers; on each one the consumer reads from the
database every message after the last one it sent, so a lost or repeated
layer message can neither hide nor duplicate a message. Group names come from
server-side conversation ids only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from privacy.ratelimit import ahit, reconciled_counters
from resilience.channel_layer import ORIGIN
from staff import revocation
from staff.access import scope_has_verified_role
from staff.roles import Role
from staff.sessions import record_activity, session_alive
from staff.types import StaffUser
from supportline import frames, live, outage, selectors, services
from supportline.db import run_db
from supportline.models import Conversation, Message, conversation_group
from supportline.recent import recent_messages
from supportline.services import ChatError

logger = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]

# A connection refused by its frame budget in every second for this long is closed.
OVER_BUDGET_CLOSE_SECONDS = 10.0
# The close code for that; the page waits before it reconnects (docs/chat-protocol.md).
OVER_BUDGET_CLOSE_CODE = 4429
# At most this many dashboard (console) and queue (visitor) updates a second.
DASHBOARD_UPDATES_PER_SECOND = 2
QUEUE_UPDATES_PER_SECOND = 1


def _visitor_attached(
    conversation_id: int, after_seq: int, *, mark_connected: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A visitor socket bound to its chat: presence noted, then what it missed and the state, in one hop."""
    if mark_connected:
        services.visitor_presence(conversation_id=conversation_id, connected=True)
    return selectors.message_frames_after(conversation_id, after_seq), selectors.visitor_state_frame(conversation_id)


def _staff_chat_and_messages(
    conversation_id: int, user: StaffUser, after_seq: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A chat just opened on a console: its frame and the messages after ``after_seq``, in one hop."""
    chat = selectors.staff_chat_frame(conversation_id, user)
    return chat, selectors.message_frames_after(conversation_id, after_seq, for_staff=True)


class _SlidingWindow:
    """Counts events in the last second for one connection."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= 1.0:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True

    def retry_after_ms(self) -> int:
        """How long until the window has room again."""
        if len(self.times) < self.limit:
            return 0
        return max(1, int((self.times[0] + 1.0 - time.monotonic()) * 1000) + 1)


def _next_second_ms() -> int:
    """Milliseconds until the next fixed one-second window of the shared per-token limit."""
    return 1000 - int(time.time() * 1000) % 1000


class _ChatSocket(AsyncWebsocketConsumer):
    """Frame parsing, error frames, per-connection limits and the layer-outage fallback of both sockets."""

    parsers: Mapping[str, frames.Parser] = {}
    handlers: dict[str, str] = {}

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes old database connections on its single sync thread
        # before every handler: one hop through that thread for every frame and
        # every layer event of every socket in the process. Frames and layer
        # events reach the database only through run_db, whose threads hand their
        # connections back themselves; connect and disconnect may use the sync
        # thread (staff.access) and keep Channels' clean-up.
        if message["type"] in ("websocket.connect", "websocket.disconnect"):
            await super().dispatch(message)
            return
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def watch_layer(self) -> None:
        """Joins the process's layer watch; call before the first layer call."""
        self.layer_watch = outage.layer_watch(self.channel_layer)
        self.layer_watch.watch(self)
        self.joined: set[str] = set()
        self.poll_task: asyncio.Task[None] | None = None

    def unwatch_layer(self) -> None:
        self.layer_watch.unwatch(self)
        if self.poll_task is not None:
            self.poll_task.cancel()

    async def join(self, group: str) -> None:
        self.joined.add(group)
        await self._layer(self.channel_layer.group_add(group, self.channel_name))

    async def leave(self, group: str) -> None:
        self.joined.discard(group)
        await self._layer(self.channel_layer.group_discard(group, self.channel_name))

    async def publish(self, group: str, event: dict[str, Any], *, to_self: bool = True) -> None:
        # A lost event is healed by polling (below) or by the next event.
        if not to_self:
            # This socket has already done what the event asks (shown its own message):
            # the layer does not hand it back (resilience.channel_layer).
            event = {**event, ORIGIN: self.channel_name}
        await self._layer(self.channel_layer.group_send(group, event))

    async def _layer(self, call: Awaitable[None]) -> None:
        if not await outage.layer_call(self.layer_watch, call):
            await self.layer_down()  # also when the watch already knew: this socket may be new

    async def layer_down(self) -> None:
        if self.poll_task is None or self.poll_task.done():
            self.poll_task = asyncio.create_task(self._poll())

    async def layer_up(self) -> None:
        # Subscriptions made while the layer was down never reached Redis.
        for group in list(self.joined):
            await outage.layer_call(self.layer_watch, self.channel_layer.group_add(group, self.channel_name))

    async def _poll(self) -> None:
        while not self.layer_watch.healthy or self.layer_watch.recently_recovered():
            await asyncio.sleep(outage.POLL_SECONDS)
            try:
                await self.poll_database()
            except Exception as exc:
                logger.warning("polling failed: %s", type(exc).__name__)

    async def poll_database(self) -> None:
        """While the layer is down: send what events would have announced."""

    async def shared_limit_allows(self, bucket: str, identity: str, *, limit: int, window_seconds: int) -> bool:
        """The limit shared across connections; without its cache, the per-connection limits still hold."""
        try:
            return await ahit(bucket, identity, limit=limit, window_seconds=window_seconds)
        except Exception as exc:
            logger.warning("shared rate limit unavailable: %s", type(exc).__name__)
            return True

    async def connect(self) -> None:
        per_second = settings.SUPPORTLINE_MESSAGES_PER_SECOND
        self.message_window = _SlidingWindow(per_second)
        self.frame_window = _SlidingWindow(per_second * 4)
        self.refused_since: float | None = None
        self.last_refused = 0.0
        await self.accept()

    async def send_json(self, frame: Mapping[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(self, code: str, **context: Any) -> None:
        await self.send_json({"type": "error", "code": code, **context})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Every frame counts, before any parsing: malformed ones cost the same.
        if not self.frame_window.allow():
            await self._refuse_over_budget()
            return
        envelope = None
        try:
            envelope = frames.decode(text_data)
            if not await self.allow_frame(envelope.type):
                return
            frame = frames.parse(envelope, self.parsers)
            handler: Handler = getattr(self, self.handlers[envelope.type])
            await handler(frame)
        except ChatError as exc:
            context = envelope.context() if envelope is not None else {}
            if exc.retry_after_ms is not None:
                context["retry_after_ms"] = exc.retry_after_ms
            await self.send_error(exc.code, **context)
        except Conversation.DoesNotExist:
            await self.send_error("unknown_conversation")
        except Exception as exc:
            # Logged without the frame or the exception's message: either may hold what was said.
            # Source lines are left out too: only where, never what.
            where = " < ".join(
                f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(exc.__traceback__)[::-1][:4]
            )
            logger.error(
                "chat frame %r failed with %s at %s",
                envelope.type if envelope else None,
                type(exc).__name__,
                where,
            )
            await self.send_error("internal")

    async def _refuse_over_budget(self) -> None:
        now = time.monotonic()
        if self.refused_since is None or now - self.last_refused > 1.0:
            self.refused_since = now
        self.last_refused = now
        if now - self.refused_since > OVER_BUDGET_CLOSE_SECONDS:
            await self.close(code=OVER_BUDGET_CLOSE_CODE)
            return
        await self.send_error("rate_limited", retry_after_ms=self.frame_window.retry_after_ms())

    async def allow_frame(self, frame_type: str) -> bool:
        """A hook run before each well-formed frame; False drops it (the hook may close)."""
        return True

    async def handle_ping(self, frame: frames.Ping) -> None:
        await self.send_json({"type": "pong"})

    def check_message_rate(self) -> None:
        if not self.message_window.allow():
            raise ChatError("rate_limited", retry_after_ms=self.message_window.retry_after_ms())


class VisitorChatConsumer(_ChatSocket):
    """The young person's socket: start or resume, then talk."""

    parsers = frames.VISITOR_FRAMES
    handlers = {
        "start": "handle_start",
        "resume": "handle_resume",
        "message": "handle_message",
        "typing": "handle_typing",
        "end": "handle_end",
        "leave": "handle_leave",
        "ping": "handle_ping",
    }

    async def connect(self) -> None:
        self.conversation_id: int | None = None
        self.token_hash = ""
        self.last_sent = 0
        self.in_queue_group = False
        self.queue_updates = live.Coalescer(self._send_queue, interval=1 / QUEUE_UPDATES_PER_SECOND)
        self.last_state: dict[str, Any] | None = None
        # The queue frame this page shows now: a change elsewhere in the queue that
        # leaves it as it is (someone new behind) sends nothing.
        self.last_queue_frame: dict[str, Any] | None = None
        self.watch_layer()
        await super().connect()

    async def disconnect(self, code: int) -> None:
        self.queue_updates.cancel()
        self.unwatch_layer()
        if self.conversation_id is not None:
            await self.leave(conversation_group(self.conversation_id))
            await self._leave_queue_group()
            await run_db(services.visitor_presence, conversation_id=self.conversation_id, connected=False)

    # --- frames from the visitor ---

    async def handle_start(self, frame: frames.Start) -> None:
        if self.conversation_id is not None:
            raise ChatError("already_started")
        allowed = await self.shared_limit_allows(
            "supportline-start",
            str(self.scope.get("anonymous_client", "")),
            limit=settings.SUPPORTLINE_STARTS_PER_HOUR,
            window_seconds=3600,
        )
        if not allowed:
            raise ChatError("rate_limited")
        started = await run_db(services.conversation_start, age_band=frame.age_band, topic=frame.topic)
        # Bound before anything else can fail: disconnect then marks the visitor
        # gone, so the sweeper ends a chat whose token never reached anyone.
        self.conversation_id = started.conversation.pk
        await self.send_json({"type": "session", "token": started.token})
        # The start itself marked the visitor connected.
        await self._bind(started.conversation.pk, started.conversation.token_hash or "", last_seq=0, connected=True)

    async def handle_resume(self, frame: frames.Resume) -> None:
        if self.conversation_id is not None:
            raise ChatError("already_started")
        target = await run_db(selectors.conversation_for_resume, frame.token)
        if target is None:
            raise ChatError("unknown_token")
        if target.refusal is not None:
            raise ChatError(target.refusal)
        await self._bind(target.conversation_id, target.token_hash, last_seq=frame.last_seq)

    async def handle_message(self, frame: frames.VisitorMessage) -> None:
        conversation_id = self._require_conversation()
        self.check_message_rate()
        # Decided in memory and reconciled with the other processes in batches:
        # no Redis round trip per message (privacy.ratelimit.ReconciledCounters).
        allowed = reconciled_counters().hit(
            "supportline-token", self.token_hash, limit=settings.SUPPORTLINE_MESSAGES_PER_SECOND, window_seconds=1
        )
        if not allowed:
            raise ChatError("rate_limited", retry_after_ms=_next_second_ms())
        message, created = await services.amessage_post(
            conversation_id=conversation_id,
            sender=Message.Sender.VISITOR,
            client_id=frame.client_id,
            text=frame.text,
        )
        # A resend is announced again: the first announcement may never have
        # gone out (the socket went away after the commit); receivers that
        # have the message drop it by its seq without reading.
        await self.publish(*services.message_event(message), to_self=False)
        # The message's own frame (with its client_id) acknowledges it: one
        # write, not an ack and then the echo. A separate ack only for a
        # message this socket has already shown (a resend).
        shown_before = self.last_sent
        if created and message.seq == shown_before + 1:
            # The echo comes from memory: what was just written is not read back.
            await self.send_json(selectors.message_frame(message))
            self.last_sent = message.seq
            return
        if message.seq > shown_before:
            await self._catch_up()  # everything up to this one, this one too
        if not shown_before < message.seq <= self.last_sent:
            await self.send_json({"type": "ack", "client_id": message.client_id, "seq": message.seq})

    async def handle_typing(self, frame: frames.VisitorTyping) -> None:
        conversation_id = self._require_conversation()
        await self.publish(
            *services.typing_event(conversation_id, Message.Sender.VISITOR, active=frame.active), to_self=False
        )

    async def handle_end(self, frame: frames.End) -> None:
        await self._end(Conversation.EndReason.VISITOR_ENDED)

    async def handle_leave(self, frame: frames.Leave) -> None:
        await self._end(Conversation.EndReason.LEFT)

    # --- events from the layer ---

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event["conversation_id"] == self.conversation_id and event["seq"] > self.last_sent:
            recent_messages().learn(event["conversation_id"], event["seq"], event.get("sealed"))
            await self._catch_up(through_seq=event["seq"])

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["conversation_id"] == self.conversation_id and event["sender"] != Message.Sender.VISITOR:
            await self.send_json({"type": "typing", "sender": event["sender"], "active": event["active"]})

    async def chat_state(self, event: dict[str, Any]) -> None:
        if event["conversation_id"] == self.conversation_id:
            await self._send_state()

    async def queue_changed(self, event: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            self.queue_updates.mark()

    async def poll_database(self) -> None:
        if self.conversation_id is None:
            return
        await self._catch_up()
        state = await run_db(selectors.visitor_state_frame, self.conversation_id)
        if state != self.last_state:
            await self._send_state()
        elif state["status"] == Conversation.Status.QUEUED:
            self.queue_updates.mark()

    # --- helpers ---

    def _require_conversation(self) -> int:
        if self.conversation_id is None:
            raise ChatError("no_session")
        return self.conversation_id

    async def _bind(self, conversation_id: int, token_hash: str, *, last_seq: int, connected: bool = False) -> None:
        # Subscribe first, then replay from the database: anything committed
        # meanwhile arrives live and is dropped if its seq was already sent.
        self.conversation_id = conversation_id
        self.token_hash = token_hash
        self.last_sent = last_seq
        await self.join(conversation_group(conversation_id))
        await self.join(services.QUEUE_GROUP)
        self.in_queue_group = True
        new, state = await run_db(_visitor_attached, conversation_id, last_seq, mark_connected=not connected)
        await self._send_new(new)
        await self._show_state(state)

    async def _catch_up(self, *, through_seq: int | None = None) -> None:
        conversation_id = self._require_conversation()
        await self._send_new(
            await selectors.amessage_frames_after(conversation_id, self.last_sent, through_seq=through_seq)
        )

    async def _send_new(self, new: list[dict[str, Any]]) -> None:
        for frame in new:
            if frame["seq"] > self.last_sent:
                await self.send_json(frame)
                self.last_sent = frame["seq"]

    async def _send_state(self) -> None:
        conversation_id = self._require_conversation()
        await self._show_state(await run_db(selectors.visitor_state_frame, conversation_id))

    async def _show_state(self, state: dict[str, Any]) -> None:
        self.last_state = state
        await self.send_json(state)
        if state["status"] == Conversation.Status.QUEUED:
            if not self.in_queue_group:  # back in the queue after a transfer
                await self.join(services.QUEUE_GROUP)
                self.in_queue_group = True
            # A state frame is followed by the queue frame even when it has not changed.
            self.last_queue_frame = None
            await self._send_queue(time.monotonic())
            self.queue_updates.flushed()
        else:
            await self._leave_queue_group()

    async def _send_queue(self, since: float) -> None:
        if self.conversation_id is None or not self.in_queue_group:
            return
        snapshot = await live.live_snapshot(not_before=since)
        frame = snapshot.queue_frame(self.conversation_id)
        if frame is not None and frame != self.last_queue_frame:
            self.last_queue_frame = frame
            await self.send_json(frame)

    async def _leave_queue_group(self) -> None:
        if self.in_queue_group:
            await self.leave(services.QUEUE_GROUP)
            self.in_queue_group = False

    async def _end(self, reason: Conversation.EndReason) -> None:
        conversation_id = self._require_conversation()
        await run_db(services.conversation_end, conversation_id=conversation_id, reason=reason)
        await self._send_state()


# The console shows "logged out" instead of reconnecting on this close code.
SESSION_EXPIRED_CLOSE_CODE = 4401
# Deactivated, out of the role, logged out or a new password: the console says so and stays closed.
ACCESS_REVOKED_CLOSE_CODE = revocation.REVOKED_CLOSE_CODE
# A console's pings renew its counsellor's place on the on-duty roster this often.
ON_DUTY_RENEW_SECONDS = 30.0


class CounsellorConsumer(_ChatSocket):
    """A counsellor's (or supervisor's) console: the queue, their chats, and actions."""

    parsers = frames.STAFF_FRAMES
    handlers = {
        "claim": "handle_claim",
        "open": "handle_open",
        "close": "handle_close",
        "message": "handle_message",
        "typing": "handle_typing",
        "end": "handle_end",
        "transfer": "handle_transfer",
        "risk": "handle_risk",
        "escalation": "handle_escalation",
        "block": "handle_block",
        "take_over": "handle_take_over",
        "classify": "handle_classify",
        "delete_transcript": "handle_delete_transcript",
        "ping": "handle_ping",
    }
    user: StaffUser
    session_loaded: bool
    grant: revocation.Grant | None

    async def allow_frame(self, frame_type: str) -> bool:
        # Work in the console is staff activity, though it never reaches the HTTP
        # middleware: it keeps the session alive (heartbeat pings do not), and
        # once the session has expired the console closes like any staff page.
        # The session is loaded once; after that only a moved clock is saved.
        session = self.scope.get("session")
        if not self.session_loaded:
            await run_db(session_alive, session)
            self.session_loaded = True
        if not session_alive(session):
            await self.close(code=SESSION_EXPIRED_CLOSE_CODE)
            return False
        if frame_type == "ping":
            return self.grant is not None  # reads and writes nothing: no re-check
        if not await self._still_granted():
            return False
        if session is not None and record_activity(session):
            await run_db(session.save)
        return True

    async def _still_granted(self, *, force: bool = False, lazy: bool = False) -> bool:
        """Re-checks the user behind this socket (staff.revocation); closes it with 4403 once revoked.

        ``lazy`` (for layer events, which the ``staff.revoked`` event already
        covers) re-checks only once the last full check has aged: no thread hop
        on the path of every live message.
        """
        if lazy and self.grant is not None and self.grant.recently_checked():
            return True
        if self.grant is not None:
            self.grant = await run_db(revocation.confirm, self.grant, self.scope["session"], force=force)
            if self.grant is None:
                await self.close(code=ACCESS_REVOKED_CLOSE_CODE)
        return self.grant is not None

    async def connect(self) -> None:
        self.opened: dict[int, int] = {}  # conversation id -> last seq sent
        self.session_loaded = False
        self.on_duty_renewed = float("-inf")
        self.dashboard_updates = live.Coalescer(self._send_dashboard, interval=1 / DASHBOARD_UPDATES_PER_SECOND)
        self.last_dashboard = ""
        self.is_supervisor = await scope_has_verified_role(self.scope, Role.SUPERVISOR)
        if not (self.is_supervisor or await scope_has_verified_role(self.scope, Role.COUNSELLOR)):
            await self.close()  # before accept: the handshake is refused with 403
            return
        self.grant = await run_db(
            revocation.grant,
            user_id=self.scope["user"].pk,
            role=Role.SUPERVISOR if self.is_supervisor else Role.COUNSELLOR,
            session=self.scope["session"],
        )
        if self.grant is None:
            await self.close()
            return
        self.user = self.scope["user"]
        self.watch_layer()
        await self.join(revocation.user_group(self.user.pk))
        await self.join(services.STAFF_GROUP)
        if self.is_supervisor:
            await self.join(services.SUPERVISOR_GROUP)
        await super().connect()
        await self._send_dashboard(time.monotonic())
        self.dashboard_updates.flushed()
        # On duty while a console is open: queued young people's estimates count this counsellor.
        await run_db(services.counsellor_on_duty, user_id=self.user.pk)
        self.on_duty_renewed = time.monotonic()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user"):
            return
        self.dashboard_updates.cancel()
        self.unwatch_layer()
        await run_db(services.counsellor_off_duty, user_id=self.user.pk)
        await self.leave(revocation.user_group(self.user.pk))
        await self.leave(services.STAFF_GROUP)
        await self.leave(services.SUPERVISOR_GROUP)
        for conversation_id in list(self.opened):
            await self.leave(conversation_group(conversation_id))

    # --- frames from staff ---

    async def handle_ping(self, frame: frames.Ping) -> None:
        # The console's heartbeat keeps its counsellor on duty, renewed well within the roster's expiry.
        if time.monotonic() - self.on_duty_renewed >= ON_DUTY_RENEW_SECONDS:
            self.on_duty_renewed = time.monotonic()
            await run_db(services.counsellor_on_duty, user_id=self.user.pk, changed=False)
        await super().handle_ping(frame)

    async def handle_claim(self, frame: frames.ChatAction) -> None:
        # Claim and the audited view of the transcript in one hop and one transaction.
        await run_db(services.conversation_claim_and_open, conversation_id=frame.conversation_id, counsellor=self.user)
        await self._open(frame.conversation_id, last_seq=0, audited=True)

    async def handle_open(self, frame: frames.Open) -> None:
        await self._open(frame.conversation_id, last_seq=frame.last_seq)

    async def handle_close(self, frame: frames.ChatAction) -> None:
        await self._close(frame.conversation_id)

    async def handle_message(self, frame: frames.StaffMessage) -> None:
        conversation_id = self._opened_id(frame.conversation_id)
        self.check_message_rate()
        message, created = await services.amessage_post(
            conversation_id=conversation_id,
            sender=Message.Sender.COUNSELLOR,
            client_id=frame.client_id,
            text=frame.text,
            author=self.user,
        )
        await self.publish(*services.message_event(message), to_self=False)  # a resend too (see the visitor's)
        # As for visitors: the message's own frame acknowledges it; an ack for
        # one already shown (a resend), or when the chat was closed meanwhile.
        last = self.opened.get(conversation_id)
        if last is not None and created and message.seq == last + 1:
            await self.send_json(selectors.message_frame(message, for_staff=True))
            self.opened[conversation_id] = message.seq
            return
        if last is not None and message.seq > last:
            await self._catch_up(conversation_id)  # this one too, unless the chat was closed meanwhile
        if last is None or not last < message.seq <= self.opened.get(conversation_id, 0):
            await self.send_json(
                {"type": "ack", "conversation_id": conversation_id, "client_id": message.client_id, "seq": message.seq}
            )

    async def handle_typing(self, frame: frames.StaffTyping) -> None:
        conversation_id = self._opened_id(frame.conversation_id)
        if not await run_db(selectors.may_signal_typing, conversation_id, self.user):
            return
        await self.publish(
            *services.typing_event(conversation_id, Message.Sender.COUNSELLOR, active=frame.active), to_self=False
        )

    async def handle_end(self, frame: frames.ChatAction) -> None:
        await self._act(services.conversation_end_by_staff, frame)

    async def handle_transfer(self, frame: frames.Transfer) -> None:
        await self._act(services.conversation_transfer, frame, to_user_id=frame.to_user_id, note=frame.note)

    async def handle_risk(self, frame: frames.ChatAction) -> None:
        await self._act(services.conversation_mark_risk, frame)

    async def handle_escalation(self, frame: frames.Escalation) -> None:
        await self._act(services.escalation_step_done, frame, step=frame.step)

    async def handle_block(self, frame: frames.Block) -> None:
        await self._act(services.visitor_block, frame, reason=frame.reason, hours=frame.hours)
        await self.send_json({"type": "blocked", "conversation_id": frame.conversation_id})

    async def handle_take_over(self, frame: frames.ChatAction) -> None:
        conversation_id = frame.conversation_id
        await run_db(services.conversation_take_over, conversation_id=conversation_id, supervisor=self.user)
        await self._open(conversation_id, last_seq=self.opened.get(conversation_id, 0))

    async def handle_classify(self, frame: frames.Classify) -> None:
        await self._act(services.conversation_classify, frame, categories=frame.categories, outcome=frame.outcome)
        await self.send_json({"type": "classified", "conversation_id": frame.conversation_id})

    async def handle_delete_transcript(self, frame: frames.ChatAction) -> None:
        await self._act(services.transcript_delete_now, frame)
        await self.send_json({"type": "transcript_deleted", "conversation_id": frame.conversation_id})

    # --- events from the layer ---

    async def staff_revoked(self, event: dict[str, Any]) -> None:
        if self.grant is None:
            return
        if revocation.closes_session(event, self.grant.session_key):
            self.grant = None
            await self.close(code=ACCESS_REVOKED_CLOSE_CODE)
            return
        await self._still_granted(force=True)

    async def staff_changed(self, event: dict[str, Any]) -> None:
        if event.get("new_conversation_id"):
            # An alert says only that someone is waiting, never what they wrote.
            await self.send_json({"type": "alert", "kind": "new_chat"})
        self.dashboard_updates.mark()

    async def risk_alert(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "alert", "kind": "risk", "conversation_id": event["conversation_id"]})

    async def chat_message(self, event: dict[str, Any]) -> None:
        conversation_id = event["conversation_id"]
        # A transcript read: a revoked console that missed its staff.revoked event
        # reads no more than RECHECK_SECONDS of live messages.
        fresh = conversation_id in self.opened and event["seq"] > self.opened[conversation_id]
        if fresh and await self._still_granted(lazy=True):
            recent_messages().learn(conversation_id, event["seq"], event.get("sealed"))
            await self._catch_up(conversation_id, through_seq=event["seq"])

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["conversation_id"] in self.opened and event["sender"] == Message.Sender.VISITOR:
            await self.send_json(
                {"type": "typing", "conversation_id": event["conversation_id"], "active": event["active"]}
            )

    async def chat_state(self, event: dict[str, Any]) -> None:
        conversation_id = event["conversation_id"]
        if conversation_id not in self.opened:
            return
        chat = await run_db(selectors.readable_chat_frame, conversation_id, self.user)
        if chat is None:
            await self._close(conversation_id)
            await self.send_json({"type": "closed", "conversation_id": conversation_id})
            return
        await self.send_json(chat)

    async def poll_database(self) -> None:
        if not await self._still_granted(lazy=True):
            return
        for conversation_id in list(self.opened):
            if conversation_id in self.opened:
                await self._catch_up(conversation_id)
        self.dashboard_updates.mark()

    # --- helpers ---

    async def _act(self, service: Callable[..., object], frame: frames.ChatAction, **arguments: Any) -> None:
        """Runs a staff action on the chat ``frame`` names, with this user as the actor."""
        await run_db(service, conversation_id=frame.conversation_id, actor=self.user, **arguments)

    def _opened_id(self, conversation_id: int) -> int:
        if conversation_id not in self.opened:
            raise ChatError("not_open")
        return conversation_id

    async def _open(self, conversation_id: int, *, last_seq: int, audited: bool = False) -> None:
        if not audited:
            await run_db(services.conversation_opened, conversation_id=conversation_id, user=self.user)
        await self.join(conversation_group(conversation_id))
        self.opened[conversation_id] = last_seq
        chat, new = await run_db(_staff_chat_and_messages, conversation_id, self.user, last_seq)
        await self.send_json(chat)
        await self._send_new(conversation_id, new)

    async def _close(self, conversation_id: int) -> None:
        if self.opened.pop(conversation_id, None) is not None:
            await self.leave(conversation_group(conversation_id))

    async def _catch_up(self, conversation_id: int, *, through_seq: int | None = None) -> None:
        last = self.opened[conversation_id]
        new = await selectors.amessage_frames_after(conversation_id, last, for_staff=True, through_seq=through_seq)
        await self._send_new(conversation_id, new)

    async def _send_new(self, conversation_id: int, new: list[dict[str, Any]]) -> None:
        for frame in new:
            if conversation_id not in self.opened:
                return  # closed meanwhile
            if frame["seq"] > self.opened[conversation_id]:
                await self.send_json(frame)
                self.opened[conversation_id] = frame["seq"]

    async def _send_dashboard(self, since: float) -> None:
        snapshot = await live.live_snapshot(not_before=since)
        frame = snapshot.dashboard_json(self.user.pk, supervisor=self.is_supervisor)
        # A change that leaves this console's view as it is sends nothing.
        if frame != self.last_dashboard:
            self.last_dashboard = frame
            await self.send(text_data=frame)
