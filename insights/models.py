"""Aggregates that outlive the rows they were computed from (docs/insights.md).

Nothing here points to one contact: no ids of chats, tips or letters, no text,
no tokens or codes. A row is a count of one day (or one hour), by one group and,
for a duration, one histogram bucket (``insights.histogram``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyCount(models.Model):
    """How many of something happened on one day, by one group and (for a duration) one bucket.

    Every count is dated by the event that completes it (a wait by the moment it
    ended, a removal by the moment it was recorded), so a day stops changing
    once it is over; see ``insights.services`` for the settled days.
    """

    class Metric(models.TextChoices):
        # Support line. Contacts by the day they came in.
        CHATS = "chats", _("chattar")
        LETTERS = "letters", _("brev")
        # group "answered" (bucket: queued -> claimed) or "left" (bucket: queued -> left), by that day.
        WAIT = "wait", _("väntetid")
        # group "<band>:answered" / "<band>:left": the same by the place in the queue on joining.
        WAIT_BY_PLACE = "wait_by_place", _("väntetid efter plats i kön")
        # bucket: claimed -> ended, by the day it ended.
        DURATION = "duration", _("samtalslängd")
        AGE_BAND = "age_band", _("ålder")
        TOPIC = "topic", _("ämne vid start")
        CATEGORY = "category", _("ämne enligt klassificering")
        OUTCOME = "outcome", _("utfall")
        RISK = "risk", _("risk")
        FEEDBACK = "feedback", _("återkoppling")
        # Hotline. Tips by the day they came in, group: category / priority / how found.
        TIPS = "tips", _("tips")
        TIPS_PRIORITY = "tips_priority", _("tips efter prioritet")
        # group: how the reporter found it ("unknown" when the question was skipped).
        TIPS_FOUND_VIA = "tips_found_via", _("tips efter hur det hittades")
        # group: outcome, by the day of the assessment.
        ASSESSED = "assessed", _("bedömda tips")
        # group: priority, bucket: received -> assessment started.
        FIRST_ASSESSMENT = "first_assessment", _("tid till första bedömning")
        # bucket: received -> hand-off delivered, urgent tips only.
        URGENT_HANDOFF = "urgent_handoff", _("akuta tips: tid till överlämning")
        # group: delivered / delivered_after_retry / failed.
        HANDOFF = "handoff", _("överlämningar")
        # bucket: decision -> delivered.
        HANDOFF_DELIVERY = "handoff_delivery", _("tid från beslut till leverans")
        # bucket: notice sent -> removal recorded; group: provider name / country code.
        REMOVAL_PROVIDER = "removal_provider", _("borttagning per leverantör")
        REMOVAL_COUNTRY = "removal_country", _("borttagning per land")

    day = models.DateField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    group = models.CharField(max_length=200, blank=True, default="")
    bucket = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()
        # The role permissions of the insights pages (insights.apps.InsightsConfig.role_permissions).
        permissions = [
            ("view_support_insights", "Can view support line insights"),
            ("view_hotline_insights", "Can view hotline insights"),
            ("view_prevention_insights", "Can view prevention insights"),
        ]
        constraints = [
            # Also the index of the pages' reads (by metric, then days).
            models.UniqueConstraint(fields=["metric", "day", "group", "bucket"], name="insights_dailycount_unique"),
        ]
        verbose_name = _("daglig siffra")
        verbose_name_plural = _("dagliga siffror")

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.group}#{self.bucket}: {self.count}"


class SupportHour(models.Model):
    """One hour of the support line: contacts that came in, whether it was open, who was on duty.

    ``weekday`` (Monday 0) and ``hour`` are local time, for the 7 x 24 heat map.
    ``duty_sum / duty_samples`` is the mean number of counsellors on duty.
    """

    start = models.DateTimeField(unique=True)
    day = models.DateField(db_index=True)
    weekday = models.PositiveSmallIntegerField()
    hour = models.PositiveSmallIntegerField()
    chats = models.PositiveIntegerField(default=0)
    letters = models.PositiveIntegerField(default=0)
    open_minutes = models.PositiveSmallIntegerField(default=0)
    duty_samples = models.PositiveIntegerField(default=0)
    duty_sum = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H}h"


class DutySample(models.Model):
    """How many counsellors had the console open at one sampling moment (a slot of the beat schedule)."""

    slot = models.DateTimeField(unique=True)
    on_duty = models.PositiveSmallIntegerField()

    class Meta:
        default_permissions = ()
        ordering = ["slot"]

    def __str__(self) -> str:
        return f"{self.slot:%Y-%m-%d %H:%M} {self.on_duty}"


class AggregationState(models.Model):
    """How far the daily aggregates are settled: one row.

    Every day up to ``settled_through`` was computed after it had ended (and a
    grace period), is never recomputed by the beat job, and is the only kind of
    day whose rows retention may purge (``InsightsConfig.retention_holds``).
    """

    settled_through = models.DateField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # New on every run: cached figures are keyed on it (insights.selectors).
    generation = models.UUIDField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"settled through {self.settled_through}"
