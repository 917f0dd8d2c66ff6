import functools

from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, translate_url
from django.utils.translation import get_language

_OTHER = {"sv": ("en", "English"), "en": ("sv", "Svenska")}


def language_switch(request: HttpRequest) -> dict[str, dict[str, str | bool]]:
    """The same page in the other language, for the switch in the header.

    ``twin`` says the page has an address in the other language (and so ``hreflang``
    alternates); a page that has none, such as the admin, switches to itself.
    """
    language = get_language() or "sv"
    code, name = _OTHER.get(language, _OTHER["sv"])
    url = _translated(request.path, language, code, get_urlconf(), get_script_prefix())
    return {"language_switch": {"code": code, "name": name, "url": url, "twin": url != request.path}}


@functools.lru_cache(maxsize=1024)
def _translated(path: str, language: str, code: str, urlconf: str | None, prefix: str) -> str:
    """``translate_url`` (a resolve and a reverse, on every uncached page) remembered per path and language.

    The answer depends only on these arguments; the current language, URLconf and
    script prefix are part of the key because ``translate_url`` reads them.
    Addresses hold slugs, never anything personal, and the cache is bounded.
    """
    return translate_url(path, code)
