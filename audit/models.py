import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One staff action or view. Never holds the content that was seen or changed.

    Each event's hash covers its own fields and the previous event's hash, so
    editing or deleting a row breaks the chain from there on
    (``manage.py verify_audit_chain`` finds the first broken link).
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The username at the time: the chain must not depend on a row that can change.
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    previous_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        # View only: no role can be given add, change or delete in the admin.
        default_permissions = ("view",)
        verbose_name = "granskningshändelse"
        verbose_name_plural = "granskningshändelser"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def compute_hash(self) -> str:
        payload = json.dumps(
            [
                self.previous_hash,
                self.created_at.isoformat(),
                self.actor_label,
                self.action,
                self.object_type,
                self.object_id,
            ],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


class AuditChainAnchor(models.Model):
    """Where the chain starts once retention has deleted its oldest events.

    Holds the hash of the last deleted event: the oldest remaining event must
    point at it, so deleting old events outside retention is still detected.
    One row at most.
    """

    hash = models.CharField(max_length=64)
    deleted_events = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        verbose_name = "kedjans startpunkt"

    def __str__(self) -> str:
        return self.hash
