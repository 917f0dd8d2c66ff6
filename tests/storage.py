"""What the database holds, as text: for tests that prove nothing is stored in plain form."""

from django.db import connection


def dump_all_tables() -> str:
    """Every row of every table, as text.

    Safe to call from a worker thread (``sync_to_async``): it closes the
    thread's connection so the test database can be dropped afterwards.
    """
    chunks = []
    try:
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
                chunks.append(repr(cursor.fetchall()))
    finally:
        connection.close()
    return "\n".join(chunks)
