"""Messages: the storage is built only when something uses it, and messages still reach the next page."""

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils.functional import empty

from ecpat_site.middleware import LazyMessageMiddleware

pytestmark = pytest.mark.django_db


def _chain(view):
    return SessionMiddleware(LazyMessageMiddleware(view))


def test_a_public_page_builds_no_message_storage(client: Client):
    for response in (client.get("/kunskap/"), client.post("/kunskap/sok/", {"q": "nätet"})):
        assert response.status_code == 200
        assert response.wsgi_request._messages._wrapped is empty  # type: ignore[attr-defined]  # set by the middleware
        assert "messages" not in response.cookies and "sessionid" not in response.cookies


def test_a_message_added_is_shown_on_the_next_page():
    def add(request: HttpRequest) -> HttpResponse:
        messages.success(request, "Sparat.")
        return HttpResponse("saved")

    shown: list[str] = []

    def show(request: HttpRequest) -> HttpResponse:
        assert isinstance(request._messages, FallbackStorage)  # type: ignore[attr-defined]  # set by the middleware
        shown.extend(str(message) for message in messages.get_messages(request))
        return HttpResponse("shown")

    first = _chain(add)(RequestFactory().post("/"))
    cookie = first.cookies["messages"].value
    assert cookie

    again = RequestFactory().get("/")
    again.COOKIES["messages"] = cookie
    second = _chain(show)(again)
    assert shown == ["Sparat."]
    assert second.cookies["messages"].value == ""  # read, so the cookie is cleared


def test_messages_read_but_none_added_leave_the_cookie_alone():
    def read(request: HttpRequest) -> HttpResponse:
        assert list(messages.get_messages(request)) == []
        return HttpResponse("nothing")

    response = _chain(read)(RequestFactory().get("/"))
    assert "messages" not in response.cookies
