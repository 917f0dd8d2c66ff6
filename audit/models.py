import hashlib
import hmac
import json

from django.conf import settings
from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64


def chain_mac(*parts: object) -> str:
    """HMAC-SHA256 under ``AUDIT_CHAIN_KEY`` of the parts as canonical JSON.

    The key lives only in the environment, never in the database, so someone
    who can rewrite the audit table cannot compute a hash that verifies.
    """
    return hmac.new(settings.AUDIT_CHAIN_KEY.encode(), _canonical(parts), hashlib.sha256).hexdigest()


def _canonical(parts: tuple[object, ...]) -> bytes:
    return json.dumps(parts, separators=(",", ":"), ensure_ascii=False).encode()


class AuditEvent(models.Model):
    """One staff action or view. Never holds the content that was seen or changed.

    Each event's hash is an HMAC (key ``AUDIT_CHAIN_KEY``, never in the
    database) of its own fields and the previous event's hash, so editing or
    deleting a row breaks the chain from there on, and the later hashes cannot
    be recomputed without the key (``manage.py verify_audit_chain`` finds the
    first broken link). On PostgreSQL a trigger refuses UPDATE and DELETE
    outside the retention purge (migration 0005).
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
        return chain_mac(*self._chained_parts())

    def compute_unkeyed_hash(self) -> str:
        """The hash before the chain was keyed (migration 0004 re-chains rows that still verify with it)."""
        return hashlib.sha256(_canonical(self._chained_parts())).hexdigest()

    def _chained_parts(self) -> tuple[object, ...]:
        """What the hash covers: the previous event's hash and this event's own fields, the actor by label."""
        return (
            self.previous_hash,
            self.created_at.isoformat(),
            self.actor_label,
            self.action,
            self.object_type,
            self.object_id,
        )


class AuditChainAnchor(models.Model):
    """Where the chain starts once retention has deleted its oldest events.

    Holds the hash and id of the last deleted event and how many events
    retention has deleted in all: the oldest remaining event must point at
    ``hash``, so deleting old events outside retention is still detected.
    ``signature`` is an HMAC of those fields under ``AUDIT_CHAIN_KEY``: an
    anchor written by anyone but the purge does not verify. One row at most.
    """

    hash = models.CharField(max_length=64)
    deleted_events = models.PositiveBigIntegerField(default=0)
    # Highest id retention has deleted; 0 before the first keyed purge.
    last_deleted_id = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    signature = models.CharField(max_length=64, blank=True)

    class Meta:
        default_permissions = ()
        verbose_name = "kedjans startpunkt"

    def __str__(self) -> str:
        return self.hash

    def compute_signature(self) -> str:
        return chain_mac("anchor", self.hash, self.deleted_events, self.last_deleted_id, self.updated_at.isoformat())

    def sign(self) -> None:
        self.signature = self.compute_signature()

    def signature_valid(self) -> bool:
        return hmac.compare_digest(self.signature, self.compute_signature())
