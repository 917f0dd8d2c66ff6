from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.sitemaps import Sitemap
from django.urls import reverse
from django.utils import translation

from prevention import selectors
from prevention.models import Article


class ArticleSitemap(Sitemap):  # type: ignore[type-arg]
    """Every published article, in both languages, each at its own address."""

    changefreq = "monthly"

    def items(self) -> list[Article]:
        return selectors.sitemap_articles()

    def lastmod(self, item: Article) -> datetime:
        return item.updated_at

    def location(self, item: Article) -> str:
        return item.get_absolute_url()


class StartPageSitemap(Sitemap):  # type: ignore[type-arg]
    """The landing page and each audience's start page, in both languages."""

    changefreq = "weekly"

    def items(self) -> list[tuple[str, str, dict[str, str]]]:
        pages: list[tuple[str, str, dict[str, str]]] = []
        for language in ("sv", "en"):
            pages.append((language, "prevention:index", {}))
            pages += [(language, "prevention:audience", {"audience": a.value}) for a in Article.Audience]
        return pages

    def location(self, item: tuple[str, str, dict[str, str]]) -> str:
        language, name, kwargs = item
        with translation.override(language):
            return reverse(name, kwargs=kwargs)


SITEMAPS: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {"start": StartPageSitemap, "articles": ArticleSitemap}
