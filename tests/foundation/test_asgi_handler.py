"""The ASGI handler: one thread per request in flight, reused, one hop from the event loop (ecpat_site.handler)."""

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

from ecpat_site.handler import ASGIHandler

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


async def test_requests_in_flight_at_once_each_have_their_own_thread(app: ASGIHandler):
    # Each view waits for the other: on one shared thread this could never finish.
    results = await asyncio.gather(fetch(app, "/meet/"), fetch(app, "/meet/"))
    assert list(results) == [(200, b"met"), (200, b"met")]
    views = {thread for event, thread in seen if event == "view"}
    assert len(views) == 2


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
