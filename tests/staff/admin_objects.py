"""One saved object of any model, so the role table can open its change, history and delete pages.

Uses an existing row when there is one, otherwise fills every required
field with a plain value. A model whose constraints need particular values
gets an entry in ``OVERRIDES`` (label -> field values).
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db import models
from django.utils import timezone

OVERRIDES: dict[str, dict[str, Any]] = {
    # An article must be written for at least one audience.
    "prevention.Article": {"for_children": True},
}


def _value_for(field: models.Field[Any, Any]) -> Any:
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.ForeignKey | models.OneToOneField):
        return object_of(field.related_model)
    if isinstance(field, models.EmailField):
        return "staff-table@example.org"
    if isinstance(field, models.URLField):
        return "https://example.org/"
    if isinstance(field, models.SlugField):
        return f"s{uuid.uuid4().hex[:12]}"
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.TimeField):
        return datetime.time(9, 0)
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return timezone.localdate()
    if isinstance(field, models.DurationField):
        return datetime.timedelta(minutes=1)
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.DecimalField):
        return decimal.Decimal(0)
    if isinstance(field, models.IntegerField | models.FloatField):
        return 1
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.BinaryField):
        return b"x"
    if isinstance(field, models.CharField | models.TextField):
        text = f"x{uuid.uuid4().hex}"
        return text[: field.max_length] if field.max_length else text
    raise TypeError(f"no plain value for {field!r}")


def new_object_of(model: type[models.Model]) -> models.Model:
    """A freshly created row, with every required field filled."""
    values = dict(OVERRIDES.get(model._meta.label, {}))
    for field in model._meta.concrete_fields:
        if field.name in values:
            continue
        if field.primary_key and (field.has_default() or isinstance(field, models.AutoField)):
            continue
        if (
            field.null
            or field.has_default()
            or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
        ):
            continue
        values[field.name] = _value_for(field)
    return model._default_manager.create(**values)


def object_of(model: type[models.Model]) -> models.Model:
    """An existing row of ``model``, or a new one."""
    existing = model._default_manager.order_by("pk").first()
    return existing if existing is not None else new_object_of(model)


def version_of(model: type[models.Model], *, deleted: bool = False) -> Any:
    """A django-reversion Version of a ``model`` row; of a since-deleted row if ``deleted``."""
    import reversion
    from reversion.models import Version

    obj = new_object_of(model) if deleted else object_of(model)
    with reversion.create_revision():
        obj.save()
    version = Version.objects.get_for_object(obj).first()
    if deleted:
        obj.delete()
    return version
