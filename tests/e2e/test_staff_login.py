"""First staff login in a real browser: password, TOTP enrolment, the admin; axe and CSP on the way."""

import base64

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp
from playwright.sync_api import expect

from staff.roles import Role
from tests.factories import confirmed_totp_device
from tests.staff.helpers import staff_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
PASSWORD = "correct-horse-battery-staple"


def assert_no_axe_violations(page):
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()


def watch_console(page):
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.text} {message.location.get('url')}")
            # The site has no favicon (yet); anything else, CSP refusals included, counts.
            if message.type == "error" and "favicon.ico" not in str(message.location.get("url"))
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def code_from_secret(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def test_first_login_enrols_totp_and_reaches_the_admin(page, asgi_server):
    user = staff_member(role=Role.ADMINISTRATOR)
    problems = watch_console(page)

    page.goto(asgi_server.url + "/admin/auth/user/")
    assert "/admin/login/" in page.url
    assert_no_axe_violations(page)
    page.get_by_label("Användarnamn").fill(user.username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Fortsätt").click()

    page.wait_for_url("**/admin/login/enrol/")
    expect(page.locator(".qr svg")).to_be_visible()
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # A wrong code: a clear error next to the field, and the page stays.
    page.get_by_label("Kod från appen").fill("12345")
    page.get_by_role("button", name="Bekräfta").click()
    expect(page.locator(".errorlist")).to_be_visible()
    assert_no_axe_violations(page)

    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Kod från appen").fill(code_from_secret(secret))
    page.get_by_role("button", name="Bekräfta").click()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Jag har sparat koderna").click()
    page.wait_for_url("**/admin/auth/user/")
    expect(page.get_by_role("link", name=user.username)).to_be_visible()
    # The admin's own JavaScript runs under the strict CSP.
    assert page.evaluate("() => typeof window.django === 'object' && typeof window.django.jQuery === 'function'")
    # Forms, widgets and the retention page load without any CSP refusal either.
    page.goto(asgi_server.url + f"/admin/auth/user/{user.pk}/change/")
    expect(page.locator("#user_form")).to_be_visible()
    # Saving a form works from a real browser (CSRF with the admin's referrer policy).
    page.get_by_label("Förnamn").fill("Kim")
    page.locator("#user_form input[name=_save]").click()
    page.wait_for_url("**/admin/auth/user/")
    expect(page.locator(".messagelist .success")).to_be_visible()
    page.goto(asgi_server.url + "/admin/retention/retentionrun/")
    expect(page.locator("#retention-periods-table")).to_be_visible()
    page.goto(asgi_server.url + "/admin/")
    expect(page.get_by_role("heading", name="Översikt")).to_be_visible()
    assert problems == []


def test_returning_staff_member_logs_in_with_a_code(page, asgi_server):
    user = staff_member(role=Role.EDITOR)
    device = confirmed_totp_device(user)
    problems = watch_console(page)

    page.goto(asgi_server.url + "/admin/")
    page.get_by_label("Användarnamn").fill(user.username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url("**/admin/login/verify/")
    assert_no_axe_violations(page)
    page.get_by_label("Kod").fill(code_from_secret(base64.b32encode(device.bin_key).decode()))
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(asgi_server.url + "/admin/")
    assert problems == []
