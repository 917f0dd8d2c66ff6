"""Public pages: thin views over prevention.selectors and prevention.search."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from prevention import selectors
from prevention.caching import cached_public_page, page_frame
from prevention.forms import SearchForm
from prevention.models import Article
from prevention.search import search as search_articles
from prevention.search_page import search_body
from privacy.uncached import never_cache


def _language() -> str:
    return "en" if get_language() == "en" else "sv"


@require_safe
@cached_public_page
def index(request: HttpRequest) -> HttpResponse:
    """The landing page: the three audiences, the topics, the newest articles."""
    language = _language()
    return render(
        request,
        "prevention/index.html",
        {
            "topics": selectors.topics_in_use(language=language),
            "latest": selectors.latest_articles(language=language),
            "form": SearchForm(),
        },
    )


@require_safe
@cached_public_page
def audience(request: HttpRequest, audience: str) -> HttpResponse:
    """An audience's start page, written and styled for it."""
    return render(
        request,
        "prevention/audience.html",
        {
            "audience": audience,
            "articles": selectors.articles_for_audience(audience=audience, language=_language()),
            "read_aloud": audience in Article.READ_ALOUD_AUDIENCES,
            "form": SearchForm(),
        },
    )


@require_safe
@cached_public_page
def topic(request: HttpRequest, slug: str) -> HttpResponse:
    language = _language()
    found = selectors.topic_by_slug(slug, language=language)
    if found is None:
        elsewhere = selectors.topic_by_other_language_slug(slug, language=language)
        if elsewhere is None:
            raise Http404
        return HttpResponsePermanentRedirect(elsewhere.get_absolute_url())
    articles = selectors.articles_about(topic=found, language=language)
    return render(
        request,
        "prevention/topic.html",
        {"topic": found, "articles": articles, "language_switch": selectors.topic_language_switch(found)},
    )


@require_safe
@cached_public_page
def article(request: HttpRequest, slug: str) -> HttpResponse:
    language = _language()
    found = selectors.public_article(slug=slug, language=language)
    if found is None:
        elsewhere = selectors.article_for_other_language_slug(slug=slug, language=language)
        if elsewhere is None:
            raise Http404
        return HttpResponsePermanentRedirect(elsewhere.get_absolute_url())
    return render(request, "prevention/article.html", selectors.article_page_context(found))


# Search is read-only, so CSRF protection adds nothing; POST keeps the words out
# of the address bar, the browser history and any proxy's request line.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Searches published articles in the page's language. Never cached, never logged."""
    form = SearchForm(request.POST if request.method == "POST" else None)
    result = None
    if form.is_valid():
        result = search_articles(form.cleaned_data["q"], language=_language())
    # The page around the form and the results is the same for every search: rendered once per language.
    before, after = page_frame(request, "prevention/search.html")
    response = HttpResponse(before + search_body(form, result) + after)
    response["X-Robots-Tag"] = "noindex"
    return response
