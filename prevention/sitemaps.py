from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.sitemaps import Sitemap
from django.urls import reverse
from django.utils import translation

from prevention import selectors
from prevention.models import Article

# A start page: language, URL name, URL keyword arguments.
type StartPage = tuple[str, str, dict[str, str]]

if TYPE_CHECKING:
    ArticleSitemapBase = Sitemap[Article]
    StartPageSitemapBase = Sitemap[StartPage]
else:
    # Sitemap is generic only in django-stubs; at run time it cannot be subscripted.
    ArticleSitemapBase = StartPageSitemapBase = Sitemap


class ArticleSitemap(ArticleSitemapBase):
    """Every published article, in both languages, each at its own address."""

    changefreq = "monthly"

    def items(self) -> list[Article]:
        return selectors.sitemap_articles()

    def lastmod(self, item: Article) -> datetime:
        return item.updated_at

    def location(self, item: Article) -> str:
        return item.get_absolute_url()


class StartPageSitemap(StartPageSitemapBase):
    """The landing page and each audience's start page, in both languages."""

    changefreq = "weekly"

    def items(self) -> list[StartPage]:
        pages: list[StartPage] = []
        for language in Article.Language.values:
            pages.append((language, "prevention:index", {}))
            pages += [(language, "prevention:audience", {"audience": a.value}) for a in Article.Audience]
        return pages

    def location(self, item: StartPage) -> str:
        language, name, kwargs = item
        with translation.override(language):
            return reverse(name, kwargs=kwargs)


SITEMAPS: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {"start": StartPageSitemap, "articles": ArticleSitemap}
