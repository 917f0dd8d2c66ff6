"""What one message costs inside the server, and the per-connection limits.

The sockets run in this process against the real Redis layer and PostgreSQL,
so the executor, the transactions, the pool and the cipher can be counted.
"""

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from asgiref.sync import AsyncToSync, SyncToAsync
from channels.db import database_sync_to_async
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.utils import CursorWrapper
from psycopg_pool import AsyncConnectionPool

import privacy.crypto
import privacy.fields
from privacy import ratelimit
from staff.roles import Role
from supportline import consumers, db, recent, services
from supportline.models import Conversation
from tests.supportline.helpers import InProcessSocket, open_all_week, verified_staff_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _many_starts(settings):
    # Every in-process socket comes from 127.0.0.1: one anonymous client.
    settings.SUPPORTLINE_STARTS_PER_HOUR = 100_000


class Costs:
    """Counts thread hops, pool checkouts, commits, statements and cipher calls, by hop.

    Work on the event loop itself (no hop) is also listed in order in
    ``on_loop``: checkouts of the sockets' async pool, each statement with
    whether its connection was in autocommit (so it was a transaction of its
    own, with no BEGIN or COMMIT), and the cipher.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hops: list[str] = []
        self.by_hop: dict[str, Counter[str]] = {}
        self.on_loop: list[str] = []
        self.commits = 0
        self.checkouts = 0
        self._current = threading.local()
        real_getconn, real_async_execute = AsyncConnectionPool.getconn, psycopg.AsyncCursor.execute
        real_call, real_commit = db.call_in_thread, BaseDatabaseWrapper.commit
        real_connect = PostgresWrapper.get_new_connection
        real_execute = CursorWrapper.execute
        real_encrypt, real_decrypt = privacy.crypto.encrypt, privacy.crypto.decrypt

        def call(fn, *args, **kwargs):
            name = getattr(fn, "__name__", repr(fn))
            self.hops.append(name)
            self._current.name = name
            try:
                return real_call(fn, *args, **kwargs)
            finally:
                self._current.name = None

        def commit(wrapper):
            self.commits += 1
            self._count("COMMIT")
            return real_commit(wrapper)

        def get_new_connection(wrapper, params):
            self.checkouts += 1
            return real_connect(wrapper, params)

        def execute(cursor, sql, params=None):
            self._count(sql.split()[0].upper())
            return real_execute(cursor, sql, params)

        def encrypt(text):
            self._count("encrypt")
            return real_encrypt(text)

        def decrypt(token):
            self._count("decrypt")
            return real_decrypt(token)

        real_sync_to_async_call = SyncToAsync.__call__

        async def any_other_hop(wrapper, *args, **kwargs):
            # Every other thread hop (Channels' own clean-up, Django's async
            # cache and ORM methods) counts too, so none can creep in unseen.
            self.hops.append(f"sync_to_async:{getattr(wrapper.func, '__name__', repr(wrapper.func))}")
            return await real_sync_to_async_call(wrapper, *args, **kwargs)

        async def getconn(pool, timeout=None):
            self.on_loop.append("checkout")
            return await real_getconn(pool, timeout)

        async def async_execute(cursor, query, params=None, **kwargs):
            autocommit = "autocommit" if cursor.connection.autocommit else "in a transaction"
            self.on_loop.append(f"{str(query).split()[0].upper()} ({autocommit})")
            return await real_async_execute(cursor, query, params, **kwargs)

        monkeypatch.setattr(AsyncConnectionPool, "getconn", getconn)
        monkeypatch.setattr(psycopg.AsyncCursor, "execute", async_execute)
        monkeypatch.setattr(db, "call_in_thread", call)
        monkeypatch.setattr(SyncToAsync, "__call__", any_other_hop)
        monkeypatch.setattr(BaseDatabaseWrapper, "commit", commit)
        monkeypatch.setattr(PostgresWrapper, "get_new_connection", get_new_connection)
        monkeypatch.setattr(CursorWrapper, "execute", execute)
        monkeypatch.setattr(privacy.fields, "encrypt", encrypt)
        monkeypatch.setattr(privacy.fields, "decrypt", decrypt)
        monkeypatch.setattr(recent, "decrypt", decrypt)

    def _count(self, what: str) -> None:
        hop = getattr(self._current, "name", None)
        if hop is None and _on_event_loop():
            self.on_loop.append(what)
            return
        self.by_hop.setdefault(hop or "outside", Counter())[what] += 1


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def claimed_in_process() -> tuple[InProcessSocket, InProcessSocket, int]:
    await database_sync_to_async(open_all_week)()
    _, cookie = await database_sync_to_async(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
    visitor = InProcessSocket("/ws/chat/")
    assert await visitor.connect()
    await visitor.send(type="start")
    await visitor.frame_of("queue")
    console = InProcessSocket("/ws/counsellor/", cookie)
    assert await console.connect()
    dashboard = await console.frame_of("dashboard")
    conversation_id = dashboard["queue"][0]["id"]
    await console.send(type="claim", conversation_id=conversation_id)
    await console.frame_of("chat")
    await visitor.frame_of("state", status="active")
    await console.drain()
    await visitor.drain()
    return visitor, console, conversation_id


@asynccontextmanager
async def claimed_chat() -> AsyncIterator[tuple[InProcessSocket, InProcessSocket]]:
    """:func:`claimed_in_process`'s visitor and console, both disconnected (and the test's connection closed) after."""
    visitor, console, _ = await claimed_in_process()
    try:
        yield visitor, console
    finally:
        await visitor.disconnect()
        await console.disconnect()
        await database_sync_to_async(lambda: connection.close())()


def stored_by_another_process(monkeypatch) -> None:
    """The sender's socket is in another process: receivers here have only what its event carries."""
    monkeypatch.setattr(services, "recent_messages", recent.RecentMessages)


def announced_without_a_sealed_copy(monkeypatch) -> None:
    """...and its event carries ids and seq only (a resend, or a copy whose MAC fails here): receivers read."""
    stored_by_another_process(monkeypatch)
    monkeypatch.setattr(services, "seal", lambda message: None)


async def one_message_counted(monkeypatch, visitor, console) -> tuple[Costs, list[str]]:
    """The visitor sends one message that the console receives, counting its costs and rate-limit round trips."""
    costs = Costs(monkeypatch)
    round_trips: list[str] = []
    real_acount = ratelimit.acount

    async def counted(name: str, ttl: int) -> int:
        round_trips.append(name)
        return await real_acount(name, ttl)

    monkeypatch.setattr(ratelimit, "acount", counted)
    await visitor.send(type="message", client_id="m1", text="Hej, jag behöver hjälp")
    # One frame to the sender: its own message, which acknowledges it (no separate ack).
    echo = await visitor.frame()
    assert (echo["type"], echo["client_id"], echo["seq"], echo["text"]) == (
        "message",
        "m1",
        1,
        "Hej, jag behöver hjälp",
    )
    received = await console.frame()
    assert (received["type"], received["seq"], received["text"]) == ("message", 1, "Hej, jag behöver hjälp")
    # Nothing else to either: no ack after the echo, and its own event does not make the sender read again.
    assert await visitor.drain(0.5) == []
    assert await console.drain(0.1) == []
    return costs, round_trips


def same_process(monkeypatch) -> None:
    """The sender's socket and the receiver's in one process (always, with one web process)."""


@pytest.mark.parametrize(
    ("where", "receiver_costs"),
    [
        # The console in the sender's process: the message from memory (supportline.recent),
        # no checkout, no read, no decryption.
        (same_process, []),
        # In another process: the message as stored, from the event (supportline.recent.seal),
        # decrypted once; no checkout, no read.
        (stored_by_another_process, ["decrypt"]),
        # An event without a sealed copy: one checkout, one read of the new rows, one decryption.
        (announced_without_a_sealed_copy, ["checkout", "SELECT (autocommit)", "decrypt"]),
    ],
    ids=["receiver-here", "receiver-elsewhere", "receiver-elsewhere-without-copy"],
)
async def test_one_visitor_message_costs_no_hop_one_statement_and_one_encrypt_and_a_receiver_at_most_one_read(
    monkeypatch, where, receiver_costs
):
    where(monkeypatch)
    async with claimed_chat() as (visitor, console):
        costs, round_trips = await one_message_counted(monkeypatch, visitor, console)

        # No thread hop at all: the statement runs on the event loop (supportline.db.on_event_loop).
        assert costs.hops == []
        assert costs.checkouts == 0 and costs.commits == 0 and costs.by_hop == {}
        # Sender: one encryption, one checkout, one statement that is its own transaction
        # (WITH c AS (UPDATE … RETURNING) INSERT … SELECT … FROM c), no decryption.
        assert costs.on_loop == ["encrypt", "checkout", "WITH (autocommit)", *receiver_costs]
        # The per-token limit is decided in memory (reconciled with Redis in batches): no round trip per message.
        assert round_trips == []


async def test_without_the_event_loop_path_a_message_costs_one_hop_for_the_sender_and_one_per_receiver(
    monkeypatch, settings
):
    # SQLite (embedded mode) or SUPPORTLINE_ASYNC_DB=false: the database threads.
    settings.SUPPORTLINE_ASYNC_DB = False
    announced_without_a_sealed_copy(monkeypatch)
    async with claimed_chat() as (visitor, console):
        costs, round_trips = await one_message_counted(monkeypatch, visitor, console)

        # Sender: one hop, one checkout, one transaction of one statement, one encrypt, no decrypt.
        # Receiver (another process's message): one hop that reads the new rows once; in the
        # sender's process it would take the message from memory, with no hop.
        assert costs.hops == ["message_post", "message_frames_after"]
        assert costs.checkouts == 2
        assert costs.commits == 1
        # (UPDATE … RETURNING and INSERT in one statement: WITH c AS (UPDATE …) INSERT … SELECT … FROM c.)
        assert costs.by_hop["message_post"] == Counter({"WITH": 1, "COMMIT": 1, "encrypt": 1})
        assert costs.by_hop["message_frames_after"] == Counter({"SELECT": 1, "decrypt": 1})
        assert "outside" not in costs.by_hop
        # The per-token limit is decided in memory (reconciled with Redis in batches): no round trip per message.
        assert round_trips == []


async def test_a_start_and_a_claim_each_cost_two_hops_and_publish_from_the_event_loop(monkeypatch):
    await database_sync_to_async(open_all_week)()
    _, cookie = await database_sync_to_async(verified_staff_cookie)(Role.COUNSELLOR, "Maja")
    console = InProcessSocket("/ws/counsellor/", cookie)
    assert await console.connect()
    await console.frame_of("dashboard")
    visitor = InProcessSocket("/ws/chat/")
    assert await visitor.connect()
    costs = Costs(monkeypatch)
    bridged: list[str] = []
    real_async_to_sync_call = AsyncToSync.__call__

    def bridging(wrapper, *args, **kwargs):
        # From a database thread each of these would start an event loop and a layer connection.
        bridged.append(getattr(wrapper.awaitable, "__name__", repr(wrapper.awaitable)))
        return real_async_to_sync_call(wrapper, *args, **kwargs)

    monkeypatch.setattr(AsyncToSync, "__call__", bridging)
    try:
        await visitor.send(type="start")
        await visitor.frame_of("queue")
        assert await console.frame_of("alert") == {"type": "alert", "kind": "new_chat"}
        # The start, then one hop that binds the socket; the rest is the shared snapshot.
        assert [hop for hop in costs.hops if hop != "live_snapshot"] == ["conversation_start", "_visitor_attached"]

        conversation_id = await database_sync_to_async(lambda: Conversation.objects.latest("pk").pk)()
        costs.hops.clear()
        await console.send(type="claim", conversation_id=conversation_id)
        chat = await console.frame_of("chat")
        assert chat["writable"] and chat["conversation"]["id"] == conversation_id
        await visitor.frame_of("state", status="active")
        await console.drain(0.5)
        # (The console's first frame also loads and saves its session, once per connection.)
        others = ("live_snapshot", "visitor_state_frame", "session_alive", "save")
        console_hops = [hop for hop in costs.hops if hop not in others]
        # Every counsellor frame first re-checks that access was not revoked (staff.revocation: one cache read
        # on the fast path), then claim and audited view in one hop, then (once subscribed) the chat and its
        # messages in one.
        # The claim's own chat.state event can come back from Redis after the console joined the chat's group:
        # when this process already listens to that group (the visitor's socket is here), the join waits for no
        # round trip (resilience.channel_layer), so the console may hear its own claim and re-read the state once.
        # One re-read at most, and only that.
        assert console_hops[:3] == ["confirm", "conversation_claim_and_open", "_staff_chat_and_messages"]
        assert console_hops[3:] in ([], ["readable_chat_frame"])
        assert bridged == []
    finally:
        await visitor.disconnect()
        await console.disconnect()
        await database_sync_to_async(lambda: connection.close())()


async def test_a_resend_is_acknowledged_again_without_a_second_row_or_a_gap(monkeypatch):
    async with claimed_chat() as (visitor, console):
        for kind in ("message", "ack"):  # the first confirmed by its own frame, the resend by an ack
            await visitor.send(type="message", client_id="same", text="en gång")
            confirmation = await visitor.confirmed("same")
            assert (confirmation["type"], confirmation["seq"]) == (kind, 1)
        await visitor.send(type="message", client_id="next", text="två")
        assert (await visitor.confirmed("next"))["seq"] == 2
        seqs = [f["seq"] for f in await console.drain() if f["type"] == "message"]
        assert seqs == [1, 2]


async def test_malformed_frames_count_against_the_budget_and_a_socket_over_it_for_long_is_closed(monkeypatch):
    monkeypatch.setattr(consumers, "OVER_BUDGET_CLOSE_SECONDS", 1.0)
    visitor = InProcessSocket("/ws/chat/")
    assert await visitor.connect()
    try:
        for _ in range(25):
            await visitor.send_raw("{not json")
        codes = [f["code"] for f in await visitor.drain(0.3)]
        assert codes.count("invalid_json") == 20 and codes.count("rate_limited") == 5
        await visitor.send_raw("{not json")
        refused = await visitor.frame()
        assert refused["code"] == "rate_limited" and 0 < refused["retry_after_ms"] <= 1000
        # A page that keeps ignoring the limit for longer than allowed is closed with 4429.
        for _ in range(300):
            await visitor.send_raw("x")
            output = await visitor.output()
            if output["type"] == "websocket.close":
                assert output["code"] == consumers.OVER_BUDGET_CLOSE_CODE
                break
            if '"rate_limited"' not in output.get("text", ""):
                continue
            await __import__("asyncio").sleep(0.01)
        else:
            pytest.fail("the socket was never closed")
    finally:
        await visitor.disconnect()


async def test_an_unexpected_failure_answers_internal_keeps_the_socket_and_logs_no_content(monkeypatch, caplog):
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("Jag heter Anna och bor på Storgatan 1")

    monkeypatch.setattr(services, "conversation_start", broken)
    await database_sync_to_async(open_all_week)()
    visitor = InProcessSocket("/ws/chat/")
    assert await visitor.connect()
    try:
        with caplog.at_level(logging.ERROR, logger="supportline.consumers"):
            await visitor.send(type="start", topic="online")
            assert await visitor.frame() == {"type": "error", "code": "internal"}
        await visitor.send(type="ping")
        assert await visitor.frame() == {"type": "pong"}
        assert "RuntimeError" in caplog.text
        assert "Storgatan" not in caplog.text and "Anna" not in caplog.text
    finally:
        await visitor.disconnect()
    assert await database_sync_to_async(Conversation.objects.count)() == 0
