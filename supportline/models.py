"""The support line's data: conversations, their messages, and what staff maintain.

Message text and internal notes are encrypted at rest. Nothing here holds an
IP address, a User-Agent or a visitor's name: the visitor is known only by
the hash of a session token that lives in their browser tab.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext_lazy as _

from privacy.fields import EncryptedTextField


class OpeningHours(models.Model):
    """Regular weekly opening hours; ``closes`` of 00:00 means midnight."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("måndag")
        TUESDAY = 1, _("tisdag")
        WEDNESDAY = 2, _("onsdag")
        THURSDAY = 3, _("torsdag")
        FRIDAY = 4, _("fredag")
        SATURDAY = 5, _("lördag")
        SUNDAY = 6, _("söndag")

    weekday = models.PositiveSmallIntegerField(_("veckodag"), choices=Weekday.choices)
    opens = models.TimeField(_("öppnar"))
    closes = models.TimeField(_("stänger"), help_text=_("00:00 betyder midnatt."))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("öppettid")
        verbose_name_plural = _("öppettider")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class SpecialDay(models.Model):
    """A holiday or other day that replaces the weekly hours; no times means closed."""

    date = models.DateField(_("datum"), unique=True)
    label = models.CharField(_("namn"), max_length=100, help_text=_("Till exempel julafton."))
    opens = models.TimeField(_("öppnar"), null=True, blank=True)
    closes = models.TimeField(_("stänger"), null=True, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("helgdag eller avvikande dag")
        verbose_name_plural = _("helgdagar och avvikande dagar")

    def __str__(self) -> str:
        return f"{self.date} {self.label}"


class OtherHelp(models.Model):
    """Other places to get help, shown when the chat is closed."""

    name = models.CharField(_("namn"), max_length=120)
    description = models.CharField(_("beskrivning"), max_length=300, blank=True)
    url = models.URLField(_("webbadress"), blank=True)
    phone = models.CharField(_("telefon"), max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(_("ordning"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("annan hjälp")
        verbose_name_plural = _("annan hjälp")

    def __str__(self) -> str:
        return self.name


class CannedResponse(models.Model):
    """A ready-made reply counsellors can insert and edit before sending."""

    title = models.CharField(_("rubrik"), max_length=80)
    text = models.TextField(_("text"), max_length=4000)
    active = models.BooleanField(_("aktiv"), default=True)
    position = models.PositiveSmallIntegerField(_("ordning"), default=0)

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("färdigt svar")
        verbose_name_plural = _("färdiga svar")

    def __str__(self) -> str:
        return self.title


class CounsellorProfile(models.Model):
    """The name a visitor sees, and an optional personal cap on parallel chats."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="counsellor_profile")
    alias = models.CharField(_("alias"), max_length=40, help_text=_("Förnamn eller valt namn som den unga ser."))
    max_chats = models.PositiveSmallIntegerField(
        _("max samtidiga chattar"), null=True, blank=True, help_text=_("Tomt: standardvärdet.")
    )

    class Meta:
        verbose_name = _("rådgivarprofil")
        verbose_name_plural = _("rådgivarprofiler")

    def __str__(self) -> str:
        return self.alias


class ConversationQuerySet(models.QuerySet["Conversation"]):
    """The query vocabulary of conversations, so callers never spell a status."""

    def queued(self) -> ConversationQuerySet:
        return self.filter(status=Conversation.Status.QUEUED)

    def active(self) -> ConversationQuerySet:
        return self.filter(status=Conversation.Status.ACTIVE)

    def ended(self) -> ConversationQuerySet:
        return self.filter(status=Conversation.Status.ENDED)

    def live(self) -> ConversationQuerySet:
        """Queued or active: not ended."""
        return self.exclude(status=Conversation.Status.ENDED)

    def for_counsellor(self, user_id: int | None) -> ConversationQuerySet:
        return self.filter(counsellor_id=user_id)

    def unclassified(self) -> ConversationQuerySet:
        return self.filter(classification__isnull=True)

    def in_queue_order(self) -> ConversationQuerySet:
        """Urgent first (imminent risk or "not safe now"), then the longest waiting."""
        urgent = models.Q(imminent_risk=True) | models.Q(topic=Conversation.Topic.DANGER_NOW)
        return self.annotate(
            urgent_rank=models.Case(models.When(urgent, then=0), default=1, output_field=models.IntegerField())
        ).order_by("urgent_rank", "queued_at", "pk")

    def with_counsellor_alias(self) -> ConversationQuerySet:
        """Annotates ``counsellor_alias`` (profile alias, else first name; "" without one) in the same query."""
        return self.annotate(
            counsellor_alias=Coalesce(
                NullIf("counsellor__counsellor_profile__alias", models.Value("")),
                NullIf("counsellor__first_name", models.Value("")),
                models.Value(""),
                output_field=models.CharField(),
            )
        )


ConversationManager = models.Manager.from_queryset(ConversationQuerySet)


class Conversation(models.Model):
    """One anonymous chat, known to the visitor only through a secret token."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("i kö")
        ACTIVE = "active", _("pågår")
        ENDED = "ended", _("avslutad")

    class EndReason(models.TextChoices):
        VISITOR_ENDED = "visitor_ended", _("den unga avslutade")
        LEFT = "left", _("den unga lämnade snabbt")
        COUNSELLOR_ENDED = "counsellor_ended", _("rådgivaren avslutade")
        BLOCKED = "blocked", _("blockerad")
        ABANDONED = "abandoned", _("övergiven")

    class AgeBand(models.TextChoices):
        UNDER_13 = "under_13", _("12 år eller yngre")
        AGE_13_15 = "13_15", _("13–15 år")  # noqa: RUF001
        AGE_16_17 = "16_17", _("16–17 år")  # noqa: RUF001
        AGE_18_PLUS = "18_plus", _("18 år eller äldre")

    class Topic(models.TextChoices):
        ONLINE = "online", _("Något som hänt på nätet")
        PICTURES = "pictures", _("Bilder eller filmer på mig")
        THREAT = "threat", _("Någon hotar eller pressar mig")
        ABUSE = "abuse", _("Någon har gjort mig illa")
        DANGER_NOW = "danger_now", _("Jag är inte säker just nu")
        FRIEND = "friend", _("Jag är orolig för någon annan")
        OTHER = "other", _("Något annat")

    class EscalationStep(models.TextChoices):
        CALLED_112 = "called_112", _("Ringt 112")
        CALLED_SOCIAL_SERVICES = "called_social_services", _("Kontaktat socialjouren (socialtjänstens akutnummer)")
        INFORMED_SUPERVISOR = "informed_supervisor", _("Informerat arbetsledare")
        DOCUMENTED = "documented", _("Dokumenterat beslutet")

    # NULL once the transcript is gone, so many purged chats can share "no token".
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    end_reason = models.CharField(_("hur den slutade"), max_length=20, choices=EndReason.choices, blank=True)
    age_band = models.CharField(_("ålder"), max_length=10, choices=AgeBand.choices, blank=True)
    topic = models.CharField(_("ämne"), max_length=20, choices=Topic.choices, blank=True)
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supportline_conversations",
        verbose_name=_("rådgivare"),
    )
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("startad"), auto_now_add=True)
    queued_at = models.DateTimeField(_("i kö sedan"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("besvarad"), null=True, blank=True)
    ended_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    visitor_connected = models.BooleanField(default=False, editable=False)
    visitor_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    imminent_risk = models.BooleanField(_("akut risk"), default=False)
    risk_marked_at = models.DateTimeField(null=True, blank=True)
    escalation_steps = models.JSONField(_("genomförda steg"), default=list, blank=True)
    transcript_deleted_at = models.DateTimeField(_("samtalet raderat"), null=True, blank=True)

    objects = ConversationManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "queued_at"]),
            models.Index(fields=["status", "ended_at"]),
        ]
        verbose_name = _("chatt")
        verbose_name_plural = _("chattar")

    def __str__(self) -> str:
        return f"Chatt #{self.pk}"

    @property
    def group_name(self) -> str:
        return conversation_group(self.pk)

    @property
    def is_urgent(self) -> bool:
        return self.imminent_risk or self.topic == self.Topic.DANGER_NOW


def conversation_group(conversation_id: int) -> str:
    """The channel-layer group of one conversation, from its server-side id only."""
    return f"supportline.conversation.{int(conversation_id)}"


class Message(models.Model):
    """One message; ``seq`` numbers a conversation's messages without gaps."""

    class Sender(models.TextChoices):
        VISITOR = "visitor", _("den unga")
        COUNSELLOR = "counsellor", _("rådgivare")
        SYSTEM = "system", _("system")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    client_id = models.CharField(max_length=64)
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Not a field: the text as the database holds it (its Fernet token), on an
    # instance this process has just stored (services), for the layer event
    # (supportline.recent.seal); None on an instance read back.
    stored_text: str | None = None

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="supportline_message_seq_unique"),
            models.UniqueConstraint(fields=["conversation", "client_id"], name="supportline_message_client_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class InternalNote(models.Model):
    """A note between staff (for a transfer); never shown to the visitor."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class VisitorBlock(models.Model):
    """A visitor token refused for a while, with the reason, for later review."""

    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, related_name="blocks")
    token_hash = models.CharField(max_length=64, db_index=True, editable=False)
    # What the counsellor wrote about the visitor: sensitive, so encrypted like the chat itself.
    reason = EncryptedTextField(_("anledning"), max_length=300)
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("blockerad av")
    )
    created_at = models.DateTimeField(_("blockerad"), auto_now_add=True)
    expires_at = models.DateTimeField(_("gäller till"))
    reviewed_at = models.DateTimeField(_("granskad"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_note = EncryptedTextField(_("granskning"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("blockering")
        verbose_name_plural = _("blockeringar")

    def __str__(self) -> str:
        return f"Blockering {self.pk}"


class Classification(models.Model):
    """After a chat: what it was about and how it ended, for statistics only."""

    class Category(models.TextChoices):
        GROOMING = "grooming", _("grooming")
        SEXTORTION = "sextortion", _("sextortion / utpressning")
        IMAGES = "images", _("spridning av bilder")
        ABUSE_OFFLINE = "abuse_offline", _("övergrepp utanför nätet")
        EXPLOITATION = "exploitation", _("sexuell exploatering")
        TRAFFICKING = "trafficking", _("människohandel")
        MENTAL_HEALTH = "mental_health", _("psykisk ohälsa")
        OTHER = "other", _("annat")

    class Outcome(models.TextChoices):
        SUPPORT = "support", _("stöd och samtal")
        INFORMATION = "information", _("information och råd")
        REFERRED = "referred", _("hänvisad vidare")
        EMERGENCY = "emergency", _("akut larm (112 / socialjour)")
        REPORT = "report", _("anmälan gjord")
        DROPPED = "dropped", _("avbrutet samtal")
        MISUSE = "misuse", _("missbruk av chatten")

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="classification")
    categories = models.JSONField(_("ämnen"), default=list)
    outcome = models.CharField(_("utfall"), max_length=20, choices=Outcome.choices)
    classified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("klassificering")
        verbose_name_plural = _("klassificeringar")

    def __str__(self) -> str:
        return f"Klassificering av chatt #{self.conversation_id}"


class Feedback(models.Model):
    """One anonymous answer after a chat; deliberately not linked to the chat."""

    class Answer(models.TextChoices):
        YES = "yes", _("Ja")
        PARTLY = "partly", _("Lite grann")
        NO = "no", _("Nej")

    answer = models.CharField(_("svar"), max_length=10, choices=Answer.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("återkoppling")
        verbose_name_plural = _("återkopplingar")

    def __str__(self) -> str:
        return self.get_answer_display()


# --- Letters (Brevlådan) ---------------------------------------------------------------
# Their own module; imported here so Django registers them with this app.
from supportline.letters.models import Letter, LetterMessage  # noqa: E402, F401
