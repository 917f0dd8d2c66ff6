"""The ASGI handler: requests on as few reused threads as keep it busy, one hop from the loop (ecpat_site.handler)."""

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth import get_user_model
from django.core import signals
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

from ecpat_site.handler import ASGIHandler, RequestThreads

# Views of this module's own URLconf (settings.ROOT_URLCONF points here in these tests).
arrived = threading.Barrier(2, timeout=5)
release = threading.Event()
seen: list[tuple[str, int]] = []


def where(request: HttpRequest) -> HttpResponse:
    seen.append(("view", threading.get_ident()))
    return HttpResponse("here")


def meet(request: HttpRequest) -> HttpResponse:
    arrived.wait()  # both requests inside a view at once, or BrokenBarrierError
    seen.append(("view", threading.get_ident()))
    return HttpResponse("met")


def held(request: HttpRequest) -> HttpResponse:
    release.wait(5)
    return HttpResponse("late")


def users(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(get_user_model().objects.count()))


def stream(request: HttpRequest) -> StreamingHttpResponse:
    async def parts() -> AsyncIterator[bytes]:
        yield b"one "
        yield b"two"

    return StreamingHttpResponse(parts())


urlpatterns = [
    path("where/", where),
    path("meet/", meet),
    path("held/", held),
    path("users/", users),
    path("stream/", stream),
]


def scope(url: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": None,
        "server": ("testserver", 80),
    }


async def fetch(app: Any, url: str) -> tuple[int, bytes]:
    communicator = ApplicationCommunicator(app, scope(url))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    body = b""
    while True:
        message = await communicator.receive_output(5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    return start["status"], body


@pytest.fixture
def app(settings: Any) -> Iterator[ASGIHandler]:
    settings.ROOT_URLCONF = __name__
    seen.clear()
    release.clear()
    arrived.reset()

    def started(**kwargs: Any) -> None:
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        # Connected after Django's close_old_connections: the request's
        # database connection must be back in the pool by now.
        seen.append(
            ("finished" if connection.connection is None else "finished, connection held", threading.get_ident())
        )

    signals.request_started.connect(started, dispatch_uid="test-asgi-started")
    signals.request_finished.connect(finished, dispatch_uid="test-asgi-finished")
    try:
        yield ASGIHandler()
    finally:
        signals.request_started.disconnect(dispatch_uid="test-asgi-started")
        signals.request_finished.disconnect(dispatch_uid="test-asgi-finished")


async def test_a_request_runs_on_one_thread_that_the_next_request_reuses(app: ASGIHandler):
    assert await fetch(app, "/where/") == (200, b"here")
    assert await fetch(app, "/where/") == (200, b"here")
    events = [event for event, _ in seen]
    assert events == ["started", "view", "finished"] * 2
    threads = {thread for _, thread in seen}
    assert len(threads) == 1, "the second request should reuse the first one's thread"
    assert threads != {threading.get_ident()}, "the view must not run on the event loop's thread"


async def test_a_burst_of_quick_requests_shares_one_thread(app: ASGIHandler):
    # Twenty threads for twenty requests would only take turns at Python's lock.
    results = await asyncio.gather(*(fetch(app, "/where/") for _ in range(20)))
    assert set(results) == {(200, b"here")}
    assert len({thread for event, thread in seen if event == "view"}) == 1
    assert app.threads.started == 1


async def test_a_request_stuck_on_its_thread_gets_a_second_thread_started_for_the_rest(app: ASGIHandler, settings):
    # Each view waits for the other: on one thread this could never finish. The
    # second starts once the first has been on its thread for the stall time.
    loop = asyncio.get_running_loop()
    began = loop.time()
    results = await asyncio.gather(fetch(app, "/meet/"), fetch(app, "/meet/"))
    assert list(results) == [(200, b"met"), (200, b"met")]
    assert len({thread for event, thread in seen if event == "view"}) == 2
    assert loop.time() - began >= app.threads.stall


async def test_a_slow_request_holds_up_the_others_for_the_stall_time_at_most(app: ASGIHandler):
    slow = asyncio.create_task(fetch(app, "/held/"))
    await asyncio.sleep(0.1)  # the slow view is on the only thread
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await fetch(app, "/where/") == (200, b"here")
    assert loop.time() - began < app.threads.stall + 1.0
    release.set()
    assert await slow == (200, b"late")
    assert app.threads.busy == 0 and app.threads.started == 2


async def test_no_more_threads_than_the_limit(settings: Any):
    settings.ROOT_URLCONF = __name__
    settings.REQUEST_THREADS = 1
    release.clear()
    app = ASGIHandler()
    slow = asyncio.create_task(fetch(app, "/held/"))
    await asyncio.sleep(0.1)
    quick = asyncio.create_task(fetch(app, "/where/"))
    await asyncio.sleep(app.threads.stall * 4)
    assert not quick.done(), "a second thread started beyond the limit"
    release.set()
    assert await slow == (200, b"late")
    assert await quick == (200, b"here")
    assert app.threads.started == 1


async def test_a_request_that_leaves_while_in_line_gives_up_its_place():
    threads = RequestThreads(stall=60.0, limit=4)
    first = await threads.acquire()
    waiting = asyncio.create_task(threads.acquire())
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    threads.release(first, reusable=True)
    assert threads.busy == 0 and threads.started == 1
    assert await threads.acquire() is first
    threads.release(first, reusable=True)
    first.shutdown()


async def test_a_thread_still_running_abandoned_work_is_not_reused():
    threads = RequestThreads(stall=60.0, limit=4)
    first = await threads.acquire()
    waiting = asyncio.create_task(threads.acquire())
    await asyncio.sleep(0.01)
    threads.release(first, reusable=False)  # the next request in line gets a new thread
    second = await asyncio.wait_for(waiting, 1)
    assert second is not first
    threads.release(second, reusable=True)
    second.shutdown()


async def test_a_streaming_response_is_sent_whole_and_then_closed(app: ASGIHandler):
    assert await fetch(app, "/stream/") == (200, b"one two")
    assert [event for event, _ in seen] == ["started", "finished"]
    assert len({thread for _, thread in seen}) == 1


async def test_a_visitor_who_leaves_mid_request_holds_up_nobody(app: ASGIHandler):
    leaving = ApplicationCommunicator(app, scope("/held/"))
    await leaving.send_input({"type": "http.request", "body": b""})
    await asyncio.sleep(0.2)  # the view is running
    await leaving.send_input({"type": "http.disconnect"})
    await asyncio.sleep(0.1)
    release.set()
    await leaving.wait(5)
    assert await fetch(app, "/where/") == (200, b"here")
    assert ("started", seen[0][1]) in seen


@pytest.mark.django_db(transaction=True)
async def test_the_database_connection_goes_back_to_the_pool_after_each_request(app: ASGIHandler):
    for _ in range(2):
        status, body = await fetch(app, "/users/")
        assert status == 200 and body.isdigit()
    assert [event for event, _ in seen] == ["started", "finished"] * 2


@pytest.mark.django_db
async def test_the_site_answers_through_it_with_its_headers(settings: Any):
    from ecpat_site.asgi import django_asgi_app

    assert isinstance(django_asgi_app, ASGIHandler)
    communicator = ApplicationCommunicator(django_asgi_app, scope("/sakerhet/"))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert b"script-src 'self'" in headers[b"Content-Security-Policy"]
    await communicator.wait(5)


def test_what_the_site_loads_at_start_is_kept_out_of_garbage_collection():
    import gc

    import ecpat_site.asgi  # noqa: F401

    # Django and the apps: a full collection walked them all, with the GIL held.
    assert gc.get_freeze_count() > 50_000
