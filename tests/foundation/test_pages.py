"""The public frame: Swedish first, strict headers, quick exit, honest safety page."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_is_swedish_at_the_root_and_english_under_en(client: Client):
    sv = client.get("/")
    assert sv.status_code == 200
    assert '<html lang="sv">' in sv.text
    assert "Lämna sidan snabbt" in sv.text
    en = client.get("/en/")
    assert en.status_code == 200
    assert '<html lang="en">' in en.text
    assert "Leave this page quickly" in en.text


def test_strict_security_headers(client: Client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["Referrer-Policy"] == "no-referrer"


def test_pages_load_nothing_from_another_origin(client: Client):
    for path in ("/", "/en/", "/sakerhet/", "/chat/", "/hotline/", "/kunskap/"):
        html = client.get(path).text
        assert "http://" not in html and "https://" not in html, path
        assert "<script>" not in html and " style=" not in html and "onclick" not in html, path


def test_quick_exit_forgets_the_visit_and_leaves(client: Client, settings):
    settings.QUICK_EXIT_URL = "https://neutral.example/"
    client.get("/")
    session = client.session
    session["something"] = "kept until exit"
    session.save()
    response = client.get("/exit/")
    assert response.status_code == 302
    assert response["Location"] == "https://neutral.example/"
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "no-store" in response["Cache-Control"]
    assert "something" not in client.session


def test_quick_exit_button_works_without_javascript(client: Client):
    html = client.get("/").text
    assert 'href="/exit/"' in html and "data-quick-exit" in html


def test_safety_page_is_honest_about_history(client: Client):
    html = client.get("/sakerhet/").text
    assert "historik" in html
    assert "privat" in html


def test_unknown_page_is_a_friendly_swedish_404(client: Client):
    response = client.get("/finns-inte/")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.text
    assert "Traceback" not in response.text


def test_server_error_page_shows_no_traceback(client: Client, settings):
    from ecpat_site.views import server_error

    response = server_error(client.get("/").wsgi_request)
    assert response.status_code == 500
    assert "Traceback" not in response.content.decode()


def test_referrer_is_sent_nowhere_except_same_origin_on_form_pages(client: Client):
    home = client.get("/")
    assert home["Referrer-Policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in home.text
    # A form page must let the browser send its real Origin, or CSRF refuses the post.
    form = client.get("/hotline/")
    assert form["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in form.text


def test_csrf_failure_is_a_friendly_swedish_page():
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/hotline/", {"description": "x"})
    assert response.status_code == 403
    assert "Sidan hann bli för gammal" in response.text
    assert "<style" not in response.text
