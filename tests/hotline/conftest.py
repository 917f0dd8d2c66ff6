import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline import form_tokens, services
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.receiver import PoliceReceiver

POLICE_SECRET = "test-police-secret"

# The public tip form as a browser posts it: one address, nothing urgent.
TIP_FORM = {
    "urls": "https://example.com/x",
    "place": "",
    "category": "abuse_material",
    "occurred": "i morse",
    "description": "Bilder på ett barn.",
    "contact": "",
    "website": "",
}


def post_tip_form(client: Any, data: dict[str, Any], **extra: Any) -> Any:
    """Posts the tip form as a browser does, with the one-time token of a freshly shown form."""
    return client.post("/hotline/", {**data, "form_token": form_tokens.issue()}, **extra)


def submit_tip(**overrides: Any) -> services.SubmittedTip:
    values: dict[str, Any] = {
        "category": "abuse_material",
        "urls": ["https://example.com/a"],
        "place": "",
        "occurred": "i går",
        "description": "Jag såg något hemskt.",
        "contact": "",
        "urgent": False,
    }
    values.update(overrides)
    return services.tip_submit(**values)


@pytest.fixture
def analyst(db):
    return StaffUserFactory(role=Role.ANALYST)


@pytest.fixture
def analyst_client(client, analyst):
    login_verified(client, analyst)
    return client


@pytest.fixture
def https_settings(settings):
    """The https hand-off backend, unsealed, with quick timeouts and retries; no address yet."""
    settings.POLICE_HANDOFF_BACKEND = "https"
    settings.POLICE_HANDOFF_SECRET = POLICE_SECRET
    settings.POLICE_HANDOFF_PUBLIC_KEY = ""
    settings.POLICE_HANDOFF_ALLOW_UNSEALED = True
    settings.POLICE_HANDOFF_REQUIRE_HTTPS = True
    settings.POLICE_HANDOFF_TIMEOUT_SECONDS = 3
    settings.POLICE_HANDOFF_MAX_ATTEMPTS = 3
    settings.POLICE_HANDOFF_RETRY_BASE_SECONDS = 0.01
    return settings


@contextlib.contextmanager
def tls_receiver(
    settings: Any, tmp_path: Path, script: tuple[int | str, ...] = (), trusted: bool = True
) -> Iterator[PoliceReceiver]:
    """A local TLS receiver that the hand-off settings point at (its CA trusted or not), stopped on leaving."""
    receiver = PoliceReceiver(POLICE_SECRET, script=script, tls_dir=tmp_path / "tls").start()
    settings.POLICE_HANDOFF_URL = receiver.url
    settings.POLICE_HANDOFF_CA_FILE = str(receiver.certificate) if trusted else ""
    try:
        yield receiver
    finally:
        receiver.stop()
