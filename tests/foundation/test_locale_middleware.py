"""The site's LocaleMiddleware picks the language Django's would, for every kind of request."""

import itertools

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.test import RequestFactory
from django.utils import translation

from ecpat_site.middleware import LocaleMiddleware

PATHS = ["/", "/en/", "/en", "/kunskap/sok/", "/en/knowledge/search/", "/de/kunskap/", "/sv/kunskap/", "/enkel/"]
COOKIES = [None, "en", "sv", "de", "nonsense"]
ACCEPTED = ["", "en", "sv", "en-GB,en;q=0.9", "de", "*", "sv;q=0.1, en;q=0.9"]


def _picked(middleware_class: type, path: str, cookie: str | None, accepted: str) -> tuple[str, str]:
    request = RequestFactory().get(path, HTTP_ACCEPT_LANGUAGE=accepted)
    if cookie is not None:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("page")

    middleware_class(view).process_request(request)
    return translation.get_language(), request.LANGUAGE_CODE


@pytest.mark.parametrize("path", PATHS)
def test_the_language_is_the_one_django_picks(path):
    for cookie, accepted in itertools.product(COOKIES, ACCEPTED):
        assert _picked(LocaleMiddleware, path, cookie, accepted) == _picked(
            DjangoLocaleMiddleware, path, cookie, accepted
        ), (path, cookie, accepted)


@pytest.mark.django_db
def test_the_address_decides(client):
    assert client.get("/kunskap/", HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"] == "sv"
    assert client.get("/en/knowledge/", HTTP_ACCEPT_LANGUAGE="sv").headers["Content-Language"] == "en"


def test_another_urlconf_goes_to_djangos_code(settings):
    settings.ROOT_URLCONF = "ecpat_site.urls"
    request = RequestFactory().get("/kunskap/", HTTP_ACCEPT_LANGUAGE="en")
    request.urlconf = "tests.foundation.test_locale_middleware"  # no i18n_patterns: Django asks the browser
    LocaleMiddleware(lambda request: HttpResponse()).process_request(request)
    assert translation.get_language() == "en"


urlpatterns: list[object] = []
