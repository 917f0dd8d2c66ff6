"""What the search page does once instead of per search must not change what it shows or keep what was typed."""

import pickle
import re

import pytest
from django.core.cache import caches
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation
from django.utils.safestring import mark_safe

from prevention.forms import SearchForm
from prevention.models import article_url, article_urls
from prevention.search import _ACCENTS, _LETTER_CLASSES, _marking_pattern, _snippet, fold, search, snippet

pytestmark = pytest.mark.django_db


def _letter_class_as_before(letter: str) -> str:
    # The per-letter scan of the whole accent table that the import-time table replaced.
    variants = [letter, *(chr(code) for code, base in _ACCENTS.items() if base.lower() == letter)]
    return f"[{''.join(re.escape(variant) for variant in variants)}]" if len(variants) > 1 else re.escape(letter)


def _pattern_as_before(terms: tuple[str, ...]) -> str:
    alternatives = ["".join(_letter_class_as_before(letter) for letter in term) for term in terms if term]
    return r"(?<!\w)(?:" + "|".join(alternatives) + r")\w*"


def _snippet_as_before(text: str, terms: list[str]) -> str:
    return _snippet(text, re.compile(_pattern_as_before(tuple(sorted(terms))), re.IGNORECASE), 110)


def test_the_letter_table_gives_every_character_the_class_the_scan_gave():
    # Every character a folded term can hold: ASCII (with re.escape's specials), the
    # accented Latin blocks and beyond.
    for code in range(0x0000, 0x3000):
        char = chr(code)
        assert char.translate(_LETTER_CLASSES) == _letter_class_as_before(char), hex(code)


def test_the_letter_table_marks_the_same_words_for_every_accented_latin_letter():
    for code, base in _ACCENTS.items():
        accented = chr(code)
        word = f"x{accented}yz"
        text = f"Före {word} och {base}yz efter, {word.upper()} sist."
        terms = [fold(word)]
        marked = snippet(text, terms)
        assert f"<mark>{word}</mark>" in marked, hex(code)
        assert marked == _snippet_as_before(text, terms), hex(code)


def _spans(pattern: re.Pattern[str], text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text, start, len(text) if end is None else end)]


# Words and non-words around them: every accented Latin letter at the start, inside and
# after a word, capitals, digits, underscores, line breaks and punctuation.
_LETTERS = "".join(chr(code) for code in _ACCENTS)
_TEXT = " ".join(
    [
        "Nätet NÄTET nätets ónline Online-nätet _nätet 9nätet internet\ninternetet in-ternet",
        *(f"{letter}a a{letter}a {letter.upper()}{letter} -{letter}x\n{letter}" for letter in _LETTERS),
        "Ærlig Œuvre ßtraße İstanbul \u0131i Kelvin \u212a \u017ftor naïve café Åsa östra ÖSTRA",
    ]
)


@pytest.mark.parametrize(
    "terms",
    [
        ("intern", "nat", "onlin"),
        ("nat",),
        ("a",),
        ("o", "os", "ost"),
        ("cafe", "naiv", "asa", "ostra", "istanbul", "stor", "kelvin", "ærlig"),
        tuple(sorted({fold(letter) + "a" for letter in _LETTERS})),
        ("in-ternet", "a b", "x.y", "_natet", "9natet"),
    ],
)
def test_the_marking_pattern_finds_what_the_plain_pattern_found(terms):
    pattern = _marking_pattern(terms)
    before = re.compile(_pattern_as_before(terms), re.IGNORECASE)
    assert pattern is not None
    assert _spans(pattern, _TEXT) == _spans(before, _TEXT)
    for start in range(0, len(_TEXT), 37):  # windows, as the snippets search them
        assert _spans(pattern, _TEXT, start, start + 220) == _spans(before, _TEXT, start, start + 220)


def test_article_urls_are_each_article_url():
    pairs = [("sv", "vad-ar-grooming"), ("en", "what-is-grooming"), ("sv", "hot")]
    with translation.override("sv"):
        assert article_urls(pairs) == [article_url(language, slug) for language, slug in pairs]
    with translation.override("en"):
        assert article_urls(pairs) == [article_url(language, slug) for language, slug in pairs]


@pytest.fixture
def library(make_article):
    make_article(slug="hot", title="Hot på nätet", summary="Om <hot>", body="Ingen får hota dig på nätet.")
    make_article(slug="bilder", title="Bilder på nätet", body="Skicka inga bilder till någon på nätet.")
    make_article(language="en", slug="online", title="Threats online", body="Nobody may threaten you online.")


def _whole(path: str, query: str | None, language: str) -> str:
    """The page as one render of search.html with the slot filled in, no frame kept."""
    request = RequestFactory().post(path, {"q": query}) if query is not None else RequestFactory().get(path)
    with translation.override(language):
        form = SearchForm(request.POST if query is not None else None)
        result = search(form.cleaned_data["q"], language=language) if form.is_valid() else None
        body = render_to_string("prevention/_search_body.html", {"form": form, "result": result})
        return render_to_string("prevention/search.html", {"slot": mark_safe(body)}, request)  # noqa: S308 - escaped by its template


@pytest.mark.parametrize(
    ("path", "query", "language"),
    [
        ("/kunskap/sok/", "nätet", "sv"),
        ("/kunskap/sok/", "bilder", "sv"),  # the second search in a language uses the kept frame
        ("/kunskap/sok/", "", "sv"),  # the error next to the field
        ("/kunskap/sok/", "<b>zzz</b>", "sv"),  # nothing found; what was typed is escaped
        ("/kunskap/sok/", None, "sv"),
        ("/en/knowledge/search/", "online", "en"),
    ],
)
def test_the_framed_search_page_is_the_page_rendered_whole(client: Client, library, path, query, language):
    client.post(path, {"q": "nätet"})  # keeps the frame
    response = client.post(path, {"q": query}) if query is not None else client.get(path)
    assert response.status_code == 200
    assert response.text == _whole(path, query, language)


def test_the_frame_is_per_language(client: Client, library):
    swedish = client.post("/kunskap/sok/", {"q": "nätet"}).text
    english = client.post("/en/knowledge/search/", {"q": "online"}).text
    assert '<html lang="sv">' in swedish and "Sök bland texterna</h1>" in swedish
    assert '<html lang="en">' in english and "Sök bland texterna</h1>" not in english


def test_nothing_typed_is_kept_in_the_in_memory_fragments(client: Client, library):
    term = "zebrafinkhemlis"
    client.post("/kunskap/sok/", {"q": f"nätet {term}"})
    client.post("/en/knowledge/search/", {"q": term})
    client.get(f"/kunskap/sok/?q={term}")
    fragments = caches["template_fragments"]
    kept = fragments._cache  # type: ignore[attr-defined]  # LocMemCache's own store: keys and pickled values
    assert any(key.endswith("/kunskap/sok/") for key in kept), "the frame must be in the scanned store"
    for key, value in kept.items():
        assert term not in key
        assert term not in repr(pickle.loads(value))  # noqa: S301 - the process's own cache
