"""Educational articles for children, youth and parents, in Swedish and English."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.safestring import SafeString


class Topic(models.Model):
    """A subject such as grooming or the law; one slug, a name in each language."""

    slug = models.SlugField(_("adress på svenska"), max_length=60, unique=True)
    slug_en = models.SlugField(
        _("adress på engelska"), max_length=60, unique=True, help_text=_("Engelska ord, t.ex. not-your-fault.")
    )
    name_sv = models.CharField(_("namn på svenska"), max_length=80)
    name_en = models.CharField(_("namn på engelska"), max_length=80)
    description_sv = models.TextField(_("beskrivning på svenska"), blank=True)
    description_en = models.TextField(_("beskrivning på engelska"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordning"), default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("ämne")
        verbose_name_plural = _("ämnen")

    def __str__(self) -> str:
        return self.name_sv

    def get_absolute_url(self) -> str:
        """The topic's address in the active language, with that language's slug."""
        return reverse("prevention:topic", kwargs={"slug": self.slug_for(get_language())})

    def url_in(self, language: str) -> str:
        with translation.override(language):
            return self.get_absolute_url()

    def slug_for(self, language: str | None) -> str:
        return self.slug_en if language == "en" else self.slug

    @property
    def name(self) -> str:
        """The name in the active language."""
        return self.name_en if get_language() == "en" else self.name_sv

    @property
    def description(self) -> str:
        return self.description_en if get_language() == "en" else self.description_sv


class ArticleStatus(models.TextChoices):
    """Where an article is in its life (module level so ``Article.Meta`` can name it)."""

    DRAFT = "draft", _("Utkast")
    SCHEDULED = "scheduled", _("Schemalagd")
    PUBLISHED = "published", _("Publicerad")
    ARCHIVED = "archived", _("Arkiverad")


# A scheduled article goes live at its time, before the beat job marks it published.
PUBLIC_STATUSES = (ArticleStatus.PUBLISHED, ArticleStatus.SCHEDULED)


def public_rule(now: datetime.datetime | None = None) -> tuple[tuple[str, str, Any], ...]:
    """The one definition of "the public may read it now", as (field, lookup, value) conditions.

    ``ArticleQuerySet.public_q`` turns it into SQL and ``Article.is_public``
    evaluates it on a loaded article, so the list pages, the topic list, the
    sitemap and the admin's "live" column cannot disagree.
    """
    return (("status", "in", PUBLIC_STATUSES), ("publish_at", "lte", now or timezone.now()))


# How ``Article.is_public`` evaluates each lookup of the rule, as SQL would: NULL matches nothing.
_LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "in": lambda value, choices: value in choices,
    "lte": lambda value, bound: value is not None and value <= bound,
}


# Facts and law change: an article not fact-checked for this long is flagged to editors.
REVIEW_INTERVAL = datetime.timedelta(days=365)


def review_due_before(today: datetime.date | None = None) -> datetime.date:
    """Articles fact-checked before this date are due for a new check."""
    return (today or timezone.localdate()) - REVIEW_INTERVAL


class ArticleQuerySet(models.QuerySet["Article"]):
    """The query vocabulary: ``Article.objects.published().for_audience(...)``."""

    def public_q(self, *, now: datetime.datetime | None = None, through: str = "") -> Q:
        """The public rule as a condition; ``through="articles__"`` applies it from a related model."""
        return Q(**{f"{through}{field}__{lookup}": value for field, lookup, value in public_rule(now)})

    def published(self, *, now: datetime.datetime | None = None) -> ArticleQuerySet:
        """Articles the public may read now: published, or scheduled and due."""
        return self.filter(self.public_q(now=now))

    def scheduled_after(self, moment: datetime.datetime) -> ArticleQuerySet:
        return self.filter(status=ArticleStatus.SCHEDULED, publish_at__gt=moment)

    def scheduled_due(self, moment: datetime.datetime) -> ArticleQuerySet:
        """Scheduled articles whose time has come, still to be marked published."""
        return self.filter(status=ArticleStatus.SCHEDULED, publish_at__lte=moment)

    def in_language(self, language: str) -> ArticleQuerySet:
        return self.filter(language=language)

    def for_audience(self, audience: str) -> ArticleQuerySet:
        return self.filter(**{Article.AUDIENCE_FIELDS[Article.Audience(audience)]: True})

    def about(self, topic: Topic) -> ArticleQuerySet:
        return self.filter(topics=topic)

    def review_due(self, *, today: datetime.date | None = None) -> ArticleQuerySet:
        """Articles whose fact-check is older than ``REVIEW_INTERVAL``."""
        return self.filter(last_reviewed__lt=review_due_before(today))

    def for_listing(self) -> ArticleQuerySet:
        """What list pages show, without the body, topics fetched in one query."""
        return (
            self.defer("body", "body_text")
            .prefetch_related(models.Prefetch("topics", queryset=Topic.objects.order_by("position", "slug")))
            .order_by("-publish_at", "title")
        )


class Article(models.Model):
    """One article in one language, linked to its translation."""

    class Audience(models.TextChoices):
        CHILDREN = "children", _("Barn")
        YOUTH = "youth", _("Unga")
        PARENTS = "parents", _("Föräldrar")

    class Language(models.TextChoices):
        SWEDISH = "sv", _("Svenska")
        ENGLISH = "en", _("Engelska")

    Status = ArticleStatus

    AUDIENCE_FIELDS = {
        Audience.CHILDREN: "for_children",
        Audience.YOUTH: "for_youth",
        Audience.PARENTS: "for_parents",
    }
    # Pages for these audiences offer to read the text aloud.
    READ_ALOUD_AUDIENCES = (Audience.CHILDREN, Audience.YOUTH)

    language = models.CharField(_("språk"), max_length=2, choices=Language.choices, default=Language.SWEDISH)
    slug = models.SlugField(_("adress"), max_length=120, help_text=_("Unik inom språket, t.ex. vad-ar-grooming."))
    title = models.CharField(_("rubrik"), max_length=160)
    summary = models.TextField(_("ingress"), max_length=400, help_text=_("En eller två meningar som visas i listor."))
    body = models.TextField(
        _("brödtext"),
        help_text=_("Markdown. HTML tas bort; länkar får bara gå till http, https, mailto eller tel."),
    )
    # Derived by prevention.services on every save: plain text for search and reading time.
    body_text = models.TextField(editable=False, default="")
    reading_minutes = models.PositiveSmallIntegerField(_("lästid (minuter)"), editable=False, default=1)
    for_children = models.BooleanField(_("för barn"), default=False)
    for_youth = models.BooleanField(_("för unga"), default=False)
    for_parents = models.BooleanField(_("för föräldrar"), default=False)
    topics = models.ManyToManyField(Topic, related_name="articles", blank=True, verbose_name=_("ämnen"))
    translation_of = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="translated_as",
        verbose_name=_("översättning av"),
        help_text=_("Originalet på det andra språket."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        _("publiceras"), null=True, blank=True, help_text=_("Krävs för schemalagda artiklar.")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prevention_articles",
        verbose_name=_("ansvarig redaktör"),
    )
    # The fact-check date: shown on the page, and in the admin with a reminder
    # once it is older than REVIEW_INTERVAL.
    last_reviewed = models.DateField(
        _("faktagranskad"),
        default=timezone.localdate,
        help_text=_("När texten senast kontrollerades mot sina källor (lagtext, Polisen, Brå, egna rapporter)."),
    )
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at", "title"]
        verbose_name = _("artikel")
        verbose_name_plural = _("artiklar")
        constraints = [
            models.UniqueConstraint(
                fields=["language", "slug"],
                name="prevention_article_unique_slug_per_language",
                violation_error_message=_("Det finns redan en artikel med den adressen på det språket."),
            ),
            models.CheckConstraint(
                condition=Q(for_children=True) | Q(for_youth=True) | Q(for_parents=True),
                name="prevention_article_has_audience",
                violation_error_message=_("Välj minst en målgrupp."),
            ),
            models.CheckConstraint(
                condition=~Q(status=ArticleStatus.SCHEDULED) | Q(publish_at__isnull=False),
                name="prevention_article_scheduled_has_time",
                violation_error_message=_("Ange när en schemalagd artikel ska publiceras."),
            ),
        ]
        indexes = [models.Index(fields=["language", "status", "publish_at"], name="prevention_article_listing")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    def get_absolute_url(self) -> str:
        return article_url(self.language, self.slug)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.status == self.Status.SCHEDULED and self.publish_at is None:
            errors["publish_at"] = _("Ange när en schemalagd artikel ska publiceras.")
        original = self.translation_of
        if original is not None:
            if original.pk == self.pk and self.pk is not None:
                errors["translation_of"] = _("En artikel kan inte vara en översättning av sig själv.")
            elif original.language == self.language:
                errors["translation_of"] = _("Originalet måste vara på det andra språket.")
            elif original.translation_of_id is not None:
                errors["translation_of"] = _("Välj originalet, inte en annan översättning.")
        if errors:
            raise ValidationError(errors)

    @property
    def audiences(self) -> list[Article.Audience]:
        return [audience for audience, field in self.AUDIENCE_FIELDS.items() if getattr(self, field)]

    @property
    def translation(self) -> Article | None:
        """The same article in the other language, if there is one."""
        if self.translation_of_id is not None:
            return self.translation_of
        try:
            return self.translated_as
        except Article.DoesNotExist:
            return None

    def review_due(self, *, today: datetime.date | None = None) -> bool:
        """Whether the fact-check is older than ``REVIEW_INTERVAL`` and should be done again."""
        return self.last_reviewed < review_due_before(today)

    def is_public(self, *, now: datetime.datetime | None = None) -> bool:
        """Whether ``Article.objects.published()`` would include this article: the same rule, in Python."""
        return all(_LOOKUPS[lookup](getattr(self, field), value) for field, lookup, value in public_rule(now))

    def body_html(self) -> SafeString:
        from prevention.rendering import render_markdown

        return render_markdown(self.body)


class SearchWord(models.Model):
    """A word that occurs in a published article: the vocabulary for "Menade du …?".

    Filled by ``prevention.services`` when a public article is saved. Only
    words from public articles, so a suggestion never reveals a draft.
    """

    language = models.CharField(max_length=2, choices=Article.Language.choices)
    word = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["language", "word"], name="prevention_searchword_unique")]

    def __str__(self) -> str:
        return self.word


def article_url(language: str, slug: str) -> str:
    """The address of the article with this language and slug (for rows read without a model instance)."""
    return _article_url(language, slug, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


def article_urls(articles: Iterable[tuple[str, str]]) -> list[str]:
    """``article_url`` of each (language, slug), reading the URLconf and script prefix once for all."""
    urlconf, prefix = get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
    return [_article_url(language, slug, urlconf, prefix) for language, slug in articles]


@functools.lru_cache(maxsize=4096)
def _article_url(language: str, slug: str, urlconf: str, prefix: str) -> str:
    """An article's address (a ``reverse`` in its own language), remembered.

    A search page links ten articles and a list page more: each ``reverse`` cost
    more than the rest of a hit's rendering. The answer depends only on these
    arguments (the URLconf and script prefix are part of the key because
    ``reverse`` reads them); addresses hold slugs only, and the cache is bounded.
    """
    if translation.get_language() == language:
        return reverse("prevention:article", kwargs={"slug": slug}, urlconf=urlconf)
    with translation.override(language):
        return reverse("prevention:article", kwargs={"slug": slug}, urlconf=urlconf)
