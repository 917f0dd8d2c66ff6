"""Fixtures for the prevention tests: a clean page cache and an article maker."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from prevention import services
from prevention.models import Article, Topic


@pytest.fixture(autouse=True)
def clean_page_cache() -> Iterator[None]:
    # Test databases roll back; the cache (Redis or files) does not.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def topic(db: Any) -> Topic:
    return Topic.objects.create(slug="grooming", slug_en="grooming", name_sv="Grooming", name_en="Grooming")


@pytest.fixture
def make_article(db: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., Article]:
    counter = iter(range(10_000))

    def make(**overrides: Any) -> Article:
        n = next(counter)
        fields: dict[str, Any] = {
            "language": "sv",
            "slug": f"artikel-{n}",
            "title": f"Artikel {n}",
            "summary": f"Ingress {n}",
            "body": f"Brödtext nummer {n}.",
            "audiences": ["children"],
            "status": Article.Status.PUBLISHED,
        }
        fields.update(overrides)
        with django_capture_on_commit_callbacks(execute=True):
            return services.article_create(**fields)

    return make
