from django.db import models
from django.utils import timezone


class RetentionRun(models.Model):
    """One run of a retention job: which kind of data, how many items, when. Never content."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Lyckades"
        FAILED = "failed", "Misslyckades"

    kind = models.CharField(max_length=50, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(default=timezone.now, db_index=True)
    deleted = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.SUCCEEDED)
    # Only a short error class name, never data.
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-finished_at"]
        default_permissions = ("view",)
        verbose_name = "gallringskörning"
        verbose_name_plural = "gallringskörningar"

    def __str__(self) -> str:
        return f"{self.kind} {self.finished_at:%Y-%m-%d %H:%M} {self.outcome} ({self.deleted})"
