"""The role groups after ``migrate`` and ``flush``: exactly role_permissions(), at a small fixed cost.

``post_migrate`` is sent once per app, and again after every ``flush``, which
pytest-django runs after each transactional test; a sync that acted on every
app's signal, one query per permission, cost ~9 s per flush (a third of CI).
"""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext

from staff.roles import Role, role_permissions

pytestmark = pytest.mark.django_db


def _held() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


def test_after_post_migrate_each_group_holds_exactly_its_roles_permissions() -> None:
    Group.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    wanted = role_permissions()
    held = _held()
    assert set(held) == {role.value for role in Role}
    for role in Role:
        assert held[role.value] == wanted[role], role
    assert all(wanted.values())  # no role's expectation is trivially empty


def test_a_stray_permission_is_taken_away_again() -> None:
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    editor = Group.objects.get(name=Role.EDITOR.value)
    stray = Group.objects.get(name=Role.ADMINISTRATOR.value).permissions.exclude(
        pk__in=editor.permissions.values("pk")
    )[0]
    editor.permissions.add(stray)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert _held()[Role.EDITOR.value] == role_permissions()[Role.EDITOR]


def test_the_sync_acts_once_per_migrate_with_a_fixed_number_of_queries() -> None:
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # everything exists already

    def sync_queries() -> list[Any]:
        with CaptureQueriesContext(connection) as captured:
            emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
        return [q["sql"] for q in captured.captured_queries if "auth_group" in q["sql"]]

    # Per role: get the group, read its permissions, (no changes to write); plus one read of all permissions.
    assert len(sync_queries()) <= 3 * len(Role)
