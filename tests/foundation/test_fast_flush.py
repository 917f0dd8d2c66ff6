"""The flush between transactional tests (tests/fast_flush.py) leaves every table empty, as Django's does."""

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.management.commands import flush as flush_command
from django.db import connection

from audit.services import record_event
from supportline import services
from tests import fast_flush
from tests.supportline.helpers import open_all_week, verified_staff_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _tables_with_rows() -> list[str]:
    with_rows = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.django_table_names(only_existing=True, include_views=False)):
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")  # noqa: S608
            if cursor.fetchone()[0]:
                with_rows.append(table)
    return with_rows


def test_the_flush_empties_every_table_including_the_audit_log_and_rows_others_refer_to():
    assert flush_command.sql_flush is fast_flush.sql_flush  # type: ignore[attr-defined]
    open_all_week()
    user, _cookie = verified_staff_cookie()
    record_event(actor=user, action="test.flush")
    chat = services.conversation_start()
    assert chat is not None
    # Rows in the audit log (truncated), in tables that others refer to (users, chats) and in those referring.
    assert {"audit_auditevent", "auth_user", "auth_user_groups", "supportline_conversation"} <= set(_tables_with_rows())

    # As pytest-django calls it after a transactional test, without post_migrate so nothing comes back.
    call_command(
        "flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False, inhibit_post_migrate=True
    )

    assert _tables_with_rows() == []


def test_a_flush_that_resets_sequences_is_djangos_own():
    statements = fast_flush.sql_flush(no_style(), connection, reset_sequences=True)
    assert len(statements) == 1 and statements[0].startswith("TRUNCATE ") and "RESTART IDENTITY" in statements[0]
