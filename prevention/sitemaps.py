"""The prevention pages in ``/sitemap.xml``: each address with its twin in the other language.

Every entry is an i18n sitemap item: Django lists it once per language it exists
in, with ``xhtml:link`` alternates to each of them and ``x-default`` to the
Swedish one (the site's default language).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.sitemaps import Sitemap
from django.urls import reverse
from django.utils.translation import get_language

from prevention import selectors
from prevention.models import Article, Topic

# A start page: URL name and URL keyword arguments.
type StartPage = tuple[str, dict[str, str]]
# An article and its translation, by language.
type ArticlePair = dict[str, Article]
type TopicItem = tuple[Topic, list[str]]

if TYPE_CHECKING:
    ArticleSitemapBase = Sitemap[ArticlePair]
    StartPageSitemapBase = Sitemap[StartPage]
    TopicSitemapBase = Sitemap[TopicItem]
else:
    # Sitemap is generic only in django-stubs; at run time it cannot be subscripted.
    ArticleSitemapBase = StartPageSitemapBase = TopicSitemapBase = Sitemap


class BilingualSitemap:
    i18n = True
    alternates = True
    x_default = True


class ArticleSitemap(BilingualSitemap, ArticleSitemapBase):
    """Every published article at its own address, linked to its published translation."""

    changefreq = "monthly"

    def items(self) -> list[ArticlePair]:
        return selectors.sitemap_articles()

    def get_languages_for_item(self, item: ArticlePair) -> list[str]:
        return list(item)

    def lastmod(self, item: ArticlePair) -> datetime:
        # Django asks once per pair, not per language: the later change of the two.
        return max(article.updated_at for article in item.values())

    def location(self, item: ArticlePair) -> str:
        return item[get_language()].get_absolute_url()


class TopicSitemap(BilingualSitemap, TopicSitemapBase):
    """Each topic page in the languages it has published articles in."""

    changefreq = "weekly"

    def items(self) -> list[TopicItem]:
        return selectors.sitemap_topics()

    def get_languages_for_item(self, item: TopicItem) -> list[str]:
        return item[1]

    def location(self, item: TopicItem) -> str:
        return item[0].get_absolute_url()


class StartPageSitemap(BilingualSitemap, StartPageSitemapBase):
    """The landing page and each audience's start page, in both languages."""

    changefreq = "weekly"

    def items(self) -> list[StartPage]:
        pages: list[StartPage] = [("prevention:index", {})]
        return pages + [("prevention:audience", {"audience": a.value}) for a in Article.Audience]

    def location(self, item: StartPage) -> str:
        name, kwargs = item
        return reverse(name, kwargs=kwargs)


SITEMAPS: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {
    "start": StartPageSitemap,
    "topics": TopicSitemap,
    "articles": ArticleSitemap,
}
