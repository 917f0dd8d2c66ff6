"""Search: PostgreSQL full text per language, the SQLite fallback, and privacy."""

import datetime
import logging
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prevention import services
from prevention.models import Article
from prevention.search import _fallback, query_words, search_articles, stem

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(make_article):
    make_article(
        slug="en-bild",
        title="När någon ber om en bild",
        body="Om någon ber dig om en bild behöver du inte skicka den.",
    )
    make_article(slug="hot", title="Hot på nätet", body="Ingen får hota dig. Berätta för en vuxen.")
    make_article(
        language="en",
        slug="a-picture",
        title="When someone asks for a picture",
        body="You never have to send a picture.",
    )
    make_article(slug="utkast-bild", title="Utkast om bild", body="bild", status=Article.Status.DRAFT)


@pytest.mark.services
def test_swedish_search_finds_inflected_forms(library):
    hits = search_articles("bilder", language="sv")
    assert [hit.article.slug for hit in hits] == ["en-bild"]
    assert "<mark>bild</mark>" in hits[0].snippet


@pytest.mark.services
def test_english_search_uses_the_english_configuration(library):
    assert [hit.article.slug for hit in search_articles("pictures", language="en")] == ["a-picture"]
    # Swedish articles are not searched from the English pages, and vice versa.
    assert search_articles("pictures", language="sv") == []


@pytest.mark.services
def test_results_are_ranked_title_first(make_article):
    make_article(slug="i-texten", title="Om nätet", body="Här nämns grooming en gång.", summary="Allmänt")
    make_article(slug="i-rubriken", title="Vad är grooming?", body="Text.", summary="Grooming förklaras")
    assert [hit.article.slug for hit in search_articles("grooming", language="sv")] == ["i-rubriken", "i-texten"]


@pytest.mark.services
def test_snippets_escape_the_text_around_the_highlight(make_article):
    make_article(slug="tecken", title="Tecken", body="Skriv `<b>fet</b>` och tecken < > & runt ordet bild.")
    snippet = search_articles("bild", language="sv")[0].snippet
    assert "<b>" not in snippet
    assert "&lt; &gt; &amp;" in snippet and "<mark>bild</mark>" in snippet


@pytest.mark.services
def test_a_search_after_an_edit_shows_the_edited_article(make_article, django_capture_on_commit_callbacks):
    # Search remembers the rows it showed by row version: any change, even one
    # that bypasses the models (no updated_at, no signal), must show at once.
    article = make_article(slug="gammal", title="Om grooming", summary="Förr", body="Grooming förr.")
    assert search_articles("grooming", language="sv")[0].article.title == "Om grooming"
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(article=article, title="Vad är grooming?", slug="ny")
    hit = search_articles("grooming", language="sv")[0]
    assert (hit.article.title, hit.article.get_absolute_url()) == ("Vad är grooming?", "/kunskap/artikel/ny/")
    Article.objects.filter(pk=article.pk).update(summary="Direkt i databasen", body_text="Grooming nu.")
    hit = search_articles("grooming", language="sv")[0]
    assert hit.article.summary == "Direkt i databasen" and "<mark>Grooming</mark> nu." in hit.snippet


def test_fallback_stems_and_folds_case(library):
    assert stem("bilder") == "bild" and stem("bild") == "bild" and stem("pictures") == "pictur"
    hits = _fallback(query_words("BILDER"), "sv")
    assert [hit.article.slug for hit in hits] == ["en-bild"]
    assert "<mark>bild</mark>" in hits[0].snippet
    assert [hit.article.slug for hit in _fallback(query_words("Hot nätet"), "sv")] == ["hot"]
    assert _fallback(["bild"], "en") == []


def test_empty_or_punctuation_query_returns_nothing(library):
    assert search_articles("   ", language="sv") == []
    assert search_articles("!!! ???", language="sv") == []


def test_search_page_posts_and_is_never_cached(client: Client, library):
    empty = client.get("/kunskap/sok/")
    assert empty.status_code == 200 and "no-store" in empty["Cache-Control"]
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/kunskap/sok/", {"q": "bilder"})
        assert len(queries) > 0  # served from the database every time, never a cache
        assert "no-store" in response["Cache-Control"]
        assert "När någon ber om en bild" in response.text
    assert "Utkast om bild" not in response.text


def test_empty_search_shows_a_swedish_error_next_to_the_field(client: Client):
    response = client.post("/kunskap/sok/", {"q": ""})
    assert response.status_code == 200
    assert "Skriv ett eller flera ord att söka efter." in response.text
    too_long = "a" * 201
    response = client.post("/kunskap/sok/", {"q": too_long})
    assert "Skriv högst 200 tecken." in response.text
    assert too_long in response.text  # what was typed is kept


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    """A handler on every logger, with the root and "django" at DEBUG as with LOG_LEVEL=DEBUG."""
    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    names = ["", *logging.Logger.manager.loggerDict]
    loggers = [logging.getLogger(name) for name in names]
    loud = [logging.getLogger(), logging.getLogger("django")]
    old_levels = [logger.level for logger in loud]
    for logger in loud:
        logger.setLevel(logging.DEBUG)
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.lines
    for logger in loggers:
        logger.removeHandler(handler)
    for logger, level in zip(loud, old_levels, strict=True):
        logger.setLevel(level)


def _every_table_as_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_a_search_term_appears_in_no_log_line_and_no_table(client: Client, library, every_log_line, settings):
    settings.DEBUG = True  # Django would log SQL with parameters at DEBUG level
    term = "zebrafinkhemlis"
    client.post("/kunskap/sok/", {"q": f"bilder {term}"})
    client.post("/en/knowledge/search/", {"q": term})
    client.get(f"/kunskap/sok/?q={term}")
    client.get("/kunskap/finns-inte/")  # a 404 is logged, with its path (never a query string)
    assert any("Not Found" in line for line in every_log_line), "the log capture must see Django's own lines"
    assert not [line for line in every_log_line if term in line]
    assert term not in _every_table_as_text()


@pytest.mark.services
def test_a_search_term_never_reaches_the_cache(client: Client, library, settings):
    import redis

    term = "zebrafinkhemlis"
    client.get("/kunskap/")  # something is cached, so the scan is not vacuous
    client.post("/kunskap/sok/", {"q": term})
    client.post("/kunskap/sok/", {"q": "bilder"})
    server = redis.Redis.from_url(settings.REDIS_URL)
    blob = b"".join(key + (server.get(key) or b"") for key in server.scan_iter())
    server.close()
    assert b"prevention:page:" in blob
    assert term.encode() not in blob


@pytest.mark.services
def test_a_scheduled_article_is_found_only_once_its_time_has_come(make_article):
    # Search writes its own SQL; it must apply the same public rule as every list page.
    make_article(slug="snart", title="Grooming snart", publish_at=timezone.now() + datetime.timedelta(hours=2))
    make_article(slug="nu", title="Grooming nu", publish_at=timezone.now() - datetime.timedelta(minutes=1))
    assert [hit.article.slug for hit in search_articles("grooming", language="sv")] == ["nu"]
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        assert sorted(hit.article.slug for hit in search_articles("grooming", language="sv")) == ["nu", "snart"]
