"""Failed staff logins through the real server leave no client trace in any table."""

import re

import httpx
import pytest
from axes.models import AccessAttempt

from tests.foundation.test_no_client_trace import FORWARDED_ADDRESS, MARKERS, USER_AGENT
from tests.staff.helpers import staff_member
from tests.staff.test_login import PASSWORD
from tests.storage import dump_all_tables

pytestmark = pytest.mark.django_db(transaction=True)


def test_lockout_through_uvicorn_stores_no_address_or_user_agent(asgi_server, settings):
    user = staff_member()
    headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": FORWARDED_ADDRESS, "X-Real-IP": FORWARDED_ADDRESS}
    with httpx.Client(base_url=asgi_server.url, headers=headers, timeout=20) as client:
        statuses = []
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            page = client.get("/admin/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert token is not None
            response = client.post(
                "/admin/login/",
                data={"csrfmiddlewaretoken": token.group(1), "username": user.username, "password": "wrong"},
            )
            statuses.append(response.status_code)
    assert statuses[-1] == 429, statuses
    assert AccessAttempt.objects.filter(username=user.username).exists()
    text = dump_all_tables()
    for marker in MARKERS:
        assert marker not in text


@pytest.fixture
def proxied_server(django_db_setup, live_server_data_dir, tmp_path):
    """The app behind a proxy that names each client in X-Forwarded-For, with small limits."""
    from tests.processes import AsgiServer, database_url_for_subprocess, service_env

    log = tmp_path / "server.log"
    env = service_env(
        DATABASE_URL=database_url_for_subprocess(),
        DATA_DIR=str(live_server_data_dir),
        CLIENT_ADDRESS_HEADER="X-Forwarded-For",
        AXES_FAILURE_LIMIT="3",
        STAFF_LOCKOUT_ACCOUNT_CEILING="8",
    )
    server = AsgiServer(env=env, log_path=log)
    server.start()
    yield server, log
    server.stop()


def login_from(server_url: str, address: str, username: str, password: str) -> int:
    headers = {"X-Forwarded-For": address, "User-Agent": USER_AGENT}
    with httpx.Client(base_url=server_url, headers=headers, timeout=20) as client:
        page = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None
        response = client.post(
            "/admin/login/",
            data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
        )
        return response.status_code


def test_a_stranger_cannot_lock_a_counsellor_out_but_many_strangers_meet_the_ceiling(proxied_server):
    server, log = proxied_server
    counsellor = staff_member()
    stranger, home, elsewhere = "203.0.113.66", "198.51.100.23", "192.0.2.{}"

    # One stranger guesses: they are locked out after three failures ...
    statuses = [login_from(server.url, stranger, counsellor.username, "wrong") for _ in range(5)]
    assert statuses[-1] == 429, statuses
    # ... and the counsellor, from their own network, still gets in.
    assert login_from(server.url, home, counsellor.username, PASSWORD) == 302

    # Guessing spread over many addresses meets the account's ceiling.
    for n in range(1, 9):
        login_from(server.url, elsewhere.format(n), counsellor.username, "wrong")
    assert login_from(server.url, home, counsellor.username, PASSWORD) == 429

    # Nothing that identifies a client is stored or logged.
    text = dump_all_tables() + log.read_text()
    for marker in (stranger, home, elsewhere.format(1), USER_AGENT):
        assert marker not in text
    stored = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert stored and all(address.startswith("fd") for address in stored)
