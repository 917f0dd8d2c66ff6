"""Which data is purged, by what, and how often: each app declares its own policies.

An app lists them on its AppConfig, as plain data in the style of
``role_permissions`` (so an app on any floor declares policies without
importing retention)::

    class SupportlineConfig(AppConfig):
        retention_policies = {
            "transcripts": {"purge": "supportline.services.purge_transcripts", "every_seconds": 60 * 60},
        }

* the key is the kind of data; its period is the setting ``RETENTION_DAYS[kind]``,
  where every period is declared and shown together;
* ``purge`` is the dotted path of ``purge(cutoff) -> int``: it deletes what is
  older than the cutoff, returns how many items it deleted, and deletes
  nothing twice when run again;
* ``every_seconds`` is how often beat runs it.

``beat_schedule()`` turns the policies into Celery beat entries, one per kind,
all running ``retention.tasks.run_retention_policy`` with the kind as its only
argument; ``RetentionConfig.ready`` adds them to ``CELERY_BEAT_SCHEDULE``.
``manage.py check`` reports a policy without a period, a period without a
policy, and a purge path that does not import.

An app may also hold other apps' purges back, again as plain data:
``retention_holds = {kind: "dotted.path"}`` names ``hold(kind) -> datetime``,
and a purge of that kind never deletes from that moment on (``insights``
counts rows into its aggregates before they may go).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

RUN_POLICY_TASK = "retention.tasks.run_retention_policy"


@dataclass(frozen=True)
class RetentionPolicy:
    kind: str
    app_label: str
    purge: str
    every_seconds: int

    def purge_function(self) -> Callable[[datetime], int]:
        purge: Callable[[datetime], int] = import_string(self.purge)
        return purge


def retention_policies() -> list[RetentionPolicy]:
    """Every app's declared policies, in INSTALLED_APPS order."""
    return [
        RetentionPolicy(kind=kind, app_label=config.label, purge=spec["purge"], every_seconds=spec["every_seconds"])
        for config in apps.get_app_configs()
        for kind, spec in getattr(config, "retention_policies", {}).items()
    ]


def retention_holds(kind: str) -> list[Callable[[str], datetime]]:
    """The hold functions any app declares for ``kind`` (``AppConfig.retention_holds``)."""
    holds: list[Callable[[str], datetime]] = [
        import_string(getattr(config, "retention_holds", {})[kind])
        for config in apps.get_app_configs()
        if kind in getattr(config, "retention_holds", {})
    ]
    return holds


def retention_policy(kind: str) -> RetentionPolicy:
    for policy in retention_policies():
        if policy.kind == kind:
            return policy
    raise KeyError(f"No app declares a retention policy for {kind!r} (AppConfig.retention_policies)")


def beat_schedule() -> dict[str, dict[str, Any]]:
    """One beat entry per policy, the interval in seconds."""
    return {
        f"retention.{policy.kind}": {
            "task": RUN_POLICY_TASK,
            "args": (policy.kind,),
            "schedule": policy.every_seconds,
        }
        for policy in retention_policies()
    }


def runs_policy(entry: Mapping[str, Any], kind: str) -> bool:
    """True when a beat entry runs the policy for ``kind``, whatever the entry is called."""
    return entry.get("task") == RUN_POLICY_TASK and tuple(entry.get("args", ())) == (kind,)
