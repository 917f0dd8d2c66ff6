"""English is English: every public page under /en/ has English words in its address, names its
Swedish twin (``hreflang``, both ways, with ``x-default``), and the old Swedish words still lead there.

The routes are read from the URLconf, so a page added later without English words fails here.
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from bilingual import route_pairs
from prevention import services
from prevention.models import Article, Topic
from tests.supportline.helpers import open_all_week

pytestmark = pytest.mark.django_db

# Words that are the same in both languages, so an English address may share them.
SHARED_WORDS = {"chat", "hotline", "status"}
# What a converter stands for in the tests, by the Swedish word before it: (Swedish slug, English slug).
SAMPLE_SLUGS = {"amne": ("inte-ditt-fel", "not-your-fault"), "artikel": ("aldrig-ditt-fel", "never-your-fault")}
# Pages that only take a form (a beacon, a letter, a code): a GET is refused, there is no page to name a twin.
POST_ONLY = {"chat/lamna/", "chat/aterkoppling/", "chat/brev/skriv/", "chat/brev/oppna/", "chat/brev/avsluta/"}
POST_ONLY |= {"chat/brev/las-igen/"}
# Pages that need this browser's state (a code just written, an opened letter) and send anyone else back.
NEED_STATE = {"chat/brev/kod/", "chat/brev/las/"}
ALTERNATE = re.compile(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">')
SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "xhtml": "http://www.w3.org/1999/xhtml"}


def public_routes() -> list[tuple[str, str]]:
    """(Swedish route, English route without its /en/ prefix) for every page in both languages."""
    return [(sv, en.removeprefix("en/")) for sv, en in route_pairs() if en.startswith("en/")]


def words(route: str) -> list[str]:
    return [part for part in route.split("/") if part and not part.startswith("<")]


def addresses(sv_route: str, en_route: str, *, english_slugs: bool = True) -> tuple[str, str]:
    """The Swedish and English address of a route pair, each with its sample slug (or both Swedish)."""
    sv_parts, en_parts = sv_route.split("/"), en_route.split("/")
    assert len(sv_parts) == len(en_parts), (sv_route, en_route)
    for i, part in enumerate(sv_parts):
        if part.startswith("<"):
            assert sv_parts[i - 1] in SAMPLE_SLUGS, f"add a sample value for {part} in {sv_route} to SAMPLE_SLUGS"
            swedish, english = SAMPLE_SLUGS[sv_parts[i - 1]]
            sv_parts[i], en_parts[i] = swedish, english if english_slugs else swedish
    return "/" + "/".join(sv_parts), "/en/" + "/".join(en_parts)


def publish(django_capture_on_commit_callbacks, **fields) -> Article:
    fields = {"title": "Rubrik", "summary": "Ingress", "body": "Text.", "audiences": ["children"], **fields}
    with django_capture_on_commit_callbacks(execute=True):
        return services.article_create(status=Article.Status.PUBLISHED, **fields)


@pytest.fixture
def twins(django_capture_on_commit_callbacks) -> Iterator[None]:
    """A topic and an article, each in both languages."""
    cache.clear()  # the page cache outlives the rolled-back database
    topic = Topic.objects.create(
        slug="inte-ditt-fel", slug_en="not-your-fault", name_sv="Inte ditt fel", name_en="Not your fault"
    )
    swedish = publish(django_capture_on_commit_callbacks, language="sv", slug="aldrig-ditt-fel", topics=[topic])
    publish(
        django_capture_on_commit_callbacks,
        language="en",
        slug="never-your-fault",
        topics=[topic],
        translation_of=swedish,
    )
    yield
    cache.clear()


def test_the_walk_finds_the_pages():
    routes = public_routes()
    assert ("chat/brev/", "chat/letters/") in routes
    assert ("kunskap/artikel/<slug:slug>/", "knowledge/article/<slug:slug>/") in routes
    assert len(routes) >= 20


def test_every_english_address_has_only_english_words():
    swedish = {word for sv, _ in public_routes() for word in words(sv)} - SHARED_WORDS
    for sv, en in public_routes():
        for word in words(en):
            assert word not in swedish, f"/en/{en} (twin of /{sv}) has the Swedish word {word!r}"
            assert re.fullmatch(r"[a-z]+(-[a-z]+)*", word), f"/en/{en}: {word!r} is not a plain English word"


def alternates(html: str) -> dict[str, str]:
    return dict(ALTERNATE.findall(html))


def test_every_page_names_its_twin_and_the_twin_answers(client: Client, twins):
    checked = 0
    for sv_route, en_route in public_routes():
        if sv_route in POST_ONLY:
            assert client.get(addresses(sv_route, en_route)[0]).status_code == 405, sv_route
            continue
        for language, path in zip(("sv", "en"), addresses(sv_route, en_route), strict=True):
            response = client.get(path)
            if sv_route in NEED_STATE:
                assert response.status_code in (302, 303), path
                continue
            assert response.status_code == 200, path
            links = alternates(response.text)
            assert set(links) == {"sv", "en", "x-default"}, (path, links)
            assert links[language] == path
            assert links["x-default"] == links["sv"]
            for href in links.values():
                twin = client.get(href)
                assert twin.status_code == 200, (path, href)
                assert alternates(twin.text) == links, (path, href)  # both ways, the same pair
            checked += 1
    assert checked >= 30


def test_old_english_addresses_lead_to_the_english_ones(client: Client, twins):
    moved = 0
    for sv_route, en_route in public_routes():
        if words(sv_route) == words(en_route):
            continue
        swedish, new = addresses(sv_route, en_route, english_slugs=False)
        old = f"/en{swedish}"
        response = client.get(old)
        assert response.status_code == 301 and response["Location"] == new, (old, response.status_code)
        posted = client.post(old, {"q": "x"})
        assert posted.status_code == 308 and posted["Location"] == new, old  # a form keeps its POST
        moved += 1
    assert moved >= 15
    # A query string travels along; an old slug ends on the English article.
    assert client.get("/en/chat/brev/?a=1")["Location"] == "/en/chat/letters/?a=1"
    assert client.get("/en/kunskap/artikel/aldrig-ditt-fel/", follow=True).redirect_chain[-1] == (
        "/en/knowledge/article/never-your-fault/",
        301,
    )


def test_what_is_no_page_stays_a_404_and_machines_keep_their_addresses(client: Client):
    assert client.get("/en/finns-inte/").status_code == 404
    assert client.get("/en/admin/").status_code == 404  # the admin is not an English page
    assert client.get("/en/chat").status_code == 301 and client.get("/en/chat")["Location"] == "/en/chat/"
    assert client.get("/chat/leave/").status_code == 404  # Swedish addresses are Swedish
    assert client.get("/exit/").status_code == 302
    open_all_week()
    chat = client.get("/en/chat/").text
    assert 'data-leave-url="/en/chat/leave/"' in chat and 'data-ws-path="/ws/chat/"' in chat
    assert 'href="/exit/"' in chat
    assert client.post("/en/chat/leave/", data="no-such-token", content_type="text/plain").status_code == 204
    # A beacon carries no CSRF token; sent to the old address it is still passed on, not refused.
    beacon = Client(enforce_csrf_checks=True).post("/en/chat/lamna/", data="x", content_type="text/plain")
    assert beacon.status_code == 308 and beacon["Location"] == "/en/chat/leave/"


def test_error_pages_and_staff_pages_name_no_twin(client: Client):
    assert not alternates(client.get("/en/knowledge/article/finns-inte/").text)
    assert not alternates(client.get("/admin/login/").text)


def test_the_sitemap_links_every_page_to_its_twin(client: Client, twins, django_capture_on_commit_callbacks):
    publish(django_capture_on_commit_callbacks, language="en", slug="only-english")
    root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314  (our own sitemap)
    entries: dict[str, dict[str, str]] = {}
    for url in root.findall("s:url", SITEMAP):
        loc = (url.findtext("s:loc", namespaces=SITEMAP) or "").removeprefix("http://testserver")
        entries[loc] = {
            str(link.get("hreflang")): str(link.get("href")).removeprefix("http://testserver")
            for link in url.findall("xhtml:link", SITEMAP)
        }
    assert entries["/en/chat/letters/"] == {"sv": "/chat/brev/", "en": "/en/chat/letters/", "x-default": "/chat/brev/"}
    assert entries["/"] == {"sv": "/", "en": "/en/", "x-default": "/"}
    assert entries["/kunskap/artikel/aldrig-ditt-fel/"]["en"] == "/en/knowledge/article/never-your-fault/"
    assert entries["/en/knowledge/topic/not-your-fault/"]["sv"] == "/kunskap/amne/inte-ditt-fel/"
    assert entries["/en/knowledge/children/"]["x-default"] == "/kunskap/barn/"
    # No twin, no alternate to claim one.
    assert entries["/en/knowledge/article/only-english/"] == {"en": "/en/knowledge/article/only-english/"}
    for loc, links in entries.items():
        assert links["en" if loc.startswith("/en/") else "sv"] == loc, loc
        for href in links.values():
            assert client.get(href).status_code == 200, href
