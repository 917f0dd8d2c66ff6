"""``manage.py check``: every declared retention policy has a period and a purge function."""

from collections import Counter
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from retention.registry import retention_holds, retention_policies


@register()
def check_retention_policies(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    policies = retention_policies()
    messages: list[CheckMessage] = []
    for kind, count in Counter(policy.kind for policy in policies).items():
        if count > 1:
            messages.append(Error(f"Retention kind {kind!r} is declared by {count} apps.", id="retention.E001"))
    for policy in policies:
        if policy.kind not in settings.RETENTION_DAYS:
            messages.append(
                Error(f"Retention kind {policy.kind!r} has no period in RETENTION_DAYS.", id="retention.E002")
            )
        try:
            policy.purge_function()
        except ImportError:
            messages.append(Error(f"{policy.purge!r} ({policy.kind}) does not import.", id="retention.E003"))
        if not (isinstance(policy.every_seconds, int) and policy.every_seconds > 0):
            messages.append(
                Error(f"Retention kind {policy.kind!r}: every_seconds must be a positive int.", id="retention.E004")
            )
    declared = {policy.kind for policy in policies}
    for kind in declared:
        try:
            retention_holds(kind)
        except ImportError as exc:
            messages.append(Error(f"A retention hold for {kind!r} does not import: {exc}", id="retention.E005"))
    for kind in settings.RETENTION_DAYS:
        if kind not in declared:
            messages.append(
                Warning(
                    f"RETENTION_DAYS[{kind!r}] is enforced by nothing: no app declares a retention policy for it.",
                    id="retention.W001",
                )
            )
    return messages
