"""Reads for the public pages, the sitemap and the admin preview."""

import datetime
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import translation

from prevention.models import Article, Topic


def latest_articles(*, language: str, limit: int = 4) -> list[Article]:
    """Returns the newest published articles in ``language``."""
    return list(Article.objects.published().in_language(language).for_listing()[:limit])


def articles_for_audience(*, audience: str, language: str) -> list[Article]:
    """Returns published articles for an audience, newest first."""
    return list(Article.objects.published().in_language(language).for_audience(audience).for_listing())


def articles_about(*, topic: Topic, language: str) -> list[Article]:
    """Returns published articles on a topic, newest first."""
    return list(Article.objects.published().in_language(language).about(topic).for_listing())


def topics_in_use(*, language: str) -> list[Topic]:
    """Returns topics that have published articles in ``language``, each with ``article_count``."""
    published = Q(articles__language=language) & Article.objects.public_q(through="articles__")
    topics = Topic.objects.annotate(article_count=Count("articles", filter=published)).filter(article_count__gt=0)
    # Meta.ordering does not apply to aggregate queries.
    return list(topics.order_by("position", "slug"))


def topic_by_slug(slug: str, *, language: str) -> Topic | None:
    """The topic at ``slug`` in ``language``'s address (Swedish ``slug`` or English ``slug_en``)."""
    field = "slug_en" if language == "en" else "slug"
    return Topic.objects.filter(**{field: slug}).first()


def topic_by_other_language_slug(slug: str, *, language: str) -> Topic | None:
    """For an old or mistyped link: the topic whose other-language slug this is."""
    return topic_by_slug(slug, language="sv" if language == "en" else "en")


def topic_language_switch(topic: Topic) -> dict[str, str | bool]:
    """The header's language switch and the hreflang twin on a topic page."""
    other = "sv" if translation.get_language() == "en" else "en"
    return {"code": other, "name": "English" if other == "en" else "Svenska", "url": topic.url_in(other), "twin": True}


def public_article(*, slug: str, language: str) -> Article | None:
    """The published article at ``slug`` in ``language``, with its translation and topics."""
    return (
        Article.objects.published()
        .in_language(language)
        .filter(slug=slug)
        .select_related("translation_of", "translated_as")
        .prefetch_related("topics")
        .first()
    )


def article_for_other_language_slug(*, slug: str, language: str) -> Article | None:
    """For a link whose slug is in the other language (an old English address with the Swedish slug).

    Returns the article's public translation in ``language`` if it has one,
    otherwise the article the slug names; None if no public article has it.
    """
    named = (
        Article.objects.published()
        .exclude(language=language)
        .filter(slug=slug)
        .select_related("translation_of", "translated_as")
        .first()
    )
    if named is None:
        return None
    twin = named.translation
    return twin if twin is not None and twin.language == language and twin.is_public() else named


def related_articles(article: Article, *, limit: int = 3) -> list[Article]:
    """Published articles in the same language sharing the most topics and an audience."""
    topic_ids = [topic.pk for topic in article.topics.all()]
    shared_audience = Q()
    for audience in article.audiences:
        shared_audience |= Q(**{Article.AUDIENCE_FIELDS[audience]: True})
    candidates = Article.objects.published().in_language(article.language).exclude(pk=article.pk)
    related = list(
        candidates.filter(shared_audience, topics__in=topic_ids)
        .annotate(shared=Count("topics", distinct=True))
        .order_by("-shared", "-publish_at")
        .defer("body", "body_text")
        .prefetch_related("topics")[:limit]
    )
    if len(related) < limit:
        extra = (
            candidates.filter(shared_audience)
            .exclude(pk__in=[a.pk for a in related])
            .defer("body", "body_text")
            .prefetch_related("topics")
        )
        related += list(extra.order_by("-publish_at")[: limit - len(related)])
    return related


def articles_due_for_review() -> int:
    """How many articles, of any status but archived, have a fact-check older than a year."""
    return Article.objects.exclude(status=Article.Status.ARCHIVED).review_due().count()


def next_publication_after(moment: datetime.datetime) -> datetime.datetime | None:
    """When the next scheduled article goes live, if any is waiting."""
    return Article.objects.scheduled_after(moment).order_by("publish_at").values_list("publish_at", flat=True).first()


def sitemap_articles() -> list[dict[str, Article]]:
    """Every published article with its published translation: one ``{language: article}`` per pair."""
    articles = Article.objects.published().only("slug", "language", "updated_at", "translation_of_id")
    pairs: dict[int, dict[str, Article]] = {}
    for article in articles.order_by("language", "slug"):
        pairs.setdefault(article.translation_of_id or article.pk, {})[article.language] = article
    return list(pairs.values())


def sitemap_topics() -> list[tuple[Topic, list[str]]]:
    """Each topic with published articles, and the languages it has them in."""
    languages: dict[int, tuple[Topic, list[str]]] = {}
    for language in Article.Language.values:
        for topic in topics_in_use(language=language):
            languages.setdefault(topic.pk, (topic, []))[1].append(language)
    return list(languages.values())


def _language_switch(article: Article) -> dict[str, str | bool]:
    """The header's switch; ``twin`` says whether it is the same article (and so an hreflang alternate)."""
    other = "en" if article.language == "sv" else "sv"
    translated = article.translation
    twin = translated is not None and translated.is_public()
    if translated is not None and twin:
        url = translated.get_absolute_url()
    else:
        with translation.override(other):
            url = reverse("prevention:index")
    return {"code": other, "name": "English" if other == "en" else "Svenska", "url": url, "twin": twin}


def reader_audience(article: Article) -> str:
    """Whose design the page takes: the youngest audience it is written for."""
    return article.audiences[0] if article.audiences else Article.Audience.PARENTS


def article_page_context(article: Article, *, preview: bool = False) -> dict[str, Any]:
    """Everything the article template needs; the admin preview uses it too."""
    audience = reader_audience(article)
    return {
        "article": article,
        "body": article.body_html(),
        "topics": list(article.topics.all()),
        "related": related_articles(article),
        "audience": audience,
        "read_aloud": audience in Article.READ_ALOUD_AUDIENCES,
        "language_switch": _language_switch(article),
        "preview": preview,
    }
