"""What the search page does once instead of per search must not change what it shows or keep what was typed."""

import html
import pickle
import random
import re
import sys
import types
from typing import Any

import pytest
from django.core.cache import caches
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation
from django.utils.safestring import mark_safe

from prevention import caching, search_page
from prevention.forms import SearchForm
from prevention.models import article_url, article_urls
from prevention.search import (
    _ACCENTS,
    FoundArticle,
    SearchHit,
    SearchResult,
    _fallback,
    _is_word_char,
    fold,
    query_words,
    search,
    snippet,
    snippets,
)
from prevention.search_page import search_body

pytestmark = pytest.mark.django_db


# The pattern-based highlighter this module replaced, kept as the reference: each letter
# of a folded term a class of its accented forms, matched case-insensitively in the
# unfolded text. It compiles a pattern per search, which ``re`` keeps in its cache.
_VARIANTS: dict[str, list[str]] = {}
for _code, _base in _ACCENTS.items():
    _VARIANTS.setdefault(_base.lower(), []).append(chr(_code))


def _letter_class_as_before(letter: str) -> str:
    variants = [letter, *_VARIANTS.get(letter, [])]
    return f"[{''.join(re.escape(variant) for variant in variants)}]" if len(variants) > 1 else re.escape(letter)


def _snippet_as_before(text: str, terms: list[str], width: int = 110) -> str:
    alternatives = ["".join(map(_letter_class_as_before, term)) for term in sorted(terms) if term]
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")\w*", re.IGNORECASE) if alternatives else None
    first = pattern.search(text) if pattern else None
    centre = first.start() if first else 0
    start = max(0, centre - width)
    end = min(len(text), centre + width)
    start = text.rfind(" ", 0, start) + 1 if start else 0
    pieces = ["… "] if start else []
    cursor = start
    for match in pattern.finditer(text, start, end) if pattern else ():
        pieces += [html.escape(text[cursor : match.start()]), "<mark>", html.escape(match.group()), "</mark>"]
        cursor = match.end()
    pieces.append(html.escape(text[cursor:end]))
    if end < len(text):
        pieces.append(" …")
    return "".join(pieces)


# Where the two knowingly differ. ``re.IGNORECASE`` also treats as one letter some pairs
# that lower case does not fold together: dotless i (U+0131) and i, I with a dot (U+0130)
# and i (``fold`` keeps U+0130, which lowers to two characters, as "I"), long s (U+017F)
# and s, U+1E9B and U+1E61, the micro sign and Greek mu, Greek symbol forms (beta, theta,
# phi, pi, kappa, rho and lunate epsilon symbols; final sigma) and old Cyrillic letter
# forms (U+1C80-U+1C88). The new highlighter does not mark "stor" in "\u017ftor" or
# "istanbul" in "\u0130stanbul". The Kelvin sign (U+212A) and the Angstrom sign (U+212B)
# lower to k and the Swedish a with ring, so both still match as before.
_DIFFERENT = "\u0130\u0131\u017f\u1e9b\u00b5"


def _new(text: str, terms: list[str], width: int = 110) -> str:
    # Both entry points: ``snippet`` folds the text, ``snippets`` takes it folded.
    one = snippet(text, terms, width)
    assert snippets([(text, fold(text))], terms, width) == [one]
    return str(one)


def _fold_as_before(text: str) -> str:
    # ``fold`` translating every character through the accent table.
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(char.lower() if len(char.lower()) == 1 else char for char in text)
    return lowered.translate(_ACCENTS)


def test_the_word_test_is_what_backslash_w_matches_in_text_and_folded_text():
    word = re.compile(r"\w")
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        folded = fold(char)
        assert folded == _fold_as_before(char), hex(code)
        assert len(folded) == 1, hex(code)
        assert _is_word_char(char) is bool(word.match(char)) is _is_word_char(folded), hex(code)


def test_fold_replaces_as_the_accent_table_translated():
    for text in (_TEXT, _TEXT.upper(), "\u0130stanbul \u00c5SA \u00e5sa", "ascii only", "", "\u00e9\u00c9e"):
        assert fold(text) == _fold_as_before(text)
        assert len(fold(text)) == len(text)


def test_every_accented_latin_letter_is_marked_as_before():
    for code, base in _ACCENTS.items():
        accented = chr(code)
        if accented in _DIFFERENT:
            continue
        word = f"x{accented}yz"
        text = f"Före {word} och {base}yz efter, {word.upper()} sist."
        terms = [fold(word)]
        marked = _new(text, terms)
        assert f"<mark>{word}</mark>" in marked, hex(code)
        assert marked == _snippet_as_before(text, terms), hex(code)
        assert _new(text, [fold(accented) + "yz"]) == _snippet_as_before(text, [fold(accented) + "yz"]), hex(code)


# Words and non-words around them: every accented Latin letter at the start, inside and
# after a word, capitals, digits, underscores, line breaks and punctuation.
_LETTERS = "".join(chr(code) for code in _ACCENTS if chr(code) not in _DIFFERENT)
_TEXT = " ".join(
    [
        "Nätet NÄTET nätets ónline Online-nätet _nätet 9nätet internet\ninternetet in-ternet",
        *(f"{letter}a a{letter}a {letter.upper()}{letter} -{letter}x\n{letter}" for letter in _LETTERS),
        "Ærlig Œuvre ßtraße Kelvin \u212aelvin \u212bsa naïve café Åsa östra ÖSTRA <b>&amp;</b>",
    ]
)


@pytest.mark.parametrize(
    "terms",
    [
        ("intern", "nat", "onlin"),
        ("nat",),
        ("a",),
        ("o", "os", "ost"),
        ("cafe", "naiv", "asa", "ostra", "kelvin", "ærlig", "strass"),
        tuple(sorted({fold(letter) + "a" for letter in _LETTERS})),
        ("_natet", "9natet", "natets"),
        ("zzz",),
    ],
)
def test_the_snippets_are_the_pattern_based_ones(terms):
    # Every window position (the text cut at many places), narrow and wide windows so
    # words fall on the edges, in the text's own case, upper case and title case.
    for text in (_TEXT, _TEXT.upper(), _TEXT.title()):
        for cut in range(0, len(text), 23):
            for width in (7, 40, 110):
                assert _new(text[cut:], list(terms), width) == _snippet_as_before(text[cut:], list(terms), width), (
                    cut,
                    width,
                )


def test_random_texts_give_the_pattern_based_snippets():
    alphabet = _LETTERS + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZåäöÅÄÖ0123456789_"
    separators = [" ", " ", " ", "\n", "-", ", ", ". ", "'", "<", "&", "  "]
    rng = random.Random(14)
    for _ in range(300):
        words = ["".join(rng.choices(alphabet, k=rng.randint(1, 9))) for _ in range(rng.randint(1, 60))]
        text = "".join(word + rng.choice(separators) for word in words)
        picked = rng.sample(words, k=min(len(words), rng.randint(1, 4)))
        terms = [fold(word[: rng.randint(1, len(word))]) for word in picked]
        width = rng.choice([5, 20, 60, 110])
        assert _new(text, terms, width) == _snippet_as_before(text, terms, width), (text, terms, width)


def test_where_the_highlighters_knowingly_differ():
    text = "\u017ftor \u0130stanbul \u0131l\u0131k \u00b5g stor istanbul ilik"
    assert _snippet_as_before(text, ["stor", "istanbul", "ilik"]).count("<mark>") == 6  # all but "\u00b5g"
    assert _new(text, ["stor", "istanbul", "ilik"]) == (
        "\u017ftor \u0130stanbul \u0131l\u0131k \u00b5g <mark>stor</mark> <mark>istanbul</mark> <mark>ilik</mark>"
    )
    # A term that is not one word marks nothing (search makes none: query words and synonyms are words).
    assert "<mark>" in _snippet_as_before("in-ternet", ["in-ternet"])
    assert _new("in-ternet a b", ["in-ternet", "a b"]) == "in-ternet a b"


_SEARCHED = "zebrafinkarnas"  # typed; its crude stem "zebrafink" is what the snippets look for
_STEM = "zebrafink"


# A class of a letter's forms ("[aàá…]") read as its first letter, so a pattern spells its words.
_LETTER_CLASS = re.compile(r"\[(.)[^\]]*\]")


def _spells(pattern: str, text: str) -> bool:
    return text in pattern or text in _LETTER_CLASS.sub(r"\1", pattern)


def _in_re_cache(text: str) -> bool:
    caches = [getattr(re, name) for name in ("_cache", "_cache2") if isinstance(getattr(re, name, None), dict)]
    assert caches, "re keeps no dict cache by these names any more: check the recorder below instead"
    return any(_spells(repr(key), text) for cache in caches for key in list(cache))


def _holds(value: object, text: str, depth: int = 0, seen: set[int] | None = None) -> bool:
    """Whether ``text`` is in ``value``'s strings, its containers' or its instance attributes', a few levels down."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 6:
        return False
    seen.add(id(value))
    if isinstance(value, str | bytes):
        return text in (value if isinstance(value, str) else value.decode("utf-8", "replace"))
    if isinstance(value, re.Pattern):
        return text in str(value.pattern)
    if isinstance(value, dict):
        return any(
            _holds(key, text, depth + 1, seen) or _holds(item, text, depth + 1, seen) for key, item in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds(item, text, depth + 1, seen) for item in value)
    if isinstance(value, types.ModuleType | type | types.FunctionType | types.BuiltinFunctionType):
        return False
    attributes = getattr(value, "__dict__", None)
    return isinstance(attributes, dict) and _holds(attributes, text, depth + 1, seen)


def _prevention_holds(text: str) -> list[str]:
    return [
        f"{name}.{attribute}"
        for name, module in list(sys.modules.items())
        if name == "prevention" or name.startswith("prevention.")
        for attribute, value in vars(module).items()
        if not attribute.startswith("__") and _holds(value, text)
    ]


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """Every pattern ``re`` compiles from here on (``re.compile`` and the module functions call ``_compile``)."""
    seen: list[str] = []
    name = "_compile" if hasattr(re, "_compile") else "compile"
    original = getattr(re, name)

    def recording(pattern: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(repr(pattern))
        return original(pattern, *args, **kwargs)

    monkeypatch.setattr(re, name, recording)
    re.purge()
    return seen


@pytest.mark.services
def test_no_search_term_reaches_the_regex_cache_or_stays_in_prevention(client: Client, make_article, compiled):
    make_article(slug="finkar", title="Fåglar", body="Om zebrafinkar och andra fåglar på nätet.")
    # The recorder and the cache scan see a per-search pattern: the old highlighter's.
    _snippet_as_before("zebrafinkar", [_STEM])
    assert _in_re_cache(_STEM) and any(_spells(pattern, _STEM) for pattern in compiled)
    re.purge()
    compiled.clear()

    hits = search(_SEARCHED, language="sv").hits  # PostgreSQL full text
    assert [hit.article.slug for hit in hits] == ["finkar"] and "<mark>zebrafinkar</mark>" in hits[0].snippet
    fallback = _fallback(query_words(_SEARCHED), "sv")  # the embedded mode's path
    assert "<mark>zebrafinkar</mark>" in fallback[0].snippet
    assert "<mark>zebrafinkar</mark>" in snippet("Om zebrafinkar.", [_STEM])
    assert "<mark>zebrafinkar</mark>" in snippets([("Om zebrafinkar.", "om zebrafinkar.")], [_STEM])[0]
    page = client.post("/kunskap/sok/", {"q": _SEARCHED})
    assert "<mark>zebrafinkar</mark>" in page.text

    assert not _in_re_cache(_STEM) and not _in_re_cache(_SEARCHED)
    assert not [pattern for pattern in compiled if _spells(pattern, _STEM)]
    # The article's own text is remembered with its row (it holds the stem); what was typed is nowhere.
    assert _prevention_holds("zebrafinkar"), "the scan must reach the remembered articles"
    assert not _prevention_holds(_SEARCHED)


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
    client.post("/kunskap/sok/", {"q": f"<{term}>" * 40})  # too long: the error and what was typed
    client.post("/kunskap/sok/", {"q": "natt"})  # a suggestion ("Menade du …?")
    client.get(f"/kunskap/sok/?q={term}")
    fragments = caches["template_fragments"]
    kept = fragments._cache  # type: ignore[attr-defined]  # LocMemCache's own store: keys and pickled values
    for key, value in kept.items():
        assert term not in key
        assert term not in repr(pickle.loads(value))  # noqa: S301 - the process's own cache
    frames = caching._frames
    assert any("/kunskap/sok/" in key for key in frames), "the page frame must be in the scanned store"
    assert any(search_page.BODY_TEMPLATE in key for key in frames), "the body frames must be in the scanned store"
    assert term not in repr(frames)


def _hit(n: int, language: str = "sv") -> SearchHit:
    article = FoundArticle(n, language, f"artikel-{n}", f"Titel {n} <&>", f'Ingress {n} "citat"', "Brödtext.")
    return SearchHit(article=article, snippet=mark_safe(f"… på <mark>nätet</mark> {n} …"))  # noqa: S308 - a constant


def _bodies(data: dict[str, str] | None, result: SearchResult | None) -> tuple[str, str]:
    """``search_body`` and the template rendered whole, for the same form and result."""
    form = SearchForm(data)
    form.is_valid()
    whole = render_to_string(search_page.BODY_TEMPLATE, {"form": form, "result": result})
    return search_body(form, result), whole


_TYPED = ["nätet", "<b>\"x\" & 'y'</b>", "  spaces around  ", "\ue002\ue003 marks typed {url}"]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_search_body_is_its_template_rendered_for_every_shape(language):
    with translation.override(language):
        cases: list[tuple[dict[str, str] | None, SearchResult | None]] = [(None, None)]
        # Errors: nothing, only spaces, too long, a null character; what was typed is kept.
        cases += [({"q": typed}, None) for typed in ("", "   ", "<x>" * 70, "a\x00b")]
        for typed in _TYPED:
            for count in (0, 1, 2, 20):
                hits = [_hit(n, language) for n in range(count)]
                cases.append(({"q": typed}, SearchResult(hits=hits)))
                cases.append(({"q": typed}, SearchResult(hits=hits, suggestion=f"{typed} <rättat>")))
                cases.append(
                    ({"q": typed}, SearchResult(hits=hits, suggestion=f"rättat {typed}", showing_suggestion=True))
                )
        for data, result in cases * 2:  # the second time from the kept frames
            framed, whole = _bodies(data, result)
            assert framed == whole, (data, result)


def test_a_body_frame_keeps_no_value():
    with translation.override("sv"):
        first, _ = _bodies({"q": "första"}, SearchResult(hits=[_hit(1)], suggestion="förslag"))
        second, whole = _bodies({"q": "andra"}, SearchResult(hits=[_hit(2)], suggestion="annat"))
    assert "första" in first and "förslag" in first
    assert second == whole and "första" not in second and "förslag" not in second and "Titel 1 " not in second


def test_forms_that_share_the_words_field_keep_their_own_data_and_errors():
    too_long, empty, fine = SearchForm({"q": "x" * 201}), SearchForm({"q": " "}), SearchForm({"q": " nätet "})
    assert not too_long.is_valid() and not empty.is_valid() and fine.is_valid()
    assert fine.cleaned_data == {"q": "nätet"} and not fine.errors
    assert too_long.errors["q"] == ["Skriv högst 200 tecken."]
    assert empty.errors["q"] == ["Skriv ett eller flera ord att söka efter."]
    assert too_long["q"].value() == "x" * 201 and empty["q"].value() == " "
