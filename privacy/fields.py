"""Model fields whose content is encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Lookup

from privacy.crypto import decrypt, encrypt


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]  # stubs' generic Field; Django's is not
    """Text stored as a Fernet token; the database never sees the plain text.

    Tokens are randomised, so equality or substring lookups cannot work and
    are refused; store a keyed hash beside the field where lookups are needed.
    """

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt(value)

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)
