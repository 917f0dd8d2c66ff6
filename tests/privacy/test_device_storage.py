"""Item 12: a visit leaves no lasting trace on the device, and the safety page lists what it does leave."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

STATIC = Path(__file__).resolve().parents[2] / "static"
PUBLIC_PAGES = [
    "/",
    "/chat/",
    "/chat/tack/",
    "/hotline/",
    "/hotline/status/",
    "/kunskap/",
    "/sakerhet/",
    "/en/",
    "/en/chat/",
    "/en/hotline/",
    "/en/hotline/status/",
]


def cookies_set_by(client, path):
    response = client.get(path)
    assert response.status_code < 400, path
    return response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/hotline/", "/hotline/status/", "/en/hotline/", "/en/hotline/status/"])
def test_the_csrf_cookie_ends_with_the_browser_session(path):
    cookies = cookies_set_by(Client(), path)
    assert "csrftoken" in cookies, "the page has a form and needs the cookie"
    morsel = cookies["csrftoken"]
    # No Max-Age and no Expires: a browser-session cookie, not a year-long one.
    assert morsel["max-age"] == "", morsel.OutputString()
    assert morsel["expires"] == "", morsel.OutputString()


@pytest.mark.django_db
def test_the_safety_page_names_every_cookie_the_public_pages_set():
    client = Client()
    names = set()
    for path in PUBLIC_PAGES:
        names |= set(cookies_set_by(client, path))
    assert names == {"csrftoken"}
    page = client.get(reverse("privacy:safety")).content.decode()
    for name in names | {"sessionid"}:  # sessionid: staff only, also named
        assert re.search(rf"[”“]{name}[”“]", page), name


@pytest.mark.django_db
def test_the_cookie_that_carries_a_receipt_code_ends_with_the_browser_session_and_is_named():
    from hotline.views import RECEIPT_COOKIE
    from tests.hotline.conftest import TIP_FORM, post_tip_form

    morsel = post_tip_form(Client(), TIP_FORM).cookies[RECEIPT_COOKIE]
    assert morsel["max-age"] == "" and morsel["expires"] == "", morsel.OutputString()
    page = Client().get(reverse("privacy:safety")).content.decode()
    assert re.search(rf"[”“]{RECEIPT_COOKIE}[”“]", page)


@pytest.mark.django_db
def test_the_safety_page_names_every_kind_of_browser_storage_the_scripts_use():
    scripts = {path: path.read_text() for path in STATIC.rglob("*.js")}
    used = set()
    for text in scripts.values():
        # Writes only: quick exit clears localStorage, which nothing writes.
        used |= set(re.findall(r"\b(sessionStorage|localStorage)\.setItem\b", text))
        assert "document.cookie" not in text
        assert "indexedDB" not in text
        assert "serviceWorker" not in text
    assert used == {"sessionStorage"}
    page = Client().get(reverse("privacy:safety")).content.decode()
    for kind in used:
        assert f"({kind})" in page
