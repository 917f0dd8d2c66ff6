"""Failed staff logins through the real server leave no client trace in any table."""

import re

import httpx
import pytest
from axes.models import AccessAttempt

from tests.foundation.test_no_client_trace import FORWARDED_ADDRESS, MARKERS, USER_AGENT
from tests.staff.helpers import staff_member
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
