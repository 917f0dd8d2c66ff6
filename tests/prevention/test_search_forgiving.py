"""Search that forgives: missing accents, slang, small misspellings, in Swedish and English."""

import pytest
from django.db import connection
from django.test import Client

from prevention import services
from prevention.models import Article, SearchWord
from prevention.search import _fallback, fold, search, search_articles

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(make_article):
    make_article(
        slug="hot-pa-natet",
        title="Hot på nätet",
        summary="När någon hotar dig på nätet.",
        body="Ingen får hota dig på nätet. Berätta för en vuxen.",
    )
    make_article(
        slug="grooming",
        title="Vad är grooming?",
        summary="Grooming är när en vuxen bygger upp en relation för att utnyttja ett barn.",
        body="Den som groomar smickrar och ger presenter.",
    )
    make_article(
        slug="nakenbilder",
        title="Om någon ber om nakenbilder",
        summary="Du behöver aldrig skicka en nakenbild.",
        body="Den som ber ett barn om nakenbilder gör fel.",
    )
    make_article(
        slug="utpressning",
        title="Om någon hotar att sprida dina bilder",
        summary="Sextortion är utpressning med bilder.",
        body="Betala inte. Spara skärmbilder på kontot.",
    )
    make_article(
        language="en",
        slug="cafe",
        title="Meeting at a café",
        summary="When someone online wants to meet you.",
        body="Someone you met online suggests a café. Tell an adult you trust.",
    )
    make_article(
        language="en",
        slug="pictures",
        title="When someone asks for pictures",
        summary="You never have to send a picture.",
        body="Someone who asks a child for nude pictures is doing wrong. That is called grooming.",
    )
    make_article(slug="utkast", title="Hemligt utkast", body="zebrafinkarnas hemlighet", status=Article.Status.DRAFT)


def _slugs(hits) -> list[str]:
    return sorted(hit.article.slug for hit in hits)


@pytest.mark.services
def test_a_word_typed_without_accents_finds_what_the_accented_word_finds(library):
    assert _slugs(search_articles("nätet", language="sv")) == ["hot-pa-natet"]
    accentless = search_articles("natet", language="sv")
    assert _slugs(accentless) == ["hot-pa-natet"]
    assert "<mark>nätet</mark>" in accentless[0].snippet  # marked as written in the article
    assert _slugs(search_articles("NATET", language="sv")) == ["hot-pa-natet"]
    # English too: "cafe" finds "café".
    assert _slugs(search_articles("cafe", language="en")) == ["cafe"]
    assert _slugs(search_articles("café", language="en")) == ["cafe"]


@pytest.mark.services
def test_young_peoples_words_find_the_articles_that_use_the_official_ones(library):
    assert "grooming" in _slugs(search_articles("groomad", language="sv"))
    assert _slugs(search_articles("nudes", language="sv")) == ["nakenbilder"]
    assert _slugs(search_articles("utpressad", language="sv")) == ["utpressning"]
    assert _slugs(search_articles("groomed", language="en")) == ["pictures"]
    assert _slugs(search_articles("nudes", language="en")) == ["pictures"]


@pytest.mark.services
def test_every_word_of_a_query_must_still_match(library):
    assert _slugs(search_articles("natet hota", language="sv")) == ["hot-pa-natet"]
    assert search_articles("natet nakenbild", language="sv") == []


@pytest.mark.services
def test_a_misspelling_finds_the_articles_and_says_what_it_searched_for(library):
    result = search("groming", language="sv")
    assert result.suggestion == "grooming" and result.showing_suggestion
    assert _slugs(result.hits) == ["grooming"]
    english = search("pictres", language="en")
    assert english.suggestion == "pictures" and _slugs(english.hits) == ["pictures"]


@pytest.mark.services
def test_a_query_that_finds_enough_gets_no_suggestion(library):
    assert search("nätet", language="sv").suggestion is None


@pytest.mark.services
def test_a_draft_never_lends_its_words_to_a_suggestion(library):
    assert search("zebrafinkarnas", language="sv").hits == []
    assert search("zebrafinkarna", language="sv").suggestion is None
    assert not SearchWord.objects.filter(word__startswith="zebrafink").exists()


@pytest.mark.services
def test_the_search_page_offers_did_you_mean_as_a_button_that_searches_again(client: Client, library):
    response = client.post("/kunskap/sok/", {"q": "groming"})
    assert "Menade du" in response.text
    assert 'name="q" value="grooming"' in response.text
    assert "Vad är grooming?" in response.text
    english = client.post("/en/knowledge/search/", {"q": "pictres"})
    assert "Did you mean" in english.text and "When someone asks for pictures" in english.text


@pytest.mark.services
def test_the_search_vector_is_a_stored_column_with_a_gin_index_kept_current_by_the_database(library):
    article = Article.objects.get(slug="hot-pa-natet")
    services.article_update(
        article=article, title="Hot i skolan", body="Ingen får hota dig i skolan.", summary="Om hot."
    )
    assert _slugs(search_articles("skolan", language="sv")) == ["hot-pa-natet"]
    assert search_articles("natet", language="sv") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'prevention_article_search'")
        (definition,) = cursor.fetchone()
        cursor.execute(
            "SELECT is_generated FROM information_schema.columns"
            " WHERE table_name = 'prevention_article' AND column_name = 'search_document'"
        )
        (generated,) = cursor.fetchone()
    assert "USING gin (search_document)" in definition
    assert generated == "ALWAYS"


def test_the_embedded_fallback_also_forgives_accents_and_slang(library):
    assert fold("Nätet ÅÄÖ café") == "natet aao cafe"
    assert _slugs(_fallback(["natet"], "sv")) == ["hot-pa-natet"]
    assert "<mark>nätet</mark>" in _fallback(["natet"], "sv")[0].snippet
    assert _slugs(_fallback(["nudes"], "sv")) == ["nakenbilder"]
    assert _slugs(_fallback(["cafe"], "en")) == ["cafe"]


def test_the_embedded_fallback_also_offers_did_you_mean(library, monkeypatch):
    # The SQLite path is plain Python and ORM, so it can be exercised on any database.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    result = search("groming", language="sv")
    assert result.suggestion == "grooming" and result.showing_suggestion
    assert _slugs(result.hits) == ["grooming"]
    assert search("zebrafinkarna", language="sv").suggestion is None  # a draft's words are never offered
