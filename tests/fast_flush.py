"""The flush after each transactional test, emptying only the tables that hold rows.

pytest-django empties the database after every ``transactional_db`` test
with Django's ``flush``: one ``TRUNCATE`` of every table (about 65 here).
PostgreSQL gives each truncated table, its indexes and its TOAST table new
files, which costs 0.3-0.5 s whatever the tables hold, and most tables are
empty after most tests. :func:`sql_flush` returns one PL/pgSQL block instead
that locks every table (so no process of the test, such as a live server,
can write between the look and the cut), looks which tables hold a row, and
deletes their rows. Tables with triggers of their own (the audit log, which
refuses ``DELETE``; the test profile lets it be truncated) are truncated,
with ``CASCADE``. The end state is Django's: every table empty, sequences as
they were (``reset_sequences=False``), then ``post_migrate`` as before. A
flush that resets sequences, or on another database, is Django's own.
``tests/foundation/test_fast_flush.py`` checks that every table ends empty.
"""

from typing import Any

from django.core.management import sql as management_sql
from django.core.management.commands import flush as flush_command
from django.db.backends.base.base import BaseDatabaseWrapper

_django_sql_flush = management_sql.sql_flush


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def sql_flush(
    style: Any, connection: BaseDatabaseWrapper, reset_sequences: bool = True, allow_cascade: bool = False
) -> list[str]:
    if connection.vendor != "postgresql" or reset_sequences:
        return _django_sql_flush(style, connection, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
    if not tables:
        return []
    quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
    names = ", ".join(_literal(table) for table in tables)
    # No percent sign: the statement runs without parameters, but must not look like it takes any.
    # Every foreign key here is DEFERRABLE INITIALLY DEFERRED (Django's own), so the deletes may run in
    # any order: the constraints are checked at commit, when every table is empty.
    return [
        f"""DO $flush$
DECLARE
    name text;
    has_rows boolean;
    to_truncate text[] := ARRAY[]::text[];
    to_delete text[] := ARRAY[]::text[];
BEGIN
    LOCK TABLE {quoted} IN ACCESS EXCLUSIVE MODE;
    FOREACH name IN ARRAY ARRAY[{names}]::text[] LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(name) || ')' INTO has_rows;
        IF has_rows THEN
            IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = quote_ident(name)::regclass AND NOT tgisinternal) THEN
                to_truncate := to_truncate || name;
            ELSE
                to_delete := to_delete || name;
            END IF;
        END IF;
    END LOOP;
    IF cardinality(to_truncate) > 0 THEN
        EXECUTE 'TRUNCATE ' || (SELECT string_agg(quote_ident(t), ', ') FROM unnest(to_truncate) AS t) || ' CASCADE';
    END IF;
    FOREACH name IN ARRAY to_delete LOOP
        EXECUTE 'DELETE FROM ' || quote_ident(name);
    END LOOP;
END
$flush$"""  # noqa: S608 (names from Django's introspection, quoted)
    ]


def install() -> None:
    """Makes Django's ``flush`` command (as run by pytest-django) use :func:`sql_flush`."""
    flush_command.sql_flush = sql_flush  # type: ignore[attr-defined]  # the stubs leave the import out


def uninstall() -> None:
    flush_command.sql_flush = _django_sql_flush  # type: ignore[attr-defined]
