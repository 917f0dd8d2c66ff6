"""Chat messages stored and read on the event loop (PostgreSQL, ``supportline.db.on_event_loop``).

Against the real database: seq stays gapless and a ``client_id`` is stored
once whichever path and however many senders race; refusals change nothing;
a PostgreSQL outage refuses messages within the bound instead of queueing them,
and the chat carries on once it is back; the server closes the pool on shutdown.
"""

import asyncio
import time
from typing import Any

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from ecpat_site.lifespan import lifespan
from staff.roles import Role
from supportline import db, selectors, services
from supportline.models import Conversation, Message
from supportline.services import ChatError
from tests.factories import StaffUserFactory

# What a statement meets while PostgreSQL is unreachable (psycopg_pool's PoolTimeout is an OperationalError).
UNAVAILABLE = (psycopg.OperationalError, TimeoutError)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _active_conversation() -> tuple[int, Any]:
    counsellor: Any = StaffUserFactory(role=Role.COUNSELLOR)
    conversation = Conversation.objects.create(
        token_hash=selectors.token_hash(str(time.monotonic())),
        queued_at=timezone.now(),
        status=Conversation.Status.ACTIVE,
        counsellor=counsellor,
        claimed_at=timezone.now(),
    )
    return conversation.pk, counsellor


async def _stored(conversation_id: int) -> list[tuple[int, str]]:
    def rows() -> list[tuple[int, str]]:
        stored = Message.objects.filter(conversation_id=conversation_id).order_by("seq")
        return [(message.seq, message.client_id) for message in stored.only("seq", "client_id")]

    stored: list[tuple[int, str]] = await database_sync_to_async(rows)()
    return stored


async def test_racing_senders_and_resends_on_both_paths_get_gapless_seqs_and_each_client_id_once(settings):
    settings.SUPPORTLINE_ASYNC_DB_CONNECTIONS = 3  # fewer connections than senders: they queue for them
    conversation_id, _ = await database_sync_to_async(_active_conversation)()
    acks: dict[str, set[int]] = {}

    async def sender(n: int) -> None:
        for i in range(5):
            client_id = f"{n}-{i}"
            # Each message sent twice at once (a page resending), once on the threads every third time.
            posts = [
                services.amessage_post(
                    conversation_id=conversation_id, sender="visitor", client_id=client_id, text=f"hej {i}"
                ),
                services.amessage_post(
                    conversation_id=conversation_id, sender="visitor", client_id=client_id, text=f"hej {i}"
                )
                if i % 3
                else db.run_db(
                    services.message_post,
                    conversation_id=conversation_id,
                    sender="visitor",
                    client_id=client_id,
                    text=f"hej {i}",
                ),
            ]
            results = await asyncio.gather(*posts)
            assert sorted(created for _, created in results) == [False, True]
            acks[client_id] = {message.seq for message, _ in results}

    try:
        await asyncio.gather(*(sender(n) for n in range(8)))
        stored = await _stored(conversation_id)
        assert [seq for seq, _ in stored] == list(range(1, 41))
        assert {client_id: {seq} for seq, client_id in stored} == acks  # both copies acked with the stored seq
        frames = await selectors.amessage_frames_after(conversation_id, 38)
        assert [(f["seq"], f["text"]) for f in frames] == [(39, stored_text(stored[38])), (40, stored_text(stored[39]))]
    finally:
        await database_sync_to_async(lambda: connection.close())()


def stored_text(row: tuple[int, str]) -> str:
    return f"hej {row[1].split('-')[1]}"


async def test_refusals_on_the_event_loop_change_nothing_and_a_resend_is_acked_again():
    conversation_id, counsellor = await database_sync_to_async(_active_conversation)()
    other = await database_sync_to_async(lambda: StaffUserFactory(role=Role.COUNSELLOR))()
    try:
        first, created = await services.amessage_post(
            conversation_id=conversation_id, sender="counsellor", client_id="c1", text="Hej!", author=counsellor
        )
        assert (first.seq, created, first.text, first.author_id) == (1, True, "Hej!", counsellor.pk)
        with pytest.raises(ChatError) as refused:
            await services.amessage_post(
                conversation_id=conversation_id, sender="counsellor", client_id="c2", text="Hej", author=other
            )
        assert refused.value.code == "forbidden"
        again, created_again = await services.amessage_post(
            conversation_id=conversation_id, sender="counsellor", client_id="c1", text="Hej!", author=counsellor
        )
        assert (again.pk, again.seq, created_again) == (first.pk, 1, False)
        await database_sync_to_async(
            lambda: Conversation.objects.filter(pk=conversation_id).update(status=Conversation.Status.ENDED)
        )()
        with pytest.raises(ChatError) as ended:
            await services.amessage_post(conversation_id=conversation_id, sender="visitor", client_id="v1", text="hej")
        assert ended.value.code == "chat_ended"
        last_seq = await database_sync_to_async(
            lambda: Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation_id)
        )()
        assert last_seq == 1 and await _stored(conversation_id) == [(1, "c1")]
    finally:
        await database_sync_to_async(lambda: connection.close())()


def test_the_embedded_store_is_gapless_and_stores_a_client_id_once():
    # The SQLite store (no UPDATE inside WITH there), run here on PostgreSQL: same rules.
    conversation_id, counsellor = _active_conversation()
    now = timezone.now()
    store = services._message_insert_portable
    first = store(conversation_id, Message.Sender.VISITOR, "a", "hej", None, now)
    assert first is not None and (first.seq, first.text) == (1, "hej")
    assert store(conversation_id, Message.Sender.VISITOR, "a", "hej", None, now) is None  # the checked path decides
    other: Any = StaffUserFactory(role=Role.COUNSELLOR)
    assert store(conversation_id, Message.Sender.COUNSELLOR, "b", "hej", other, now) is None
    second = store(conversation_id, Message.Sender.COUNSELLOR, "b", "hej", counsellor, now)
    assert second is not None and second.seq == 2
    assert Conversation.objects.get(pk=conversation_id).last_seq == 2
    assert list(Message.objects.filter(conversation_id=conversation_id).values_list("seq", flat=True)) == [1, 2]


class _CuttableLink:
    """A TCP relay to the test's PostgreSQL that can be cut (every connection reset, new ones refused) and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}


async def test_during_a_postgresql_outage_messages_are_refused_within_the_bound_and_stored_once_after(
    settings, monkeypatch
):
    settings.SUPPORTLINE_ASYNC_DB_TIMEOUT = 1.0
    conversation_id, _ = await database_sync_to_async(_active_conversation)()
    params = await database_sync_to_async(lambda: connection.get_connection_params())()
    link = _CuttableLink(params.get("host") or "127.0.0.1", int(params.get("port") or 5432))
    await link.up()
    real_kwargs = db._connection_kwargs
    monkeypatch.setattr(db, "_connection_kwargs", lambda: {**real_kwargs(), "host": "127.0.0.1", "port": link.port})

    def post(client_id: str) -> Any:
        return services.amessage_post(
            conversation_id=conversation_id, sender="visitor", client_id=client_id, text="hej"
        )

    try:
        assert (await post("m1"))[0].seq == 1
        await link.cut()  # the pool's connection is reset, new ones are refused
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(UNAVAILABLE) as failed:
                await post("m2")
            assert not isinstance(failed.value, ChatError)  # not acked: the page keeps it and resends
            assert time.monotonic() - started < 2.5  # bounded by SUPPORTLINE_ASYNC_DB_TIMEOUT (+ slack)
            with pytest.raises(UNAVAILABLE):
                await selectors.amessage_frames_after(conversation_id, 0)
        await link.up()  # PostgreSQL is back: the next message gets a new connection at once
        message, created = await post("m2")
        assert (message.seq, created) == (2, True)
        message, created = await post("m2")
        assert (message.seq, created) == (2, False)
        assert [f["seq"] for f in await selectors.amessage_frames_after(conversation_id, 0)] == [1, 2]
        assert await _stored(conversation_id) == [(1, "m1"), (2, "m2")]
    finally:
        await db.close_async_pools()
        await link.cut()
        await database_sync_to_async(lambda: connection.close())()


async def test_the_server_closes_the_chat_connections_on_shutdown():
    conversation_id, _ = await database_sync_to_async(_active_conversation)()
    try:
        assert await selectors.amessage_frames_after(conversation_id, 0) == []
        pool = await db._async_pools[asyncio.get_running_loop()]
        assert not pool.closed
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return next(messages)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await lifespan({"type": "lifespan"}, receive, send)
        assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
        assert pool.closed and asyncio.get_running_loop() not in db._async_pools
    finally:
        await database_sync_to_async(lambda: connection.close())()


def _conversation(status: str, counsellor: Any) -> int:
    return Conversation.objects.create(
        token_hash=selectors.token_hash(f"{status}-{time.monotonic()}"),
        queued_at=timezone.now(),
        status=status,
        counsellor=counsellor,
        claimed_at=timezone.now() if counsellor else None,
    ).pk


async def test_messages_submitted_together_are_stored_in_one_statement_each_by_its_chats_rules():
    counsellor: Any = await database_sync_to_async(lambda: StaffUserFactory(role=Role.COUNSELLOR))()
    other: Any = await database_sync_to_async(lambda: StaffUserFactory(role=Role.COUNSELLOR))()
    a = await database_sync_to_async(_conversation)(Conversation.Status.ACTIVE, counsellor)
    b = await database_sync_to_async(_conversation)(Conversation.Status.ACTIVE, counsellor)
    ended = await database_sync_to_async(_conversation)(Conversation.Status.ENDED, counsellor)
    queued = await database_sync_to_async(_conversation)(Conversation.Status.QUEUED, None)
    posts = [
        (a, "visitor", "a1", None),
        (a, "counsellor", "a2", counsellor),
        (a, "visitor", "a1", None),  # the page resent it at once: same batch
        (b, "counsellor", "b1", other),  # not theirs
        (b, "visitor", "b2", None),
        (ended, "visitor", "e1", None),
        (queued, "visitor", "q1", None),  # a visitor may write while waiting
        (queued, "counsellor", "q2", counsellor),  # nobody has claimed it
        (a, "visitor", "a3", None),
    ]
    try:
        results = await asyncio.gather(
            *(
                services.amessage_post(
                    conversation_id=chat, sender=sender, client_id=client_id, text=f"text {client_id}", author=author
                )
                for chat, sender, client_id, author in posts
            ),
            return_exceptions=True,
        )
        # One statement stored the batch: every post was submitted in the same turn of the loop.
        assert services._message_batches().batches[0] == len(posts)
        outcome: list[Any] = []
        for r in results:
            if isinstance(r, BaseException):
                assert isinstance(r, ChatError), r
                outcome.append(r.code)
            else:
                outcome.append((r[0].conversation_id, r[0].seq, r[0].client_id, r[1]))
        assert outcome == [
            (a, 1, "a1", True),
            (a, 2, "a2", True),
            (a, 1, "a1", False),  # acknowledged with the stored seq, stored once
            "forbidden",
            (b, 1, "b2", True),
            "chat_ended",
            (queued, 1, "q1", True),
            "forbidden",
            (a, 3, "a3", True),
        ]
        first, second = results[0], results[1]
        assert not isinstance(first, BaseException) and not isinstance(second, BaseException)
        assert second[0].author_id == counsellor.pk and first[0].author_id is None
        assert await _stored(a) == [(1, "a1"), (2, "a2"), (3, "a3")]
        assert await _stored(b) == [(1, "b2")]
        assert await _stored(ended) == [] and await _stored(queued) == [(1, "q1")]
        frames = await selectors.amessage_frames_after(a, 0)
        assert [(f["seq"], f["text"]) for f in frames] == [(1, "text a1"), (2, "text a2"), (3, "text a3")]
        last_seqs = await database_sync_to_async(
            lambda: dict(Conversation.objects.filter(pk__in=[a, b, ended, queued]).values_list("pk", "last_seq"))
        )()
        assert last_seqs == {a: 3, b: 1, ended: 0, queued: 1}
    finally:
        await db.close_async_pools()
        await database_sync_to_async(lambda: connection.close())()


async def test_a_client_id_stored_by_another_process_in_the_same_instant_sends_each_message_alone(monkeypatch):
    """The batch's statement fails on the unique constraint; nothing of it is kept, and each message goes again."""
    conversation_id, _ = await database_sync_to_async(_active_conversation)()
    stores: list[tuple[str, ...]] = []
    real_execute = psycopg.AsyncConnection.execute

    async def execute(conn: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if str(query).startswith("WITH input"):
            stores.append(tuple(params[1]))
        return await real_execute(conn, query, params, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "execute", execute)
    async with await psycopg.AsyncConnection.connect(**db._connection_kwargs()) as elsewhere:
        await elsewhere.set_autocommit(False)
        # Another process stores "x" and holds the chat's row until it commits.
        await elsewhere.execute("SELECT 1 FROM supportline_conversation WHERE id = %s FOR UPDATE", [conversation_id])
        await elsewhere.execute("UPDATE supportline_conversation SET last_seq = 1 WHERE id = %s", [conversation_id])
        await elsewhere.execute(
            "INSERT INTO supportline_message (conversation_id, seq, client_id, sender, text, created_at) "
            "VALUES (%s, 1, 'x', 'visitor', %s, now())",
            [conversation_id, services._stored_text("from elsewhere")],
        )
        posts = asyncio.gather(
            *(
                services.amessage_post(
                    conversation_id=conversation_id, sender="visitor", client_id=client_id, text=client_id
                )
                for client_id in ("w", "x", "y")
            )
        )
        await asyncio.sleep(0.3)  # the batch waits for the row, its snapshot taken before "x" commits
        assert not posts.done()
        await elsewhere.commit()
        results = await posts
    try:
        assert [(m.client_id, m.seq, created) for m, created in results] == [
            ("w", 2, True),
            ("x", 1, False),  # the other process's, acknowledged
            ("y", 3, True),
        ]
        # The batch, then each message alone, where "x" finds the stored one and the checked path acknowledges it.
        assert stores == [("w", "x", "y"), ("w",), ("x",), ("y",)]
        assert await _stored(conversation_id) == [(1, "x"), (2, "w"), (3, "y")]
    finally:
        await db.close_async_pools()
        await database_sync_to_async(lambda: connection.close())()


async def test_receivers_reading_at_once_share_one_statement_and_a_row_is_decrypted_once(monkeypatch):
    import privacy.crypto
    import privacy.fields

    a, _ = await database_sync_to_async(_active_conversation)()
    b, _ = await database_sync_to_async(_active_conversation)()
    for chat, count in ((a, 3), (b, 2)):
        for i in range(1, count + 1):
            await services.amessage_post(conversation_id=chat, sender="visitor", client_id=f"m{i}", text=f"{chat}:{i}")
    statements: list[str] = []
    decrypted: list[str] = []
    real_execute, real_decrypt = psycopg.AsyncConnection.execute, privacy.crypto.decrypt

    async def execute(conn: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        statements.append(str(query).split()[0])
        return await real_execute(conn, query, params, **kwargs)

    def decrypt(token: Any) -> Any:
        plain = real_decrypt(token)
        decrypted.append(plain)
        return plain

    monkeypatch.setattr(psycopg.AsyncConnection, "execute", execute)
    monkeypatch.setattr(privacy.fields, "decrypt", decrypt)
    try:
        # A console and a supervisor reading chat a from seq 1, the page from 0, and chat b; a read with nothing new.
        reads = await asyncio.gather(
            selectors.amessage_frames_after(a, 1, for_staff=True),
            selectors.amessage_frames_after(a, 1, for_staff=True),
            selectors.amessage_frames_after(a, 0),
            selectors.amessage_frames_after(b, 1),
            selectors.amessage_frames_after(b, 2),
        )
        assert statements == ["SELECT"]  # one statement for the five readers
        assert sorted(decrypted) == sorted([f"{a}:1", f"{a}:2", f"{a}:3", f"{b}:2"])  # each row once
        assert [[(f["seq"], f["text"], f.get("conversation_id")) for f in frames] for frames in reads] == [
            [(2, f"{a}:2", a), (3, f"{a}:3", a)],
            [(2, f"{a}:2", a), (3, f"{a}:3", a)],
            [(1, f"{a}:1", None), (2, f"{a}:2", None), (3, f"{a}:3", None)],
            [(2, f"{b}:2", None)],
            [],
        ]
        assert reads[0][0] is not reads[1][0] and reads[0][0] is not reads[2][1]  # each reader its own frames
    finally:
        await db.close_async_pools()
        await database_sync_to_async(lambda: connection.close())()
