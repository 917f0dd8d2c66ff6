from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from prevention.sitemaps import SITEMAPS as PREVENTION_SITEMAPS

if TYPE_CHECKING:
    PageSitemapBase = Sitemap[str]
else:
    # Sitemap is generic only in django-stubs; at run time it cannot be subscripted.
    PageSitemapBase = Sitemap


class SitePageSitemap(PageSitemapBase):
    """The start page and the support line's, the hotline's and the safety page, in both languages.

    Each address lists its twin in the other language (``xhtml:link`` alternates)
    and the Swedish one as ``x-default``.
    """

    changefreq = "monthly"
    i18n = True
    alternates = True
    x_default = True

    def items(self) -> list[str]:
        return ["home", "supportline:index", "supportline:letters", "hotline:index", "privacy:safety"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {"pages": SitePageSitemap, **PREVENTION_SITEMAPS}
