"""The admin start page's panels: contributed by apps through AppConfig.admin_index_panels."""

import pytest
from django.apps import apps
from django.urls import reverse

from staff.roles import Role
from tests.factories import login_verified
from tests.staff.helpers import staff_member

pytestmark = pytest.mark.django_db

SHOWN: dict[str, object] = {}


def panel_context(request):
    return SHOWN.get("context")


@pytest.fixture
def test_panel(monkeypatch, tmp_path, settings):
    (tmp_path / "panel.html").write_text('<p id="test-panel">{{ message }} {{ request.user.get_username }}</p>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    config = apps.get_app_config("hotline")
    panel = {
        "template": "panel.html",
        "context": f"{__name__}.panel_context",
        "permission": "hotline.view_policehandoff",
    }
    monkeypatch.setattr(config, "admin_index_panels", [panel], raising=False)
    yield
    SHOWN.clear()


@pytest.mark.parametrize(("role", "shown"), [(Role.ANALYST, True), (Role.EDITOR, False)])
def test_a_panel_is_shown_to_those_it_applies_to(client, test_panel, role, shown):
    SHOWN["context"] = {"message": "Två överlämningar har fastnat"}
    login_verified(client, staff_member(role=role))
    html = client.get(reverse("admin:index")).content.decode()
    assert ('id="test-panel"' in html) is shown
    if shown:
        assert "Två överlämningar har fastnat" in html


def test_a_panel_with_nothing_to_say_is_left_out(client, test_panel):
    SHOWN["context"] = None
    login_verified(client, staff_member(role=Role.ANALYST))
    assert 'id="test-panel"' not in client.get(reverse("admin:index")).content.decode()
