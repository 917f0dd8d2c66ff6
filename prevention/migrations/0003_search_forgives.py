"""Search that forgives: accent-free text search configurations, a stored GIN-indexed
search column, a trigram index for "Menade du …?", and the vocabulary of the
articles already published.

PostgreSQL only; on SQLite (the embedded mode) the schema steps do nothing and
prevention.search falls back to matching in Python.

``unaccent()`` the function is not IMMUTABLE, so a generated column cannot call
it. Here it is a *dictionary* inside the text search configuration instead:
``to_tsvector(regconfig, text)`` is IMMUTABLE, so the column can be generated
and the database keeps it current on every insert and update, with no trigger
and no wrapper function.
"""

from typing import Any

from django.db import migrations

# The configurations copy the built-in ones, then fold accents before stemming
# ("nätet" and "natet" become the same lexeme). Swedish stop words are matched
# before unaccent, while "är" and "på" still look like stop words.
FORWARD = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TEXT SEARCH DICTIONARY ecpat_swedish_stop (TEMPLATE = simple, STOPWORDS = swedish, ACCEPT = false);
CREATE TEXT SEARCH CONFIGURATION ecpat_swedish (COPY = swedish);
ALTER TEXT SEARCH CONFIGURATION ecpat_swedish
    ALTER MAPPING FOR word, hword, hword_part WITH ecpat_swedish_stop, unaccent, swedish_stem;

CREATE TEXT SEARCH CONFIGURATION ecpat_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION ecpat_english
    ALTER MAPPING FOR word, hword, hword_part WITH unaccent, english_stem;

ALTER TABLE prevention_article ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(CASE WHEN language = 'en' THEN 'ecpat_english'::regconfig
                               ELSE 'ecpat_swedish'::regconfig END, coalesce(title, '')), 'A')
    || setweight(to_tsvector(CASE WHEN language = 'en' THEN 'ecpat_english'::regconfig
                                  ELSE 'ecpat_swedish'::regconfig END, coalesce(summary, '')), 'B')
    || setweight(to_tsvector(CASE WHEN language = 'en' THEN 'ecpat_english'::regconfig
                                  ELSE 'ecpat_swedish'::regconfig END, coalesce(body_text, '')), 'C')
) STORED;
-- Kept in the row (compressed) rather than out of line in TOAST: when a common
-- word matches half the articles PostgreSQL rightly scans the table, and
-- fetching every vector from TOAST made that scan about seven times slower.
-- Existing rows were written by ADD COLUMN, so they are rewritten once, last
-- (the update leaves deferred foreign-key checks pending, and CREATE INDEX
-- refuses to run after that in the same transaction).
ALTER TABLE prevention_article ALTER COLUMN search_document SET STORAGE MAIN;
CREATE INDEX prevention_article_search ON prevention_article USING gin (search_document);
CREATE INDEX prevention_searchword_trigram ON prevention_searchword USING gin (word gin_trgm_ops);
UPDATE prevention_article SET title = title;
"""

# The extensions stay: other databases objects may have come to rely on them.
BACKWARD = """
DROP INDEX IF EXISTS prevention_searchword_trigram;
DROP INDEX IF EXISTS prevention_article_search;
ALTER TABLE prevention_article DROP COLUMN IF EXISTS search_document;
DROP TEXT SEARCH CONFIGURATION IF EXISTS ecpat_english;
DROP TEXT SEARCH CONFIGURATION IF EXISTS ecpat_swedish;
DROP TEXT SEARCH DICTIONARY IF EXISTS ecpat_swedish_stop;
"""


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


def vocabulary(apps: Any, schema_editor: Any) -> None:
    """The words of the articles already public, as prevention.services adds them on save."""
    from django.db.models import Q
    from django.utils import timezone

    from prevention.search import vocabulary_words

    Article = apps.get_model("prevention", "Article")
    SearchWord = apps.get_model("prevention", "SearchWord")
    public = Article.objects.filter(Q(status__in=["published", "scheduled"]), publish_at__lte=timezone.now())
    for article in public.only("language", "title", "summary", "body_text"):
        words = vocabulary_words(article.title, article.summary, article.body_text)
        SearchWord.objects.bulk_create(
            [SearchWord(language=article.language, word=word) for word in sorted(words)], ignore_conflicts=True
        )


class Migration(migrations.Migration):
    dependencies = [
        ("prevention", "0002_topic_english_slug_fact_check_search_words"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
        migrations.RunPython(vocabulary, migrations.RunPython.noop),
    ]
