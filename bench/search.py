"""Article search with 2,000 articles, beside a trivial list query in the same run.

Creates a throw-away test database (migrations included), fills it with 2,000
published articles in two languages built from the project's own texts, then
times, interleaved round by round:

* list      - the newest 20 articles of a language (what a list page asks): the baseline
* search    - prevention.search.search(): stored GIN-indexed vector, synonyms, headline
              snippets, and the trigram "Menade du …?" path when a query finds few
* query-time - the previous approach: the vector computed from every article per query
              (slow by design, so only in the first --query-time-rounds rounds)

Each query is timed end to end in Python (ORM, snippets, result objects).
Target: search p95 < 20 ms.

Run (needs PostgreSQL):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ecpat_bench .venv/bin/python bench/search.py
Noisy machines: compare the ratios to the list query, not the absolute numbers.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecpat_site.settings.test")

import django

django.setup()

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from prevention.management.commands.seed_articles import CONTENT_DIR, read_article  # noqa: E402
from prevention.models import Article, SearchWord  # noqa: E402
from prevention.rendering import plain_text, reading_minutes  # noqa: E402
from prevention.search import CONFIGS, search, vocabulary_words  # noqa: E402

QUERIES = [
    ("sv", "nätet"),  # common: many matches, ranking and snippets for 20
    ("sv", "natet"),  # without accents
    ("sv", "grooming"),
    ("sv", "groomad"),  # slang, through the synonyms
    ("sv", "nudes"),
    ("sv", "hot på nätet"),  # several words
    ("sv", "groming"),  # misspelled: full text finds nothing, trigram suggests
    ("sv", "utpresning"),
    ("sv", "polisanmälan skärmdump"),
    ("en", "pictures"),
    ("en", "blackmailed"),
    ("en", "pictres"),  # misspelled, English
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fill(count: int) -> None:
    """``count`` published articles, half per language, from the project's texts with mixed paragraphs."""
    texts = {lang: [read_article(path) for path in sorted(CONTENT_DIR.glob(f"*.{lang}.md"))] for lang in ("sv", "en")}
    now = timezone.now()
    articles = []
    for n in range(count):
        language = "sv" if n % 2 == 0 else "en"
        pool = texts[language]
        main = pool[n % len(pool)]
        # A second text's paragraphs make each body distinct and article-sized.
        extra = pool[(n * 7 + 3) % len(pool)].body
        body = f"{main.body}\n\n{extra}"
        body_text = plain_text(body)
        articles.append(
            Article(
                language=language,
                slug=f"{main.slug}-{n}",
                title=f"{main.title} ({n})",
                summary=main.summary,
                body=body,
                body_text=body_text,
                reading_minutes=reading_minutes(body_text),
                for_children=True,
                status=Article.Status.PUBLISHED,
                publish_at=now - datetime.timedelta(minutes=n),
            )
        )
    Article.objects.bulk_create(articles, batch_size=200)
    words = {(a.language, w) for a in articles for w in vocabulary_words(a.title, a.summary, a.body_text)}
    SearchWord.objects.bulk_create(
        [SearchWord(language=lang, word=w) for lang, w in sorted(words)], ignore_conflicts=True, batch_size=2000
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE prevention_article; ANALYZE prevention_searchword")


def newest_list(language: str, query: str) -> Any:
    return list(Article.objects.published().in_language(language).for_listing()[:20])


def forgiving_search(language: str, query: str) -> Any:
    return search(query, language=language).hits


def query_time_vector(language: str, query: str) -> Any:
    """The approach before migration 0003: the vector computed per article per query."""
    config = CONFIGS[language]
    vector = (
        SearchVector("title", weight="A", config=config)
        + SearchVector("summary", weight="B", config=config)
        + SearchVector("body_text", weight="C", config=config)
    )
    search_query = SearchQuery(query, search_type="websearch", config=config)
    return list(
        Article.objects.published()
        .in_language(language)
        .annotate(document=vector, rank=SearchRank(vector, search_query))
        .filter(document=search_query)
        .defer("body")
        .order_by("-rank")[:20]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=25, help="each round times every query once per method")
    parser.add_argument(
        "--query-time-rounds", type=int, default=2, help="rounds that also time the slow query-time vector (0: none)"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("needs PostgreSQL: set DATABASE_URL")

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        fill(args.articles)
        methods: dict[str, Callable[[str, str], Any]] = {"list": newest_list, "search": forgiving_search}
        if args.query_time_rounds:
            methods["query-time"] = query_time_vector
        timings: dict[str, list[float]] = {name: [] for name in methods}
        for method in methods.values():  # warm caches and connections once
            for language, query in QUERIES:
                method(language, query)
        for round_number in range(args.rounds):
            for name, method in methods.items():
                if name == "query-time" and round_number >= args.query_time_rounds:
                    continue
                for language, query in QUERIES:
                    start = time.perf_counter()
                    method(language, query)
                    timings[name].append((time.perf_counter() - start) * 1000)
        load = os.getloadavg()[0]
        print(
            f"{args.articles} articles, {args.rounds} rounds x {len(QUERIES)} queries, interleaved; load {load:.1f}\n"
        )
        print("| method | queries | p50 ms | p95 ms | p99 ms | mean ms | p95 / list p95 |")
        print("|---|---|---|---|---|---|---|")
        base = percentile(timings["list"], 0.95)
        for name, values in timings.items():
            p95 = percentile(values, 0.95)
            print(
                f"| {name} | {len(values)} | {percentile(values, 0.50):.2f} | {p95:.2f} | "
                f"{percentile(values, 0.99):.2f} | {statistics.fmean(values):.2f} | {p95 / base:.1f} |"
            )
        per_query: dict[str, list[float]] = {q: [] for _, q in QUERIES}
        for i, value in enumerate(timings["search"]):
            per_query[QUERIES[i % len(QUERIES)][1]].append(value)
        print("\nsearch, per query: p95 ms")
        for (language, query), values in zip(QUERIES, per_query.values(), strict=True):
            print(f"  {language} {query!r}: {percentile(values, 0.95):.2f}")
        verdict = "meets" if percentile(timings["search"], 0.95) < 20 else "MISSES"
        print(f"\nsearch p95 {verdict} the 20 ms target")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
