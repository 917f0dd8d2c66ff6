"""A letter thread and its messages. Text and drafts are encrypted at rest.

Nothing here holds an address, a User-Agent or a name: the young person is
known only by the letter code, of which only hashes are kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy.fields import EncryptedTextField
from supportline.models import Conversation


class LetterQuerySet(models.QuerySet["Letter"]):
    """The query vocabulary of letters, so callers never spell a status."""

    def waiting(self) -> LetterQuerySet:
        """The young person wrote last and waits for an answer."""
        return self.filter(status=Letter.Status.WAITING)

    def open(self) -> LetterQuerySet:
        return self.exclude(status=Letter.Status.CLOSED)

    def closed(self) -> LetterQuerySet:
        return self.filter(status=Letter.Status.CLOSED)

    def in_queue_order(self) -> LetterQuerySet:
        """Urgent first (risk marked or "not safe now"), then the longest waiting."""
        urgent = models.Q(imminent_risk=True) | models.Q(topic=Conversation.Topic.DANGER_NOW)
        return self.annotate(
            urgent_rank=models.Case(models.When(urgent, then=0), default=1, output_field=models.IntegerField())
        ).order_by("urgent_rank", "waiting_since", "pk")


LetterManager = models.Manager.from_queryset(LetterQuerySet)


class Letter(models.Model):
    """One anonymous letter thread, reachable by the young person only with its code."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("väntar på svar")
        ANSWERED = "answered", _("besvarat")
        CLOSED = "closed", _("avslutat")

    class ClosedBy(models.TextChoices):
        YOUNG_PERSON = "young_person", _("den unga")
        COUNSELLOR = "counsellor", _("rådgivaren")
        # Answered, and the young person never came back: closed so retention can start.
        INACTIVITY = "inactivity", _("ingen aktivitet")

    # Keyed hash of the code's lookup part; NULL never happens for a live thread.
    code_lookup = models.CharField(max_length=64, unique=True, editable=False)
    # Salted scrypt hash of the code's verifier part.
    code_verifier = models.CharField(max_length=200, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    age_band = models.CharField(_("ålder"), max_length=10, choices=Conversation.AgeBand.choices, blank=True)
    topic = models.CharField(_("ämne"), max_length=20, choices=Conversation.Topic.choices, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supportline_letters",
        verbose_name=_("rådgivare"),
    )
    claimed_at = models.DateTimeField(_("tagen"), null=True, blank=True)
    # The claiming counsellor's unsent answer.
    draft = EncryptedTextField(_("utkast"), blank=True, default="")
    draft_saved_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("skrivet"), auto_now_add=True)
    # Since when the young person has been waiting for an answer (their latest message).
    waiting_since = models.DateTimeField(_("väntar sedan"), null=True, blank=True)
    answered_at = models.DateTimeField(_("senast besvarat"), null=True, blank=True)
    closed_at = models.DateTimeField(_("avslutat"), null=True, blank=True)
    closed_by = models.CharField(_("avslutat av"), max_length=20, choices=ClosedBy.choices, blank=True)
    imminent_risk = models.BooleanField(_("akut risk"), default=False)
    risk_marked_at = models.DateTimeField(null=True, blank=True)
    escalation_steps = models.JSONField(_("genomförda steg"), default=list, blank=True)

    objects = LetterManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "waiting_since"]),
            models.Index(fields=["status", "closed_at"]),
        ]
        verbose_name = _("brev")
        verbose_name_plural = _("brev")

    def __str__(self) -> str:
        return f"Brev #{self.pk}"

    @property
    def is_urgent(self) -> bool:
        return self.imminent_risk or self.topic == Conversation.Topic.DANGER_NOW


class LetterMessage(models.Model):
    """One message in a letter thread, from the young person or a counsellor."""

    class Sender(models.TextChoices):
        YOUNG_PERSON = "young_person", _("den unga")
        COUNSELLOR = "counsellor", _("rådgivare")

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=20, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["letter", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.letter_id}/{self.pk}"
