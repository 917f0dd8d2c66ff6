"""Re-encrypts every EncryptedTextField column under the newest FIELD_ENCRYPTION_KEYS key.

Columns are found through the app registry (any installed model, any app),
never by importing feature apps. Work goes in batches by primary key, each
batch in its own transaction, and a row is written only when its token is
not already under the newest key and has not changed since it was read.
So a run that is stopped or killed loses at most its open batch, and the next
run continues: rows already rotated are skipped without a write.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.db import connections, router, transaction

from privacy.crypto import is_under_newest_key, rotate
from privacy.fields import EncryptedTextField


@dataclass(frozen=True)
class EncryptedColumn:
    label: str  # app_label.Model.field
    model: Any
    table: str
    column: str
    pk_column: str

    @property
    def database(self) -> str:
        return router.db_for_write(self.model)


@dataclass
class Progress:
    column: EncryptedColumn
    batches: int = 0
    read: int = 0
    rotated: int = 0
    current: int = 0  # already under the newest key, left alone
    changed: int = 0  # written by someone else between read and write (with the newest key)
    unreadable: int = 0  # no configured key opens it
    last_pk: Any = None


def encrypted_columns() -> list[EncryptedColumn]:
    """Every concrete EncryptedTextField column of every installed, managed model."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        for field in meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField) and field.column and meta.pk and meta.pk.column:
                found.append(
                    EncryptedColumn(
                        label=f"{meta.app_label}.{meta.object_name}.{field.name}",
                        model=model,
                        table=meta.db_table,
                        column=field.column,
                        pk_column=meta.pk.column,
                    )
                )
    return sorted(found, key=lambda column: column.label)


def _read_batch(column: EncryptedColumn, after: Any, size: int) -> list[tuple[Any, str]]:
    connection = connections[column.database]
    quote = connection.ops.quote_name
    pk, col, table = quote(column.pk_column), quote(column.column), quote(column.table)
    where = f"{col} IS NOT NULL" + (f" AND {pk} > %s" if after is not None else "")
    params = [after] if after is not None else []
    with connection.cursor() as cursor:
        # Raw SQL on purpose: the ORM would decrypt on the way out, and we need the stored token.
        cursor.execute(f"SELECT {pk}, {col} FROM {table} WHERE {where} ORDER BY {pk} LIMIT %s", [*params, size])  # noqa: S608
        return list(cursor.fetchall())


def _write(column: EncryptedColumn, pk: Any, old: str, new: str) -> bool:
    connection = connections[column.database]
    quote = connection.ops.quote_name
    pk_name, col, table = quote(column.pk_column), quote(column.column), quote(column.table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {col} = %s WHERE {pk_name} = %s AND {col} = %s",  # noqa: S608
            [new, pk, old],
        )
        return bool(cursor.rowcount)


def rotate_column(column: EncryptedColumn, *, batch_size: int, max_batches: int | None = None) -> Iterator[Progress]:
    """Rotates one column batch by batch, yielding the running progress after each batch."""
    progress = Progress(column=column)
    while max_batches is None or progress.batches < max_batches:
        with transaction.atomic(using=column.database):
            rows = _read_batch(column, progress.last_pk, batch_size)
            if not rows:
                return
            for pk, token in rows:
                progress.read += 1
                progress.last_pk = pk
                if is_under_newest_key(token):
                    progress.current += 1
                    continue
                try:
                    rotated = rotate(token)
                except (InvalidToken, UnicodeEncodeError):
                    progress.unreadable += 1
                    continue
                if _write(column, pk, token, rotated):
                    progress.rotated += 1
                else:
                    progress.changed += 1
        progress.batches += 1
        yield progress


def stale_count(column: EncryptedColumn, *, batch_size: int = 1000) -> int:
    """How many of the column's values the newest key alone cannot open."""
    stale, after = 0, None
    while rows := _read_batch(column, after, batch_size):
        stale += sum(1 for _pk, token in rows if not is_under_newest_key(token))
        after = rows[-1][0]
    return stale
