"""privacy.uncached.never_cache sets exactly the headers Django's never_cache sets."""

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory
from django.views.decorators.cache import never_cache as django_never_cache

from privacy.uncached import never_cache


def _page() -> HttpResponse:
    return HttpResponse("page")


def _already_public() -> HttpResponse:
    response = HttpResponse("page")
    response["Cache-Control"] = "public, max-age=60"
    return response


def _already_expiring() -> HttpResponse:
    response = HttpResponse("page")
    response["Expires"] = "Thu, 01 Jan 2026 00:00:00 GMT"
    return response


@pytest.mark.parametrize("make", [_page, _already_public, _already_expiring])
@pytest.mark.parametrize("moment", ["2026-12-01 21:40:07.25", "2026-12-01 21:40:07.999", "2027-02-28 23:59:59"])
def test_the_headers_are_djangos(make, moment):
    request = RequestFactory().get("/")
    with time_machine.travel(moment, tick=False):
        ours = never_cache(lambda request: make())(request)
        djangos = django_never_cache(lambda request: make())(request)
    assert list(ours.headers.items()) == list(djangos.headers.items())
    assert "no-store" in ours["Cache-Control"]


def test_the_date_follows_the_clock():
    request = RequestFactory().get("/")
    view = never_cache(lambda request: _page())
    with time_machine.travel("2026-12-01 21:40:07+00:00", tick=False):
        first = view(request)["Expires"]
    with time_machine.travel("2026-12-01 21:40:08+00:00", tick=False):
        second = view(request)["Expires"]
    assert (first, second) == ("Tue, 01 Dec 2026 21:40:07 GMT", "Tue, 01 Dec 2026 21:40:08 GMT")


def test_async_views_are_refused():
    async def view(request):  # pragma: no cover - never called
        return _page()

    with pytest.raises(TypeError):
        never_cache(view)  # type: ignore[type-var]  # what the check is for
