"""Passkeys in a real browser: Chromium's virtual authenticator, the real ASGI server, the strict CSP.

The relying party is ``localhost`` (an IP address cannot be one), so this
module runs its own server whose allowed origin names its port.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from staff.roles import Role
from tests.e2e.test_staff_login import PASSWORD, assert_no_axe_violations, watch_console
from tests.processes import AsgiServer, NeutralSite, database_url_for_subprocess, free_port, service_env
from tests.staff.helpers import staff_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def passkey_site(
    django_db_setup: None, django_db_blocker: object, neutral_site: NeutralSite, live_server_data_dir: Path
) -> Iterator[str]:
    port = free_port()
    origin = f"http://localhost:{port}"
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(live_server_data_dir),
        QUICK_EXIT_URL=neutral_site.url,
        OTP_WEBAUTHN_RP_ID="localhost",
        OTP_WEBAUTHN_ALLOWED_ORIGINS=origin,
    )
    server = AsgiServer(env=env, port=port)
    server.start()
    yield origin
    server.stop()


def virtual_authenticator(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def log_in_with_password(page, site: str, username: str) -> None:
    page.goto(site + "/admin/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Fortsätt").click()


def test_enrol_a_passkey_then_log_in_with_password_and_passkey(page, passkey_site):
    user = staff_member(role=Role.ADMINISTRATOR)
    problems = watch_console(page)
    cdp, authenticator = virtual_authenticator(page)

    log_in_with_password(page, passkey_site, user.username)
    page.wait_for_url("**/admin/login/enrol/")
    button = page.get_by_role("button", name="Lägg till en nyckel")
    expect(button).to_be_visible()
    assert_no_axe_violations(page)
    button.click()

    # Registered: the backup codes, once, then the admin.
    page.wait_for_url("**/admin/login/passkey/backup-codes/")
    expect(page.locator("#backup-codes li")).to_have_count(10)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})  # type: ignore[attr-defined]
    assert len(credentials["credentials"]) == 1
    page.get_by_role("link", name="Jag har sparat koderna").click()
    page.wait_for_url(passkey_site + "/admin/")
    expect(page.get_by_role("heading", name="Översikt")).to_be_visible()

    page.get_by_role("button", name="Logga ut").click()
    page.goto(passkey_site + "/admin/")
    assert "/admin/login/" in page.url

    # Password, then the passkey: the second step, never enrolment again.
    log_in_with_password(page, passkey_site, user.username)
    page.wait_for_url("**/admin/login/verify/")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Logga in med nyckel").click()
    page.wait_for_url(passkey_site + "/admin/")
    expect(page.get_by_role("heading", name="Översikt")).to_be_visible()
    page.goto(passkey_site + "/admin/auth/user/")
    expect(page.get_by_role("link", name=user.username)).to_be_visible()
    # The library's script ran from our static files under the strict CSP: no refusal, no error.
    assert problems == []
