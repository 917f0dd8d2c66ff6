"""Every write to articles and topics goes through here.

Each write derives the plain text and reading time, normalises the status
against the publish time, audits status changes, and drops the public cache
once the transaction has committed.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import record_event
from prevention.caching import bump_generation
from prevention.models import Article, SearchWord, Topic
from prevention.rendering import plain_text, reading_minutes
from prevention.search import vocabulary_words
from staff.types import StaffUser

_AUDITED_STATUSES = {Article.Status.PUBLISHED, Article.Status.SCHEDULED, Article.Status.ARCHIVED}


def _normalise_status(article: Article, now: datetime.datetime) -> None:
    if article.status == Article.Status.PUBLISHED:
        if article.publish_at is None:
            article.publish_at = now
        elif article.publish_at > now:
            article.status = Article.Status.SCHEDULED
    elif article.status == Article.Status.SCHEDULED and article.publish_at is not None and article.publish_at <= now:
        article.status = Article.Status.PUBLISHED


@transaction.atomic
def article_save(*, article: Article, actor: StaffUser | None = None) -> Article:
    """Saves an article as edited (in the admin or by a command).

    The caller has validated it (``full_clean`` or a ModelForm). Many-to-many
    topics are the caller's to save, inside the same transaction.
    """
    previous_status = (
        Article.objects.filter(pk=article.pk).values_list("status", flat=True).first() if article.pk else None
    )
    _normalise_status(article, timezone.now())
    article.body_text = plain_text(article.body)
    article.reading_minutes = reading_minutes(article.body_text)
    article.save()
    if article.is_public():
        search_words_add(article=article)
    if article.status != previous_status and article.status in _AUDITED_STATUSES:
        record_event(
            actor=actor,
            action=f"prevention.article.{article.status}",
            object_type="prevention.Article",
            object_id=article.pk,
        )
    transaction.on_commit(bump_generation)
    return article


def search_words_add(*, article: Article) -> None:
    """Adds a public article's words to the vocabulary that "Menade du …?" suggests from.

    Words are only ever added: a word left by an archived article suggests a
    search that finds nothing, and the search page offers a suggestion only
    when it finds more than the typed words did.
    """
    words = vocabulary_words(article.title, article.summary, article.body_text)
    SearchWord.objects.bulk_create(
        [SearchWord(language=article.language, word=word) for word in sorted(words)], ignore_conflicts=True
    )


@transaction.atomic
def article_create(
    *,
    language: str,
    slug: str,
    title: str,
    summary: str,
    body: str,
    audiences: Iterable[str],
    topics: Iterable[Topic] = (),
    status: str = Article.Status.DRAFT,
    publish_at: datetime.datetime | None = None,
    translation_of: Article | None = None,
    last_reviewed: datetime.date | None = None,
    author: StaffUser | None = None,
) -> Article:
    """Creates a validated article (raises ``ValidationError`` on bad input)."""
    wanted = {Article.Audience(audience) for audience in audiences}
    article = Article(
        language=language,
        slug=slug,
        title=title,
        summary=summary,
        body=body,
        status=status,
        publish_at=publish_at,
        translation_of=translation_of,
        last_reviewed=last_reviewed or timezone.localdate(),
        author=author,
        **{field: audience in wanted for audience, field in Article.AUDIENCE_FIELDS.items()},
    )
    article.full_clean()
    article_save(article=article, actor=author)
    article.topics.set(list(topics))
    return article


@transaction.atomic
def article_update(
    *, article: Article, actor: StaffUser | None = None, topics: Iterable[Topic] | None = None, **fields: Any
) -> Article:
    """Changes the given fields of an article, validates and saves it."""
    for name, value in fields.items():
        setattr(article, name, value)
    article.full_clean()
    article_save(article=article, actor=actor)
    if topics is not None:
        article.topics.set(list(topics))
    return article


def article_publish(
    *, article: Article, actor: StaffUser | None = None, at: datetime.datetime | None = None
) -> Article:
    """Publishes now, or schedules for ``at`` when that lies in the future."""
    return article_update(article=article, actor=actor, status=Article.Status.PUBLISHED, publish_at=at)


def article_archive(*, article: Article, actor: StaffUser | None = None) -> Article:
    """Takes an article off the public site, keeping it and its history."""
    return article_update(article=article, actor=actor, status=Article.Status.ARCHIVED)


@transaction.atomic
def articles_publish_due(*, actor: StaffUser | None = None) -> int:
    """Marks scheduled articles whose time has come as published; returns how many."""
    now = timezone.now()
    due = list(Article.objects.select_for_update().scheduled_due(now))
    for article in due:
        article.status = Article.Status.PUBLISHED
        article_save(article=article, actor=actor)
    return len(due)


@transaction.atomic
def topic_save(*, topic: Topic) -> Topic:
    """Saves a validated topic and drops the public cache after commit."""
    topic.save()
    transaction.on_commit(bump_generation)
    return topic


@transaction.atomic
def topic_delete(*, topic: Topic) -> None:
    topic.delete()
    transaction.on_commit(bump_generation)


@transaction.atomic
def article_delete(*, article: Article) -> None:
    article.delete()
    transaction.on_commit(bump_generation)
