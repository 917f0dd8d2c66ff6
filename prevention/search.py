"""Article search that forgives: accents, inflections, slang and small misspellings.

PostgreSQL: full text over a stored, GIN-indexed ``search_document`` column,
built with the ``ecpat_swedish``/``ecpat_english`` configurations (``unaccent``
before the snowball stemmer, migration 0003), plus a synonyms list, plus a
trigram "Menade du …?" when full text finds few articles. SQLite (the embedded
mode): an honest, weaker fallback in Python with the same accent folding,
synonyms and suggestions.

The query is a function argument and nothing else: it is never logged, cached
or stored (see docs/prevention.md).
"""

import difflib
import functools
import html
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection
from django.db.models import Field
from django.utils.safestring import SafeString, mark_safe

from prevention.models import Article, SearchWord, article_url, article_urls, public_rule
from prevention.synonyms import synonyms_of

MAX_QUERY_LENGTH = 200
RESULT_LIMIT = 20
# Fewer full-text hits than this, and search looks for a better spelling.
FEW_RESULTS = 3
# At most this many words of a query are searched.
MAX_WORDS = 8
# PostgreSQL text search configurations, one per article language (migration 0003).
CONFIGS = {"sv": "ecpat_swedish", "en": "ecpat_english"}
# pg_trgm similarity a word needs to be offered as "Menade du …?"; difflib's ratio on SQLite.
TRIGRAM_THRESHOLD = 0.4
FALLBACK_SIMILARITY = 0.75
# Private-use characters reserved as highlight marks: rendering.plain_text strips
# them from bodies, so no article text or vocabulary word carries one.
MARK_START = "\ue000"
MARK_STOP = "\ue001"
# Words the vocabulary keeps: long enough to be worth suggesting, short enough to be words.
VOCABULARY_WORD_LENGTH = (3, 40)

# For the fallback: common Swedish and English endings, longest first.
_SUFFIXES = sorted(
    [
        "arnas",
        "ernas",
        "ornas",
        "heten",
        "arna",
        "erna",
        "orna",
        "ande",
        "ende",
        "ning",
        "ings",
        "ing",
        "het",
        "are",
        "ade",
        "ar",
        "er",
        "or",
        "en",
        "et",
        "na",
        "es",
        "ed",
        "s",
        "e",
        "a",
    ],
    key=len,
    reverse=True,
)
_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class FoundArticle:
    """What a hit shows of an article: plain values read once, not a model instance per search."""

    id: int
    language: str
    slug: str
    title: str
    summary: str
    body_text: str

    def get_absolute_url(self) -> str:
        return article_url(self.language, self.slug)

    @functools.cached_property
    def heading_html(self) -> str:
        # Escaped once per row version (the instance is remembered, see _found_articles).
        return f'<h3><a href="{{url}}">{html.escape(self.title)}</a></h3>\n      <p>{html.escape(self.summary)}</p>'

    @functools.cached_property
    def folded_body(self) -> str:
        """``fold(body_text)``, where snippets find the search terms: folded once per row version, like the heading."""
        return fold(self.body_text)

    @classmethod
    def of(cls, article: Article) -> "FoundArticle":
        return cls(article.pk, article.language, article.slug, article.title, article.summary, article.body_text)


@dataclass(frozen=True)
class SearchHit:
    article: FoundArticle
    snippet: SafeString


@dataclass(frozen=True)
class SearchResult:
    """What the search page shows.

    ``suggestion`` is a better-spelled query ("Menade du …?"); when the typed
    query found nothing, ``hits`` are already the suggestion's and
    ``showing_suggestion`` is true.
    """

    hits: list[SearchHit] = field(default_factory=list)
    suggestion: str | None = None
    showing_suggestion: bool = False

    @property
    def items_html(self) -> SafeString:
        """The result list's items, built here: the same loop in the template cost more than the search."""
        items = []
        urls = article_urls((hit.article.language, hit.article.slug) for hit in self.hits)
        for hit, url in zip(self.hits, urls, strict=True):
            heading = hit.article.heading_html.replace("{url}", html.escape(url), 1)
            snippet = f'\n      <p class="meta">{hit.snippet}</p>' if hit.snippet else ""
            items.append(f'<li class="article-item">\n      {heading}{snippet}\n    </li>')
        return mark_safe("\n    ".join(items))  # noqa: S308 - every value in it was escaped


def search(query: str, *, language: str) -> SearchResult:
    """Searches published articles in ``language``; offers a better spelling when few are found."""
    words = query_words(query)
    if not words:
        return SearchResult()
    hits = _search_words(words, language)
    if len(hits) >= FEW_RESULTS:
        return SearchResult(hits=hits)
    corrected = _corrected(words, language)
    if corrected is None:
        return SearchResult(hits=hits)
    better = _search_words(corrected, language)
    if len(better) <= len(hits):
        return SearchResult(hits=hits)
    suggestion = " ".join(corrected)
    if hits:
        return SearchResult(hits=hits, suggestion=suggestion)
    return SearchResult(hits=better, suggestion=suggestion, showing_suggestion=True)


def search_articles(query: str, *, language: str) -> list[SearchHit]:
    """Returns published articles in ``language`` that match ``query``, best first (no suggestion)."""
    return _search_words(query_words(query), language)


def query_words(query: str) -> list[str]:
    """The words of a query, lower case, in order, without repeats."""
    words = _WORD.findall(query.strip()[:MAX_QUERY_LENGTH].casefold())
    return list(dict.fromkeys(words))[:MAX_WORDS]


def _accent_table() -> dict[int, str]:
    # Latin letters with diacritics (Latin-1 Supplement, Extended-A and B) to their base letter.
    table = {}
    for code in range(0x00C0, 0x0250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and len(base) == 1:
            table[code] = base
    return table


_ACCENTS = _accent_table()
# The same, by character: ``fold`` replaces the few accented letters a text has, each
# with one ``str.replace``, which cost a tenth of ``str.translate`` looking up every character.
_ACCENTED = {chr(code): base for code, base in _ACCENTS.items()}


def fold(text: str) -> str:
    """Lower case without accents ("Nätet" -> "natet"), one character for one, so positions still match."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare letter ("İ") lowers to two; keep those as they are
        lowered = "".join(char.lower() if len(char.lower()) == 1 else char for char in text)
    if lowered.isascii():
        return lowered
    # A base letter is never accented itself, so the replacements do not chain: the same as translating.
    for accented in _ACCENTED.keys() & set(lowered):
        lowered = lowered.replace(accented, _ACCENTED[accented])
    return lowered


def vocabulary_words(*texts: str) -> set[str]:
    """The words of an article worth offering as "Menade du …?", lower case, accents kept."""
    shortest, longest = VOCABULARY_WORD_LENGTH
    return {
        word
        for text in texts
        for word in _LETTERS.findall(text.casefold())
        if shortest <= len(word) <= longest and MARK_START not in word
    }


def alternatives(word: str, language: str) -> list[str]:
    """The word and its synonyms, the typed word first."""
    others = sorted(synonyms_of(fold(word), language) - {word, fold(word)})
    return [word, *others]


def _search_words(words: list[str], language: str) -> list[SearchHit]:
    if not words:
        return []
    if connection.vendor == "postgresql":
        return _full_text(words, language)
    return _fallback(words, language)


def _full_text(words: list[str], language: str) -> list[SearchHit]:
    # One hand-written statement: building and compiling the same query through
    # the ORM (a tree of SearchQuery, SearchRank, RawSQL and the public rule)
    # cost more CPU per search than PostgreSQL took to answer it.
    # It reads only each hit's id and row version; the rest comes from _found_articles.
    groups = [alternatives(word, language) for word in words]
    query_sql, query_params = _tsquery(groups, language)
    rule_sql, rule_params = _public_rule_sql()
    params: list[Any] = [*query_params, language, *rule_params, RESULT_LIMIT]
    with _server_binding_cursor() as cursor:
        cursor.execute(
            f"SELECT article.id, article.xmin::text FROM {_TABLE} AS article"  # noqa: S608 - names and shapes only; values are parameters
            f" CROSS JOIN ({query_sql}) AS wanted"
            f" WHERE article.language = %s AND {rule_sql} AND article.search_document @@ wanted.query"
            " ORDER BY ts_rank(article.search_document, wanted.query) DESC, article.publish_at DESC LIMIT %s",
            params,
        )
        articles = _found_articles(cursor, cursor.fetchall())
    # Snippets in Python: ts_headline re-parses every body and cost more than the search itself.
    terms = _snippet_terms(groups)
    marked = snippets([(article.body_text, article.folded_body) for article in articles], terms)
    return [SearchHit(article=article, snippet=text) for article, text in zip(articles, marked, strict=True)]


def _server_binding_cursor() -> Any:
    """A cursor of the default connection that sends the values apart from the statement.

    Django's psycopg cursors bind values on the client: psycopg quotes each one
    in Python and splices it into the text, which cost more CPU than the rest of
    sending the statement (a search has a dozen values: each word's synonyms, the
    public rule). psycopg's own cursor sends them as parameters of the extended
    protocol, quoted by nothing. Wrapped like any Django cursor (errors become
    Django's, queries are logged where Django logs them); the connection's
    ``prepare_threshold`` (off, as Django sets it) still decides on prepared statements.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    # The stubs type these as taking a CursorWrapper; Django passes them the driver's cursor, as here.
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)  # type: ignore[arg-type]
    return connection.make_cursor(raw)  # type: ignore[arg-type]


# The articles hits showed, by id, with the row version they were read at
# (PostgreSQL's ``xmin``, new with every UPDATE however it is made: admin, service,
# migration or a hand-made fix). Article texts only, never anything about a query;
# bounded, and emptied when full.
_FOUND: dict[int, tuple[str, FoundArticle]] = {}
_FOUND_LIMIT = 4096


def _found_articles(cursor: Any, rows: list[tuple[int, str]]) -> list[FoundArticle]:
    """The hits' articles in ``rows``' order; reads only those not remembered at their current version."""
    known = {pk: entry for pk, version in rows if (entry := _FOUND.get(pk)) is not None and entry[0] == version}
    missing = [pk for pk, _ in rows if pk not in known]
    fresh: dict[int, tuple[str, FoundArticle]] = {}
    if missing:
        cursor.execute(
            f"SELECT article.xmin::text, {_COLUMNS} FROM {_TABLE} AS article WHERE article.id = ANY(%s)",  # noqa: S608 - names only; values are parameters
            [missing],
        )
        fresh = {row[1]: (row[0], FoundArticle(*row[1:])) for row in cursor.fetchall()}
        if len(_FOUND) + len(fresh) > _FOUND_LIMIT:
            _FOUND.clear()
        _FOUND.update(fresh)
    # A row changed between the two statements is shown as the second read it; one deleted in between is left out.
    return [entry[1] for pk, _ in rows if (entry := known.get(pk) or fresh.get(pk)) is not None]


@functools.cache
def _column(name: str) -> str:
    field = Article._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{name} is not a column of the article table")
    return str(field.column)


# What a hit needs (its address, title, summary and the text for its snippet), in
# FoundArticle's order. The stored, GIN-indexed ``search_document`` column
# is not modelled (SQLite has no tsvector), so it is named here.
_HIT_FIELDS = ("id", "language", "slug", "title", "summary", "body_text")
_TABLE = Article._meta.db_table
_COLUMNS = ", ".join(f"article.{_column(name)}" for name in _HIT_FIELDS)
# ``public_rule``'s lookups as SQL, so search applies the same rule as every list page.
# "in" is one parameter per choice: a list parameter cost more to send than the choices one by one.
_RULE_SQL = {"in": "IN ({})", "lte": "<= {}"}


def _public_rule_sql() -> tuple[str, list[object]]:
    conditions: list[str] = []
    params: list[object] = []
    for name, lookup, value in public_rule():
        values = [str(choice) for choice in value] if lookup == "in" else [value]
        conditions.append(f"article.{_column(name)} " + _RULE_SQL[lookup].format(", ".join(["%s"] * len(values))))
        params += values
    return " AND ".join(conditions), params


def _tsquery(groups: list[list[str]], language: str) -> tuple[str, list[str]]:
    """Every word must match, each through any of its synonyms: ``(a || a2) && (b)`` as one ``tsquery``.

    ``groups`` are each word's ``alternatives``.
    """
    config = CONFIGS.get(language, "simple")
    parts, params = [], []
    for synonyms in groups:
        parts.append("(" + " || ".join(["plainto_tsquery(%s::regconfig, %s)"] * len(synonyms)) + ")")
        for synonym in synonyms:
            params += [config, synonym]
    return "SELECT " + " && ".join(parts) + " AS query", params


def _snippet_terms(groups: list[list[str]]) -> list[str]:
    """Folded, crudely stemmed forms of the words and their synonyms (``groups``), for highlighting."""
    return sorted({stem(fold(alternative)) for synonyms in groups for alternative in synonyms})


def _corrected(words: list[str], language: str) -> list[str] | None:
    """The query with each unknown word replaced by the closest word in the articles, or None."""
    corrected = []
    for word in words:
        if len(word) < VOCABULARY_WORD_LENGTH[0] or len(alternatives(word, language)) > 1:
            corrected.append(word)
            continue
        corrected.append(_closest_word(word, language) or word)
    return corrected if corrected != words else None


def _closest_word(word: str, language: str) -> str | None:
    if connection.vendor == "postgresql":
        # "%" uses the trigram GIN index (migration 0003); similarity() orders what it found.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word FROM prevention_searchword WHERE language = %s AND word %% %s"
                " AND similarity(word, %s) >= %s ORDER BY similarity(word, %s) DESC, word LIMIT 1",
                [language, word, word, TRIGRAM_THRESHOLD, word],
            )
            row = cursor.fetchone()
        return row[0] if row else None
    vocabulary = list(SearchWord.objects.filter(language=language).values_list("word", flat=True))
    close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=FALLBACK_SIMILARITY)
    return close[0] if close else None


def stem(word: str) -> str:
    """A crude stem for the fallback: strips one common ending, keeping at least three letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _fallback(words: list[str], language: str) -> list[SearchHit]:
    # SQLite's LIKE folds only ASCII case (not å, ä, ö), so matching happens in
    # Python over the published articles of one language: fine for hundreds.
    # Each group is a word and its synonyms, folded and stemmed; one of each group must occur.
    groups = [
        sorted({stem(fold(alternative)) for alternative in alternatives(word, language)})
        for word in words
        if len(word) > 1
    ]
    if not groups:
        return []
    scored: list[tuple[int, Article, str]] = []
    for article in Article.objects.published().in_language(language).defer("body"):
        title, summary, body = fold(article.title), fold(article.summary), fold(article.body_text)
        if all(any(term in title or term in summary or term in body for term in group) for group in groups):
            terms = [term for group in groups for term in group]
            score = sum(3 * title.count(term) + 2 * summary.count(term) + body.count(term) for term in terms)
            scored.append((score, article, body))
    scored.sort(key=lambda found: (-found[0], -(found[1].publish_at.timestamp() if found[1].publish_at else 0)))
    every_term = [term for group in groups for term in group]
    best = scored[:RESULT_LIMIT]
    marked = snippets([(article.body_text, body) for _, article, body in best], every_term)
    return [
        SearchHit(article=FoundArticle.of(article), snippet=text)
        for (_, article, _), text in zip(best, marked, strict=True)
    ]


def snippets(bodies: list[tuple[str, str]], terms: list[str], width: int = 110) -> list[SafeString]:
    """``snippet`` for each ``(text, fold(text))`` pair, the terms prepared once.

    Bodies come folded by their holder (``FoundArticle.folded_body``, once per
    row version; the fallback folds them to match anyway), so a search folds no text.
    """
    words = _marking_terms(terms)
    return [_snippet(text, folded, words, width) for text, folded in bodies]


def snippet(text: str, terms: list[str], width: int = 110) -> SafeString:
    """A window of ``text`` around the first word that starts with a term, each such word marked.

    ``terms`` are folded (``fold``) words. The text is folded too, one character
    for one (``fold``), so "natet" finds "nätet" at the same position in the text
    and the text's own characters are marked.
    """
    return _snippet(text, fold(text), _marking_terms(terms), width)


def _marking_terms(terms: list[str]) -> tuple[str, ...]:
    r"""The terms a snippet looks for: folded words (``\w+``), without repeats.

    No regular expression is built from them: ``re.compile`` keeps the last few
    hundred patterns it compiled in the process, and a per-search pattern would
    keep recent search stems there (docs/prevention.md). They are found with
    ``str.find`` in the folded text, at a word's start (the character before is not
    a word character), and a marked word runs to its end by the static ``_WORD``.
    They key nothing. A term that is not one word (search makes none) marks nothing.
    """
    return tuple(dict.fromkeys(term for term in map(fold, terms) if term and all(map(_is_word_char, term))))


def _is_word_char(char: str) -> bool:
    # What ``\w`` matches, one character (a test checks it for every code point).
    return char.isalnum() or char == "_"


def _first_word_start(folded: str, terms: tuple[str, ...]) -> int | None:
    """Where the first word starting with a term starts in ``folded``, or None."""
    first = None
    for term in terms:
        # Only an occurrence starting before the earliest found so far can be earlier.
        limit = len(folded) if first is None else first + len(term) - 1
        position = folded.find(term, 0, limit)
        while position > 0 and _is_word_char(folded[position - 1]):
            position = folded.find(term, position + 1, limit)
        if position >= 0:
            first = position
    return first


def _word_starts(folded: str, terms: tuple[str, ...], start: int, end: int) -> list[int]:
    """Where words starting with a term start in ``folded[start:end]``, in order (the term wholly inside)."""
    starts = set()
    for term in terms:
        position = folded.find(term, start, end)
        while position >= 0:
            if position == 0 or not _is_word_char(folded[position - 1]):
                starts.add(position)
            position = folded.find(term, position + 1, end)
    return sorted(starts)


def _snippet(text: str, folded: str, terms: tuple[str, ...], width: int) -> SafeString:
    first = _first_word_start(folded, terms) if terms else None
    centre = first or 0
    start = max(0, centre - width)
    end = min(len(text), centre + width)
    start = text.rfind(" ", 0, start) + 1 if start else 0
    pieces = ["… "] if start else []
    cursor = start
    for begin in _word_starts(folded, terms, start, end) if first is not None else ():
        # The whole word is marked, up to the window's end; the text's own characters, at the folded positions.
        word = _WORD.match(folded, begin, end)
        stop = word.end() if word else begin
        pieces += [html.escape(text[cursor:begin]), "<mark>", html.escape(text[begin:stop]), "</mark>"]
        cursor = stop
    pieces.append(html.escape(text[cursor:end]))
    if end < len(text):
        pieces.append(" …")
    # Every piece of the text was escaped above. SafeString directly: mark_safe's
    # check for lazy arguments cost as much as a short snippet's marking.
    return SafeString("".join(pieces))
