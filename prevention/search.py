"""Article search: PostgreSQL full text, or an honest, weaker fallback on SQLite.

The query is a function argument and nothing else: it is never logged, cached
or stored (see docs/prevention.md).
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from prevention.models import Article

MAX_QUERY_LENGTH = 200
RESULT_LIMIT = 20
# PostgreSQL text search configurations, one per article language.
CONFIGS = {"sv": "swedish", "en": "english"}
# Private-use characters mark highlights, so the snippet can be escaped first
# and the marks put back afterwards (rendering.plain_text strips them from bodies).
MARK_START = "\ue000"
MARK_STOP = "\ue001"

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


@dataclass(frozen=True)
class SearchHit:
    article: Article
    snippet: SafeString


def search_articles(query: str, *, language: str) -> list[SearchHit]:
    """Returns published articles in ``language`` that match ``query``, best first."""
    query = query.strip()[:MAX_QUERY_LENGTH]
    if not _WORD.search(query):
        return []
    if connection.vendor == "postgresql":
        return _full_text(query, language)
    return _fallback(query, language)


def highlight(snippet: str) -> SafeString:
    """Escapes a snippet, then turns the private marks into ``<mark>`` tags."""
    opened = False
    parts: list[str] = []
    for piece in re.split(f"([{MARK_START}{MARK_STOP}])", snippet):
        if piece == MARK_START and not opened:
            parts.append("<mark>")
            opened = True
        elif piece == MARK_STOP and opened:
            parts.append("</mark>")
            opened = False
        elif piece not in (MARK_START, MARK_STOP):
            parts.append(str(escape(piece)))
    if opened:
        parts.append("</mark>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece was escaped above


def _full_text(query: str, language: str) -> list[SearchHit]:
    config = CONFIGS.get(language, "simple")
    vector = (
        SearchVector("title", weight="A", config=config)
        + SearchVector("summary", weight="B", config=config)
        + SearchVector("body_text", weight="C", config=config)
    )
    search_query = SearchQuery(query, search_type="websearch", config=config)
    articles = (
        Article.objects.published()
        .in_language(language)
        .annotate(
            document=vector,
            rank=SearchRank(vector, search_query),
            snippet=SearchHeadline(
                "body_text",
                search_query,
                config=config,
                start_sel=MARK_START,
                stop_sel=MARK_STOP,
                max_words=35,
                min_words=15,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .filter(document=search_query)
        .defer("body")
        .order_by("-rank", "-publish_at")[:RESULT_LIMIT]
    )
    return [SearchHit(article=article, snippet=highlight(getattr(article, "snippet", ""))) for article in articles]


def stem(word: str) -> str:
    """A crude stem for the fallback: strips one common ending, keeping at least three letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _fallback(query: str, language: str) -> list[SearchHit]:
    # SQLite's LIKE folds only ASCII case (not å, ä, ö), so matching happens in
    # Python over the published articles of one language: fine for hundreds.
    terms = sorted({stem(word) for word in _WORD.findall(query.casefold()) if len(word) > 1})[:8]
    if not terms:
        return []
    scored: list[tuple[int, Article]] = []
    for article in Article.objects.published().in_language(language).defer("body"):
        title, summary, body = article.title.casefold(), article.summary.casefold(), article.body_text.casefold()
        if all(term in title or term in summary or term in body for term in terms):
            score = sum(3 * title.count(term) + 2 * summary.count(term) + body.count(term) for term in terms)
            scored.append((score, article))
    scored.sort(key=lambda pair: (-pair[0], -(pair[1].publish_at.timestamp() if pair[1].publish_at else 0)))
    return [SearchHit(article=article, snippet=_fallback_snippet(article.body_text, terms)) for _, article in scored][
        :RESULT_LIMIT
    ]


def _fallback_snippet(text: str, terms: list[str], width: int = 110) -> SafeString:
    folded = text.casefold()
    positions = [folded.find(term) for term in terms if term in folded]
    centre = min(positions) if positions else 0
    start = max(0, centre - width)
    end = min(len(text), centre + width)
    start = text.rfind(" ", 0, start) + 1 if start else 0
    window = text[start:end]
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    marked = pattern.sub(lambda match: f"{MARK_START}{match.group(0)}{MARK_STOP}", window)
    prefix = "… " if start else ""
    suffix = " …" if end < len(text) else ""
    return highlight(f"{prefix}{marked}{suffix}")
