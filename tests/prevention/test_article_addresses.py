"""An article's address is remembered per language and slug (prevention.models._article_url)."""

from collections.abc import Callable

from django.test import Client
from django.utils import translation

from prevention.models import Article


def test_an_article_has_its_own_languages_address_from_pages_in_either_language(
    make_article: Callable[..., Article],
):
    swedish = make_article(language="sv", slug="om-natet")
    english = make_article(language="en", slug="about-online")
    for page_language in ("sv", "en", "sv"):  # twice in Swedish: the remembered answer is the same
        with translation.override(page_language):
            assert swedish.get_absolute_url() == "/kunskap/artikel/om-natet/"
            assert english.get_absolute_url() == "/en/knowledge/article/about-online/"


def test_the_remembered_address_leads_to_the_article(make_article: Callable[..., Article], client: Client):
    article = make_article(language="en", slug="staying-safe")
    with translation.override("sv"):
        address = article.get_absolute_url()
    response = client.get(address)
    assert response.status_code == 200
    assert article.title in response.text
