"""Tips, their conversation with the reporter, takedown tracking and the police outbox.

Everything the reporter wrote is encrypted at rest (``EncryptedTextField``).
Where a lookup is needed (de-duplication, receipt codes) a keyed hash is
stored beside the encrypted value.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.fields import EncryptedTextField


class TipQuerySet(models.QuerySet["Tip"]):
    def in_queue_order(self) -> "TipQuerySet":
        """Urgent tips first, then the oldest."""
        return self.order_by("priority", "received_at")

    def open(self) -> "TipQuerySet":
        return self.exclude(status=Tip.Status.CLOSED)


class Tip(models.Model):
    """One anonymous report. The lifecycle is enforced in ``hotline.services``."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Mottaget")
        IN_ASSESSMENT = "in_assessment", _("Granskas")
        ASSESSED = "assessed", _("Bedömt")
        FORWARDED = "forwarded", _("Skickat till polisen")
        TAKEDOWN_SENT = "takedown_sent", _("Begäran om borttagning skickad")
        REMOVAL_CONFIRMED = "removal_confirmed", _("Borttaget")
        CLOSED = "closed", _("Avslutat")

    class Outcome(models.TextChoices):
        NOT_ILLEGAL = "not_illegal", _("Inte olagligt")
        OUT_OF_REMIT = "out_of_remit", _("Utanför vårt uppdrag")
        DUPLICATE = "duplicate", _("Dubblett")
        CONTENT_GONE = "content_gone", _("Innehållet finns inte längre")
        ILLEGAL = "illegal", _("Olagligt")

    class Category(models.TextChoices):
        ABUSE_MATERIAL = "abuse_material", _("Bilder eller filmer på sexuella övergrepp mot barn")
        GROOMING = "grooming", _("Grooming eller försök att få kontakt med barn")
        SEXTORTION = "sextortion", _("Sextortion (utpressning med sexuella bilder)")
        TRAFFICKING = "trafficking", _("Barn som utnyttjas i prostitution eller människohandel")
        OTHER = "other", _("Något annat")

    class Priority(models.IntegerChoices):
        URGENT = 1, _("Akut: ett barn är i fara")
        NORMAL = 2, _("Normal")

    class FoundVia(models.TextChoices):
        """How the reporter came across the material: a fixed list, never free text, so it identifies no one."""

        SEARCH_ENGINE = "search_engine", _("Via en sökmotor, till exempel Google")
        SOCIAL_MEDIA = "social_media", _("I sociala medier")
        MESSAGE = "message", _("I en chatt eller ett meddelande")
        SHARED = "shared", _("Någon delade en länk eller fil")
        WEBSITE = "website", _("På en webbplats eller i ett forum")
        OTHER = "other", _("På ett annat sätt")
        RATHER_NOT_SAY = "rather_not_say", _("Jag vill inte säga")

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    # Blank: the reporter skipped the question (the form has it as optional).
    found_via = models.CharField(max_length=20, choices=FoundVia.choices, blank=True)

    place = EncryptedTextField(blank=True)
    occurred = EncryptedTextField(blank=True)
    description = EncryptedTextField(blank=True)
    contact = EncryptedTextField(null=True, blank=True)
    contact_purged_at = models.DateTimeField(null=True, blank=True)

    # Receipt code = lookup part + verifier part (see docs/hotline.md).
    receipt_lookup = models.CharField(max_length=64, unique=True)
    receipt_verifier = models.CharField(max_length=200)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessment_started_at = models.DateTimeField(null=True, blank=True)
    assessed_at = models.DateTimeField(null=True, blank=True)
    forwarded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    host_provider = models.CharField(max_length=200, blank=True)
    takedown_notice_sent_at = models.DateTimeField(null=True, blank=True)
    removal_confirmed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = TipQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "received_at"]
        # No one deletes a tip by hand: only retention purges closed tips.
        default_permissions = ("view", "change")
        verbose_name = _("tips")
        verbose_name_plural = _("tips")

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"HL-{self.pk}"

    @property
    def is_urgent(self) -> bool:
        return self.priority == self.Priority.URGENT

    @property
    def time_to_removal(self) -> timedelta | None:
        if self.removal_confirmed_at is None:
            return None
        return self.removal_confirmed_at - self.received_at


class TipURLQuerySet(models.QuerySet["TipURL"]):
    def listed(self) -> "TipURLQuerySet":
        """Confirmed illegal by two analysts and neither removed nor withdrawn."""
        return self.filter(state=TipURL.State.LISTED)

    def for_audience(self, audience: str) -> "TipURLQuerySet":
        """Listed entries one kind of partner may see: the police see those held for them too."""
        listed = self.listed()
        if audience == FeedAudience.POLICE:
            return listed
        return listed.filter(police_hold_at__isnull=True)


class FeedAudience(models.TextChoices):
    """Who reads a feed: the police see entries held for their investigation, industry does not."""

    INDUSTRY = "industry", _("Företag (blockering, skanning)")
    POLICE = "police", _("Polisen")


class TipURL(models.Model):
    """A reported address, normalised; never fetched, previewed or linked.

    Its own lifecycle (hotline.services, docs/takedown.md): reported ->
    assessed illegal by one analyst -> confirmed by a second (listed in the
    partner feed) -> removed or withdrawn. A police hold keeps a listed entry
    out of the industry feed and stops notices until it is released.
    """

    class State(models.TextChoices):
        REPORTED = "reported", _("Rapporterad")
        ASSESSED = "assessed", _("Bedömd olaglig, väntar på en andra analytiker")
        LISTED = "listed", _("Bekräftad, i flödet")
        REMOVED = "removed", _("Borttagen")
        WITHDRAWN = "withdrawn", _("Återkallad")

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="urls")
    url = EncryptedTextField()
    # HMAC-SHA256 of the normalised URL under HOTLINE_HASH_KEY.
    url_hash = models.CharField(max_length=64, db_index=True)

    state = models.CharField(_("status"), max_length=12, choices=State.choices, default=State.REPORTED, db_index=True)
    # Plain SHA-256 of the normalised URL, what partners match on; only set
    # once an analyst has assessed the address illegal.
    feed_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    assessed_at = models.DateTimeField(_("bedömd"), null=True, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("bedömd av"),
    )
    confirmed_at = models.DateTimeField(_("bekräftad"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("bekräftad av"),
    )
    removed_at = models.DateTimeField(_("borttagen"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("borttagen av"),
    )
    withdrawn_at = models.DateTimeField(_("återkallad"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("återkallad av"),
    )
    withdrawal_reason = EncryptedTextField(blank=True)
    police_hold_at = models.DateTimeField(_("spärrad för polisen"), null=True, blank=True)
    police_hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("spärrad av"),
    )
    provider = models.ForeignKey(
        "Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="urls", verbose_name=_("leverantör")
    )

    objects = TipURLQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        default_permissions = ("view",)
        permissions = [("decide_tipurl", "Can assess, confirm, hold, withdraw and record removal of a reported URL")]
        verbose_name = _("rapporterad adress")
        verbose_name_plural = _("rapporterade adresser")

    def __str__(self) -> str:
        return f"URL {self.pk} of {self.tip_id}"


class TipMessage(models.Model):
    """A question from an analyst or an answer from the reporter."""

    class Sender(models.TextChoices):
        ANALYST = "analyst", _("ECPAT")
        REPORTER = "reporter", _("Du")

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.sender} message {self.pk}"


class TakedownRecheck(models.Model):
    """An analyst looked again whether the reported content is still online."""

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="rechecks")
    checked_at = models.DateTimeField(default=timezone.now)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    still_online = models.BooleanField()

    class Meta:
        ordering = ["checked_at"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"Recheck {self.pk} of {self.tip_id}"


class PoliceHandoff(models.Model):
    """Transactional outbox row: written with the decision to forward, delivered by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar")
        DELIVERING = "delivering", _("Skickas")
        DELIVERED = "delivered", _("Levererad")
        FAILED = "failed", _("Misslyckades")

    tip = models.OneToOneField(Tip, on_delete=models.CASCADE, related_name="handoff")
    # Sent as the Idempotency-Key on every attempt: the receiver keeps one delivery per key.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.CharField(max_length=200, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        permissions = [("retry_policehandoff", "Can retry a failed police hand-off")]
        verbose_name = _("överlämning till polisen")
        verbose_name_plural = _("överlämningar till polisen")

    def __str__(self) -> str:
        return str(_("Överlämning %(key)s") % {"key": self.idempotency_key})


class HandoffAttempt(models.Model):
    """One delivery attempt: when, how it ended, the status code. Never the payload."""

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", _("Pågår")
        ACCEPTED = "accepted", _("Mottagen")
        RETRY = "retry", _("Försöker igen")
        REJECTED = "rejected", _("Avvisad")
        INTERRUPTED = "interrupted", _("Avbruten")

    handoff = models.ForeignKey(PoliceHandoff, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["number"]
        default_permissions = ()

    def __str__(self) -> str:
        return str(_("Försök %(number)s") % {"number": self.number})


# --- The partner feed --------------------------------------------------------


class FeedVersion(models.Model):
    """One row: the feed's version, bumped under a row lock by every change.

    The lock is held until the changing transaction commits, so versions are
    handed out in commit order and a partner asking ``since=N`` never misses
    a change that committed late with a lower number.
    """

    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"feed version {self.version}"


class FeedChange(models.Model):
    """One entry entering or leaving one audience's feed, at one version."""

    class Change(models.TextChoices):
        ADDED = "added", _("Tillagd")
        REMOVED = "removed", _("Borttagen")

    version = models.PositiveBigIntegerField()
    audience = models.CharField(max_length=10, choices=FeedAudience.choices)
    change = models.CharField(max_length=8, choices=Change.choices)
    sha256 = models.CharField(max_length=64)
    url = EncryptedTextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "id"]
        default_permissions = ()
        indexes = [models.Index(fields=["audience", "version"], name="hotline_feedchange_aud_ver")]

    def __str__(self) -> str:
        return f"{self.change} {self.sha256[:12]} at {self.version}"


class FeedSnapshot(models.Model):
    """One page of a full feed at one version: the exact signed bytes partners download."""

    class Kind(models.TextChoices):
        URLS = "urls", "urls"
        URL_HASHES = "url-hashes", "url-hashes"

    audience = models.CharField(max_length=10, choices=FeedAudience.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    version = models.PositiveBigIntegerField()
    page = models.PositiveIntegerField()
    pages = models.PositiveIntegerField()
    body = models.BinaryField()
    signature = models.CharField(max_length=100)
    key_id = models.CharField(max_length=100)
    built_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["audience", "kind", "version", "page"], name="hotline_feedsnapshot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.audience} v{self.version} p{self.page}"

    @property
    def etag(self) -> str:
        return f'"{self.kind}-{self.audience}-v{self.version}-p{self.page}-{self.key_id}"'


class Partner(models.Model):
    """An organisation that pulls the feed: the police, a blocking ISP, a scanning platform."""

    name = models.CharField(_("namn"), max_length=200, unique=True)
    audience = models.CharField(_("slag"), max_length=10, choices=FeedAudience.choices, default=FeedAudience.INDUSTRY)
    scope_urls = models.BooleanField(_("får hämta adresser (urls)"), default=False)
    scope_url_hashes = models.BooleanField(_("får hämta hashar (url-hashes)"), default=True)
    is_active = models.BooleanField(_("aktiv"), default=True)
    notes = models.TextField(_("anteckningar"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        default_permissions = ("view", "add", "change")
        verbose_name = _("partner")
        verbose_name_plural = _("partner")

    def __str__(self) -> str:
        return self.name

    def has_scope(self, kind: str) -> bool:
        return {"urls": self.scope_urls, "url-hashes": self.scope_url_hashes}.get(kind, False)


class PartnerToken(models.Model):
    """An API token: shown once when created, stored only as a keyed hash."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("partner"))
    label = models.CharField(_("beteckning"), max_length=100, blank=True)
    # The first characters, to tell tokens apart in the admin; not enough to use one.
    prefix = models.CharField(_("början av nyckeln"), max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("skapad"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(_("går ut"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("återkallad"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        permissions = [("manage_partnertoken", "Can issue and revoke partner API tokens")]
        verbose_name = _("API-nyckel")
        verbose_name_plural = _("API-nycklar")

    def __str__(self) -> str:
        return f"{self.prefix}…"


class PartnerTokenUse(models.Model):
    """One request made with a token: when, which endpoint, the status. Never the caller's address."""

    token = models.ForeignKey(PartnerToken, on_delete=models.CASCADE, related_name="uses")
    used_at = models.DateTimeField(_("tid"), default=timezone.now, db_index=True)
    endpoint = models.CharField(_("slutpunkt"), max_length=20)
    status_code = models.PositiveSmallIntegerField(_("svarskod"))

    class Meta:
        ordering = ["-used_at"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status_code} at {self.used_at:%Y-%m-%d %H:%M}"


# --- Notice and takedown -------------------------------------------------------


class Provider(models.Model):
    """A hosting company or platform the hotline sends takedown notices to."""

    class Language(models.TextChoices):
        SV = "sv", _("Svenska")
        EN = "en", _("Engelska")

    name = models.CharField(_("namn"), max_length=200, unique=True)
    abuse_email = models.EmailField(_("e-post för anmälningar"), blank=True)
    web_form_url = models.URLField(_("webbformulär för anmälningar"), blank=True)
    country = models.CharField(_("land (ISO-kod, t.ex. SE)"), max_length=2)
    notice_language = models.CharField(
        _("språk i begäran"), max_length=2, choices=Language.choices, default=Language.EN
    )
    known_domains = models.TextField(
        _("kända domäner"), blank=True, help_text=_("En domän per rad, t.ex. exempelhost.se.")
    )
    notes = models.TextField(_("anteckningar"), blank=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ("view", "add", "change")
        verbose_name = _("leverantör")
        verbose_name_plural = _("leverantörer")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(abuse_email="", web_form_url=""), name="hotline_provider_has_a_contact"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def domains(self) -> list[str]:
        return [line.strip().lower().strip(".") for line in self.known_domains.splitlines() if line.strip()]


class TakedownNotice(models.Model):
    """A notice to a provider about one confirmed URL, and what became of it.

    sent -> acknowledged -> removed / refused / no answer, each with time and
    who recorded it. E-mailed notices start queued until the task sends them.
    """

    class Method(models.TextChoices):
        EMAIL = "email", _("E-post")
        WEB_FORM = "web_form", _("Webbformulär (för hand)")

    class State(models.TextChoices):
        QUEUED = "queued", _("Köad")
        SENT = "sent", _("Skickad")
        ACKNOWLEDGED = "acknowledged", _("Bekräftad av leverantören")
        REMOVED = "removed", _("Borttaget")
        REFUSED = "refused", _("Nekad")
        NO_ANSWER = "no_answer", _("Inget svar")

    tip_url = models.ForeignKey(TipURL, on_delete=models.CASCADE, related_name="notices")
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="notices", verbose_name=_("leverantör")
    )
    method = models.CharField(_("sätt"), max_length=10, choices=Method.choices)
    language = models.CharField(_("språk"), max_length=2, choices=Provider.Language.choices)
    state = models.CharField(_("läge"), max_length=12, choices=State.choices, default=State.QUEUED, db_index=True)
    created_at = models.DateTimeField(_("skapad"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("skickad"), null=True, blank=True, db_index=True)
    message_id = models.CharField(max_length=255, blank=True)
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("påminnelse skickad"), null=True, blank=True)
    reminder_message_id = models.CharField(max_length=255, blank=True)
    escalated_at = models.DateTimeField(_("flaggad till analytiker"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("bekräftad av leverantören"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("avslutad av"),
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        permissions = [("send_takedownnotice", "Can send and track takedown notices")]
        verbose_name = _("begäran om borttagning")
        verbose_name_plural = _("begäranden om borttagning")

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.SENT, self.State.ACKNOWLEDGED)

    @property
    def reference(self) -> str:
        """The hotline's reference the provider quotes back."""
        return f"ECPAT-HL-{self.tip_url.tip_id}-{self.tip_url_id}-N{self.pk}"
