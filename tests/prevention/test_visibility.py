"""Drafts, scheduled and archived articles stay off the public site until their time."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from prevention import services
from prevention.models import Article
from prevention.tasks import publish_due_articles

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def test_draft_is_invisible_everywhere(client: Client, make_article):
    draft = make_article(title="Hemligt utkast", slug="utkast", status=Article.Status.DRAFT)
    assert not Article.objects.published().filter(pk=draft.pk).exists()
    assert client.get("/kunskap/artikel/utkast/").status_code == 404
    assert "Hemligt utkast" not in client.get("/kunskap/barn/").text
    assert "utkast" not in client.get("/sitemap.xml").text


def test_scheduled_article_appears_exactly_at_its_time(client: Client, make_article):
    with time_machine.travel(NOW, tick=False):
        make_article(title="Kommer snart", slug="snart", publish_at=NOW + datetime.timedelta(hours=2))
        article = Article.objects.get(slug="snart")
        assert article.status == Article.Status.SCHEDULED
        # The start page is cached now, before the article's time.
        assert "Kommer snart" not in client.get("/kunskap/barn/").text
        assert client.get("/kunskap/artikel/snart/").status_code == 404

    with time_machine.travel(NOW + datetime.timedelta(hours=1, minutes=59), tick=False):
        assert "Kommer snart" not in client.get("/kunskap/barn/").text
        assert not Article.objects.published().filter(slug="snart").exists()

    with time_machine.travel(NOW + datetime.timedelta(hours=2), tick=False):
        # No edit, no cache bump: the cached page must not outlive the publish time.
        assert "Kommer snart" in client.get("/kunskap/barn/").text
        assert client.get("/kunskap/artikel/snart/").status_code == 200
        assert "/kunskap/artikel/snart/" in client.get("/sitemap.xml").text


def test_beat_job_marks_due_articles_published(make_article, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        make_article(slug="senare", publish_at=NOW + datetime.timedelta(minutes=5))
    with (
        time_machine.travel(NOW + datetime.timedelta(minutes=6), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert publish_due_articles() == 1
        assert publish_due_articles() == 0  # idempotent
    assert Article.objects.get(slug="senare").status == Article.Status.PUBLISHED


def test_archived_article_leaves_the_site(client: Client, make_article, django_capture_on_commit_callbacks):
    article = make_article(title="Gammal text", slug="gammal")
    assert client.get("/kunskap/artikel/gammal/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.article_archive(article=article)
    assert client.get("/kunskap/artikel/gammal/").status_code == 404
    assert "Gammal text" not in client.get("/kunskap/barn/").text


def test_publishing_sets_the_time_and_is_audited(make_article):
    from audit.models import AuditEvent

    draft = make_article(status=Article.Status.DRAFT)
    assert draft.publish_at is None
    services.article_publish(article=draft)
    assert draft.status == Article.Status.PUBLISHED
    assert draft.publish_at is not None and draft.publish_at <= timezone.now()
    event = AuditEvent.objects.filter(action="prevention.article.published").latest("id")
    assert event.object_id == str(draft.pk)


def test_scheduled_without_time_is_a_field_error(make_article):
    with pytest.raises(ValidationError) as error:
        make_article(status=Article.Status.SCHEDULED, publish_at=None)
    assert "publish_at" in error.value.message_dict


def test_an_article_needs_an_audience(make_article):
    with pytest.raises(ValidationError, match="Välj minst en målgrupp"):
        make_article(audiences=[])


def test_translation_must_be_in_the_other_language(make_article):
    original = make_article(language="sv")
    with pytest.raises(ValidationError) as error:
        make_article(language="sv", translation_of=original)
    assert "translation_of" in error.value.message_dict
    english = make_article(language="en", translation_of=original)
    assert original.translation == english
    assert english.translation == original


def _public_everywhere(client: Client, article: Article, topic_name: str) -> list[bool]:
    """Where the public can see ``article``: its audience list, the topic list, the sitemap, ``is_public``."""
    article.refresh_from_db()
    return [
        article.title in client.get("/kunskap/barn/").text,
        topic_name in client.get("/kunskap/").text,
        f"/kunskap/artikel/{article.slug}/" in client.get("/sitemap.xml").text,
        article.is_public(),
    ]


def test_one_rule_decides_visibility_on_every_surface(client: Client, make_article):
    from prevention.models import Topic

    waiting = Topic.objects.create(slug="vantar", slug_en="waiting", name_sv="Ämne som väntar", name_en="Waiting")
    drafted = Topic.objects.create(slug="utkast", slug_en="drafted", name_sv="Ämne med utkast", name_en="Drafted")
    archived_topic = Topic.objects.create(
        slug="arkiv", slug_en="archived", name_sv="Ämne i arkivet", name_en="Archived"
    )
    with time_machine.travel(NOW, tick=False):
        scheduled = make_article(
            title="Schemalagd text", slug="schemalagd", topics=[waiting], publish_at=NOW + datetime.timedelta(hours=1)
        )
        draft = make_article(title="Utkast text", slug="utkasttext", topics=[drafted], status=Article.Status.DRAFT)
        archived = make_article(title="Arkiverad text", slug="arkiverad", topics=[archived_topic])
        Article.objects.filter(pk=archived.pk).update(status=Article.Status.ARCHIVED)

        assert _public_everywhere(client, scheduled, "Ämne som väntar") == [False] * 4
        assert _public_everywhere(client, draft, "Ämne med utkast") == [False] * 4
        assert _public_everywhere(client, archived, "Ämne i arkivet") == [False] * 4

    # Not yet flipped to published by the beat job, yet public at its time on every surface.
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        assert Article.objects.get(pk=scheduled.pk).status == Article.Status.SCHEDULED
        assert _public_everywhere(client, scheduled, "Ämne som väntar") == [True] * 4
        assert _public_everywhere(client, draft, "Ämne med utkast") == [False] * 4


# Every status with no time, a past time and a future time, except the one the database forbids.
STATES = [
    (status, offset)
    for status in Article.Status.values
    for offset in (None, -1, 1)
    if not (status == Article.Status.SCHEDULED and offset is None)
]


@pytest.mark.parametrize(("status", "offset"), STATES)
def test_is_public_agrees_with_the_published_query(make_article, status, offset):
    article = make_article(status=Article.Status.DRAFT)
    publish_at = None if offset is None else NOW + datetime.timedelta(minutes=offset)
    Article.objects.filter(pk=article.pk).update(status=status, publish_at=publish_at)
    article.refresh_from_db()
    in_query = Article.objects.published(now=NOW).filter(pk=article.pk).exists()
    assert article.is_public(now=NOW) == in_query
