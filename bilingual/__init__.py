"""The public site in two languages: Swedish at the root, English under /en/, each with its own words in the address.

A route is written in both languages where it is declared (``route("lamna/", "leave/")``)
rather than in the translation catalogue: an address is not prose, a translator must not
be able to move a page by editing a message, and the pair is read where the page is
routed. ``tests/foundation/test_english_addresses.py`` walks the URLconf and fails on an
English address with a Swedish word in it.

Addresses that English pages had before they were English (``/en/chat/brev/``,
``/en/kunskap/topic/…``) are found again by ``english_address``.
"""

import functools
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver, get_script_prefix, get_urlconf, resolve, reverse
from django.urls.exceptions import NoReverseMatch, Resolver404
from django.utils.functional import lazy
from django.utils.translation import get_language, override

ENGLISH = "en"
SWEDISH = "sv"


def _in_active_language(swedish: str, english: str) -> str:
    return english if get_language() == ENGLISH else swedish


_route = lazy(_in_active_language, str)


def route(swedish: str, english: str) -> str:
    """A route (``path()``'s first argument) read as ``swedish`` at the root and ``english`` under /en/.

    Django's resolver compiles and reverses a lazy route once per language, as it
    does for ``gettext_lazy``.
    """
    return _route(swedish, english)


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        here = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, here)
        else:
            yield here, pattern


def route_pairs(urlconf: str | None = None) -> list[tuple[str, str]]:
    """Every endpoint's full route as (Swedish, English), in URLconf order, regex routes as written."""
    with override(SWEDISH):
        swedish = [route for route, _ in _walk(get_resolver(urlconf).url_patterns)]
    with override(ENGLISH):
        english = [route for route, _ in _walk(get_resolver(urlconf).url_patterns)]
    return list(zip(swedish, english, strict=True))


@functools.lru_cache(maxsize=8)
def _english_words(urlconf: str | None) -> dict[str, str]:
    """Swedish path segment -> English segment, from the routes that differ between the languages."""
    words: dict[str, str] = {}
    for swedish, english in route_pairs(urlconf):
        if not english.startswith(f"{ENGLISH}/"):
            continue
        swedish_parts, english_parts = swedish.split("/"), english.removeprefix(f"{ENGLISH}/").split("/")
        if len(swedish_parts) != len(english_parts):
            continue
        for sv, en in zip(swedish_parts, english_parts, strict=True):
            if sv != en and "<" not in sv and "^" not in sv:
                words.setdefault(sv, en)
    return words


def _english_reverse(path: str, language: str, old_address_view: str) -> str | None:
    """The English address of the page at ``path`` read in ``language``, if it is one."""
    with override(language):
        try:
            match = resolve(path)
        except Resolver404:
            return None
    if match.view_name == old_address_view:
        return None
    with override(ENGLISH):
        try:
            english = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return None
    return english if english.startswith(f"{get_script_prefix()}{ENGLISH}/") else None


def english_address(old: str, *, old_address_view: str) -> str | None:
    """Today's English address for ``old`` (a path under /en/ that is no page), or None.

    First as a Swedish address under /en/ (``/en/chat/brev/`` -> ``/en/chat/letters/``,
    reversed from the Swedish page so slugs and arguments are kept exactly), then word
    by word for addresses that were half translated (``/en/kunskap/topic/…`` ->
    ``/en/knowledge/topic/…``). ``old_address_view`` is the view that redirects old
    addresses: every path under /en/ resolves to it, so it never counts as a page.
    """
    rest = old.removeprefix(f"/{ENGLISH}/")
    words = _english_words(get_urlconf())
    translated = "/".join(words.get(part, part) for part in rest.split("/"))
    for path, language in ((f"/{rest}", SWEDISH), (f"/{ENGLISH}/{translated}", ENGLISH)):
        english = _english_reverse(path, language, old_address_view)
        if english is not None and english != f"{get_script_prefix()}{old.lstrip('/')}":
            return english
    return None
