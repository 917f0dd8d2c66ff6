from typing import Any

import pytest

from hotline import services
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified


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
