"""Loads the articles the project writes (prevention/content/) into the database.

Idempotent: an article or topic that already exists is left as the editors
have it, unless ``--update`` is given. ``make run`` calls it after ``seed_demo``.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from prevention import services
from prevention.models import Article, Topic

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
# When the texts in prevention/content were last fact-checked against their sources (see each "Källor").
CONTENT_REVIEWED = datetime.date(2026, 12, 2)


@dataclass(frozen=True)
class ArticleText:
    slug: str
    title: str
    summary: str
    audiences: list[str]
    topics: list[str]
    body: str


def read_article(path: Path) -> ArticleText:
    """Parses ``key: value`` lines, a ``---`` line, then the Markdown body."""
    header, separator, body = path.read_text(encoding="utf-8").partition("\n---\n")
    if not separator:
        raise CommandError(f"{path.name}: no '---' line between header and body")
    fields: dict[str, str] = {}
    for line in header.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip().strip('"')
    try:
        return ArticleText(
            slug=fields["slug"],
            title=fields["title"],
            summary=fields["summary"],
            audiences=[a.strip() for a in fields["audiences"].split(",") if a.strip()],
            topics=[t.strip() for t in fields.get("topics", "").split(",") if t.strip()],
            body=body.strip() + "\n",
        )
    except KeyError as missing:
        raise CommandError(f"{path.name}: missing {missing}") from None


def read_topics(path: Path) -> list[dict[str, str]]:
    topics = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        slug, slug_en, name_sv, name_en, description_sv, description_en = (part.strip() for part in line.split("|"))
        topics.append(
            {
                "slug": slug,
                "slug_en": slug_en,
                "name_sv": name_sv,
                "name_en": name_en,
                "description_sv": description_sv,
                "description_en": description_en,
            }
        )
    return topics


class Command(BaseCommand):
    help = "Loads the project's own articles in Swedish and English (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update", action="store_true", help="Overwrite existing articles and topics with the files' text."
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        update: bool = options["update"]
        topics = self._topics(update)
        created = kept = 0
        now = timezone.now()
        for index, swedish_path in enumerate(sorted(CONTENT_DIR.glob("*.sv.md"))):
            # Lists show the newest first: the first file gets the latest time.
            published = now - datetime.timedelta(minutes=index)
            english_path = swedish_path.with_name(swedish_path.name.replace(".sv.md", ".en.md"))
            if not english_path.exists():
                raise CommandError(f"{swedish_path.name} has no English version")
            original, was_created = self._article(read_article(swedish_path), "sv", None, topics, update, published)
            created, kept = created + was_created, kept + (not was_created)
            _, was_created = self._article(read_article(english_path), "en", original, topics, update, published)
            created, kept = created + was_created, kept + (not was_created)
        self.stdout.write(self.style.SUCCESS(f"Articles: {created} created, {kept} already there."))

    def _topics(self, update: bool) -> dict[str, Topic]:
        found: dict[str, Topic] = {}
        for position, data in enumerate(read_topics(CONTENT_DIR / "topics.txt")):
            topic = Topic.objects.filter(slug=data["slug"]).first()
            if topic is None or update:
                topic = topic or Topic(slug=data["slug"])
                for name, value in data.items():
                    setattr(topic, name, value)
                topic.position = position
                topic.full_clean()
                services.topic_save(topic=topic)
            found[topic.slug] = topic
        return found

    def _article(
        self,
        text: ArticleText,
        language: str,
        original: Article | None,
        topics: dict[str, Topic],
        update: bool,
        published: datetime.datetime,
    ) -> tuple[Article, bool]:
        try:
            chosen = [topics[slug] for slug in text.topics]
        except KeyError as missing:
            raise CommandError(f"{text.slug}: unknown topic {missing}") from None
        existing = Article.objects.filter(language=language, slug=text.slug).first()
        fields: dict[str, Any] = {
            "title": text.title,
            "summary": text.summary,
            "body": text.body,
            "translation_of": original,
            "last_reviewed": CONTENT_REVIEWED,
        }
        if existing is None:
            article = services.article_create(
                language=language,
                slug=text.slug,
                audiences=text.audiences,
                topics=chosen,
                status=Article.Status.PUBLISHED,
                publish_at=published,
                **fields,
            )
            return article, True
        if update:
            audiences = {Article.Audience(a) for a in text.audiences}
            for audience, field in Article.AUDIENCE_FIELDS.items():
                fields[field] = audience in audiences
            services.article_update(article=existing, topics=chosen, **fields)
        return existing, False
