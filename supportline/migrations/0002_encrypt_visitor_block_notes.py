"""The visitor block's reason and review note move to encrypted columns.

The columns become text, then every stored value is encrypted in place with
the newest FIELD_ENCRYPTION_KEYS key. Raw SQL on purpose: the historical
model's field already decrypts on read, and these values are still plain.
"""

from typing import Any

from django.db import migrations

import privacy.fields
from privacy.crypto import decrypt, encrypt

COLUMNS = ("reason", "review_note")


def _transform(schema_editor: Any, change: Any) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote("supportline_visitorblock")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(quote(c) for c in COLUMNS)} FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
        for pk, *values in rows:
            new = [None if value is None else change(value) for value in values]
            assignments = ", ".join(f"{quote(c)} = %s" for c in COLUMNS)
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*new, pk])  # noqa: S608


def encrypt_existing(apps: Any, schema_editor: Any) -> None:
    _transform(schema_editor, encrypt)


def decrypt_existing(apps: Any, schema_editor: Any) -> None:
    _transform(schema_editor, decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("supportline", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="visitorblock",
            name="reason",
            field=privacy.fields.EncryptedTextField(max_length=300, verbose_name="anledning"),
        ),
        migrations.AlterField(
            model_name="visitorblock",
            name="review_note",
            field=privacy.fields.EncryptedTextField(blank=True, max_length=300, verbose_name="granskning"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
