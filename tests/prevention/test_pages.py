"""Public pages: bounded queries, per-language cache, invalidation, paths to help."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from prevention import services
from prevention.models import Article, Topic

pytestmark = pytest.mark.django_db

LIST_PAGES = ["/kunskap/", "/kunskap/barn/", "/kunskap/unga/", "/kunskap/foraldrar/", "/kunskap/amne/grooming/"]


@pytest.fixture
def topics(db):
    return [
        Topic.objects.create(slug=slug, slug_en=f"{slug}-en", name_sv=slug, name_en=slug)
        for slug in ("grooming", "lagen", "hjalp")
    ]


def add_articles(make_article, topics, count, start=0):
    audiences = [["children"], ["youth"], ["parents"], ["youth", "parents"]]
    for n in range(start, start + count):
        make_article(slug=f"a{n}", audiences=audiences[n % 4], topics=topics[: 1 + n % 3])


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", LIST_PAGES)
def test_list_pages_make_no_n_plus_one_queries(client: Client, make_article, topics, path):
    add_articles(make_article, topics, 4)
    few = count_queries(client, path)
    cache.clear()
    add_articles(make_article, topics, 16, start=4)
    cache.clear()
    many = count_queries(client, path)
    assert many == few, f"{path}: {few} queries for 4 articles, {many} for 20"
    assert many <= 6


@pytest.mark.parametrize("path", LIST_PAGES)
def test_list_pages_have_a_bounded_query_count(
    client: Client, make_article, topics, path, django_assert_max_num_queries
):
    add_articles(make_article, topics, 12)
    with django_assert_max_num_queries(6):
        client.get(path)


def test_article_page_has_a_bounded_query_count(client: Client, make_article, topics, django_assert_max_num_queries):
    add_articles(make_article, topics, 12)
    with django_assert_max_num_queries(8):
        assert client.get("/kunskap/artikel/a0/").status_code == 200


def test_a_cached_page_costs_no_query(client: Client, make_article, topics):
    add_articles(make_article, topics, 4)
    assert count_queries(client, "/kunskap/barn/") > 0
    assert count_queries(client, "/kunskap/barn/") == 0


def test_pages_are_cached_per_language(client: Client, make_article):
    original = make_article(slug="bara-svensk", title="Svensk rubrik")
    make_article(language="en", slug="english-only", title="English title", translation_of=original)
    assert "Svensk rubrik" in client.get("/kunskap/barn/").text
    english = client.get("/en/knowledge/children/")
    assert "English title" in english.text and "Svensk rubrik" not in english.text
    assert '<html lang="en">' in english.text
    # Second visits come from the cache, still in the right language.
    assert "Svensk rubrik" in client.get("/kunskap/barn/").text
    assert "English title" in client.get("/en/knowledge/children/").text


def test_editing_drops_the_cache(client: Client, make_article, django_capture_on_commit_callbacks):
    article = make_article(slug="andras", title="Före")
    assert "Före" in client.get("/kunskap/artikel/andras/").text
    assert "Före" in client.get("/kunskap/barn/").text
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(article=article, title="Efter")
    assert "Efter" in client.get("/kunskap/artikel/andras/").text
    assert "Efter" in client.get("/kunskap/barn/").text


def test_cache_is_dropped_only_after_commit(make_article, django_capture_on_commit_callbacks):
    article = make_article()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.article_update(article=article, title="Ny")
    assert [callback.__name__ for callback in callbacks] == ["bump_generation"]


def test_every_article_shows_a_path_to_talk_and_to_report(client: Client, make_article):
    for audience in ("children", "youth", "parents"):
        make_article(slug=f"hjalp-{audience}", audiences=[audience])
        html = client.get(f"/kunskap/artikel/hjalp-{audience}/").text
        assert 'href="/chat/"' in html and 'href="/hotline/"' in html
        assert 'href="tel:112"' in html


def test_read_aloud_only_for_children_and_youth(client: Client, make_article):
    make_article(slug="barn", audiences=["children"])
    make_article(slug="unga", audiences=["youth"])
    make_article(slug="vuxna", audiences=["parents"])
    for slug, expected in (("barn", True), ("unga", True), ("vuxna", False)):
        html = client.get(f"/kunskap/artikel/{slug}/").text
        assert ("data-read-aloud" in html) is expected
        assert ("prevention/read-aloud.js" in html) is expected
    assert "data-read-aloud" in client.get("/kunskap/barn/").text
    assert "data-read-aloud" not in client.get("/kunskap/foraldrar/").text


def test_audience_pages_look_different(client: Client):
    assert 'class="audience-children"' in client.get("/kunskap/barn/").text
    assert 'class="audience-youth"' in client.get("/kunskap/unga/").text
    assert 'class="audience-parents"' in client.get("/kunskap/foraldrar/").text


def test_related_articles_share_topics(client: Client, make_article, topics):
    make_article(slug="huvud", topics=[topics[0]])
    make_article(slug="syskon", title="Syskontext", topics=[topics[0]])
    make_article(slug="annan", title="Annan målgrupp", topics=[topics[0]], audiences=["parents"])
    html = client.get("/kunskap/artikel/huvud/").text
    related = html[html.index('id="related-heading"') :]
    assert "Syskontext" in related and "Annan målgrupp" not in related


def test_language_switch_on_an_article_goes_to_its_translation(client: Client, make_article):
    original = make_article(slug="om-bilder")
    make_article(language="en", slug="about-pictures", translation_of=original)
    assert 'href="/en/knowledge/article/about-pictures/"' in client.get("/kunskap/artikel/om-bilder/").text
    assert 'href="/kunskap/artikel/om-bilder/"' in client.get("/en/knowledge/article/about-pictures/").text


def test_article_without_translation_switches_to_the_other_start_page(client: Client, make_article):
    make_article(slug="ensam")
    assert 'hreflang="en"' in client.get("/kunskap/artikel/ensam/").text
    alone = client.get("/kunskap/artikel/ensam/").text
    assert 'href="/en/knowledge/"' in alone
    assert 'rel="alternate"' not in alone  # the English landing page is no twin of this article


def test_slug_under_the_wrong_language_redirects(client: Client, make_article):
    make_article(language="en", slug="only-english")
    response = client.get("/kunskap/artikel/only-english/")
    assert response.status_code == 301 and response["Location"] == "/en/knowledge/article/only-english/"


def test_sitemap_lists_published_articles_in_both_languages(client: Client, make_article):
    original = make_article(slug="publicerad")
    make_article(language="en", slug="published", translation_of=original)
    make_article(slug="utkast", status=Article.Status.DRAFT)
    xml = client.get("/sitemap.xml").text
    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert "http://testserver/kunskap/artikel/publicerad/" in locations
    assert "http://testserver/en/knowledge/article/published/" in locations
    assert "http://testserver/en/knowledge/children/" in locations
    assert not [loc for loc in locations if "utkast" in loc]


def test_pages_load_nothing_from_another_origin(client: Client, make_article):
    make_article(slug="ren", body="[extern länk](https://example.org/)")
    for path in ("/kunskap/", "/kunskap/barn/", "/en/knowledge/parents/", "/kunskap/sok/"):
        html = client.get(path).text
        assert "<script>" not in html and " style=" not in html and "onclick" not in html, path
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', html), path


def test_english_pages_have_english_addresses_and_name_their_swedish_twin(client: Client, make_article):
    topic = Topic.objects.create(
        slug="inte-ditt-fel", slug_en="not-your-fault", name_sv="Inte ditt fel", name_en="Not your fault"
    )
    swedish = make_article(slug="aldrig-ditt-fel", topics=[topic])
    make_article(language="en", slug="never-your-fault", topics=[topic], translation_of=swedish)
    english = client.get("/en/knowledge/topic/not-your-fault/")
    assert english.status_code == 200 and "Not your fault" in english.text
    assert '<link rel="alternate" hreflang="sv" href="/kunskap/amne/inte-ditt-fel/">' in english.text
    assert 'href="/kunskap/amne/inte-ditt-fel/" lang="sv" hreflang="sv"' in english.text  # the header's switch
    swedish_page = client.get("/kunskap/amne/inte-ditt-fel/")
    assert '<link rel="alternate" hreflang="en" href="/en/knowledge/topic/not-your-fault/">' in swedish_page.text
    assert 'href="/en/knowledge/topic/not-your-fault/"' in client.get("/en/knowledge/article/never-your-fault/").text
    article = client.get("/en/knowledge/article/never-your-fault/").text
    assert '<link rel="alternate" hreflang="sv" href="/kunskap/artikel/aldrig-ditt-fel/">' in article


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/en/kunskap/", "/en/knowledge/"),
        ("/en/kunskap/children/", "/en/knowledge/children/"),
        ("/en/kunskap/topic/inte-ditt-fel/", "/en/knowledge/topic/inte-ditt-fel/"),
        ("/en/knowledge/topic/inte-ditt-fel/", "/en/knowledge/topic/not-your-fault/"),
        ("/en/kunskap/article/never-your-fault/", "/en/knowledge/article/never-your-fault/"),
        ("/en/knowledge/article/aldrig-ditt-fel/", "/en/knowledge/article/never-your-fault/"),
    ],
)
def test_old_english_addresses_redirect_permanently(client: Client, make_article, old, new):
    topic = Topic.objects.create(
        slug="inte-ditt-fel", slug_en="not-your-fault", name_sv="Inte ditt fel", name_en="Not your fault"
    )
    swedish = make_article(slug="aldrig-ditt-fel", topics=[topic])
    make_article(language="en", slug="never-your-fault", topics=[topic], translation_of=swedish)
    response = client.get(old)
    assert response.status_code == 301 and response["Location"] == new
    # Followed to the end, an old address lands on a page, never a 404.
    assert client.get(old, follow=True).status_code == 200


def test_an_old_english_search_form_keeps_its_post(client: Client):
    response = client.post("/en/kunskap/search/", {"q": "grooming"})
    assert response.status_code == 308 and response["Location"] == "/en/knowledge/search/"


def test_swedish_addresses_are_unchanged(client: Client, topic):
    assert client.get("/kunskap/amne/grooming/").status_code == 200
    assert client.get("/kunskap/nagot-annat/").status_code == 404


def test_unknown_topic_and_article_are_404(client: Client):
    assert client.get("/kunskap/amne/finns-inte/").status_code == 404
    assert client.get("/kunskap/artikel/finns-inte/").status_code == 404


def test_the_shared_header_footer_and_help_box_follow_the_page_language(client: Client):
    # They are rendered once per process and language ({% cache %}), never shared between languages.
    swedish = client.post("/kunskap/sok/", {"q": "hej"}).text
    english = client.post("/en/knowledge/search/", {"q": "hello"}).text
    assert "Hoppa till innehållet" in swedish and "Så surfar du säkrare här" in swedish
    assert "Behöver du råd eller vill du anmäla?" in swedish
    assert "Skip to content" in english and "How to browse more safely here" in english
    assert "Do you need advice or want to report something?" in english
    assert "Hoppa till innehållet" not in english and "Skip to content" not in client.post("/kunskap/sok/").text
    # The language switch is not part of the shared header: it points at this page in the other language.
    assert 'href="/en/knowledge/search/" lang="en"' in swedish
    assert 'href="/kunskap/sok/" lang="sv"' in english
