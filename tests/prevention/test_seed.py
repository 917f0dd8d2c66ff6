"""The project's own articles: enough of them, for every audience, in both languages."""

import pytest
from django.core.management import call_command
from django.test import Client

from prevention.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    call_command("seed_articles", verbosity=0)


def test_at_least_twelve_articles_with_an_english_version(seeded):
    swedish = Article.objects.published().in_language("sv").select_related("translated_as")
    assert swedish.count() >= 12
    for article in swedish:
        english = article.translation
        assert english is not None and english.language == "en" and english.is_public(), article.slug
        assert english.audiences == article.audiences
        assert {t.slug for t in english.topics.all()} == {t.slug for t in article.topics.all()}


@pytest.mark.parametrize("audience", ["children", "youth", "parents"])
def test_at_least_four_articles_per_audience(seeded, audience):
    for language in ("sv", "en"):
        assert Article.objects.published().in_language(language).for_audience(audience).count() >= 4


def test_seeding_twice_changes_nothing_and_keeps_edits(seeded):
    article = Article.objects.get(language="sv", slug="vad-ar-grooming")
    article.title = "Redaktörens rubrik"
    article.save()
    before = Article.objects.count()
    call_command("seed_articles", verbosity=0)
    assert Article.objects.count() == before
    assert Article.objects.get(pk=article.pk).title == "Redaktörens rubrik"
    call_command("seed_articles", "--update", verbosity=0)
    assert Article.objects.get(pk=article.pk).title == "Vad är grooming?"


def test_the_law_is_stated_as_the_brief_requires(seeded):
    law = Article.objects.get(language="sv", slug="vad-lagen-sager-om-sexuella-overgrepp-mot-barn")
    assert "6 kap. 10 a §" in law.body and "Träffen behöver inte bli av" in law.body


def test_children_get_short_texts(seeded):
    for article in Article.objects.in_language("sv").for_audience("children"):
        assert article.reading_minutes <= 2, article.slug


def test_every_seeded_article_page_renders_and_points_to_help(seeded):
    client = Client()
    for article in Article.objects.published():
        html = client.get(article.get_absolute_url()).text
        assert 'href="/chat/"' in html or 'href="/en/chat/"' in html, article.slug
        assert "<script>" not in html


def test_lists_show_the_seeded_articles_in_file_order(seeded):
    slugs = list(Article.objects.published().in_language("sv").for_audience("children").values_list("slug", flat=True))
    assert slugs[:2] == ["vad-ar-grooming", "det-ar-aldrig-ditt-fel"]


def test_topics_keep_their_order(seeded):
    from prevention.selectors import topics_in_use

    assert [topic.slug for topic in topics_in_use(language="sv")][:3] == ["grooming", "sextortion", "inte-ditt-fel"]
