"""The public pages' cache: one entry per language and path, dropped on every edit.

Every cached page records the *generation* numbers it was rendered under, read
in the same cache round trip as the page itself. The services that write
articles and topics bump the number after their transaction commits, so the
next visit finds a page from an older generation, renders a fresh one and
replaces it. Scheduled articles need no
bump: a page is never cached past the next scheduled publication.
"""

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from resilience import generations

GENERATION_KEY = "prevention:generation"

View = Callable[..., HttpResponse]

# Where a framed page's per-request part goes (``page_frame``): a private-use
# character, which no template writes and no article text carries.
FRAME_SLOT = "\ue002"


def bump_generation() -> None:
    """Makes every cached public page stale. Call after the write has committed."""
    generations.bump(GENERATION_KEY)


def page_key(request: HttpRequest) -> str:
    return f"prevention:page:{get_language()}:{request.path}"


def _valid_until(changes_at: Callable[[], datetime | None] | None = None) -> float:
    """Now plus the cache period, but never past the next scheduled publication
    nor past the page's own next change (``changes_at``)."""
    from prevention.selectors import next_publication_after

    now = timezone.now()
    until = now.timestamp() + settings.PREVENTION_CACHE_SECONDS
    for upcoming in (next_publication_after(now), changes_at() if changes_at else None):
        if upcoming is not None:
            until = min(until, upcoming.timestamp())
    return until


def cached_public_page(
    view: View | None = None,
    *,
    changes_at: Callable[[], datetime | None] | None = None,
    also_keyed_on: tuple[str, ...] = (),
) -> Any:
    """Caches a public page's HTML per language and path (GET and HEAD without a query string).

    For a page that also shows data from outside the articles (the chat's
    opening status on the start page): ``also_keyed_on`` names that data's
    generation counters (read with the page's own in one round trip and
    recorded in the entry, so a change makes the entry stale) and
    ``changes_at`` when it next changes by itself; the entry never outlives it.
    """
    if view is None:
        return lambda inner: cached_public_page(inner, changes_at=changes_at, also_keyed_on=also_keyed_on)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or request.GET:
            return view(request, *args, **kwargs)
        key = page_key(request)
        counters = [GENERATION_KEY, *also_keyed_on]
        # The counters and the page in one round trip: the entry records the
        # numbers it was made under and counts only while they are still current.
        found = cache.get_many([*counters, key])
        numbers = generations.numbers_in(found, counters)
        hit = found.get(key)
        # The expiry is checked against Django's clock too, so a scheduled
        # article appears on time even where the cache's own TTL is coarse.
        if hit is not None and hit[3] == numbers and timezone.now().timestamp() < hit[2]:
            content, content_type, _, _ = hit
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            if hasattr(response, "render") and callable(response.render):
                response.render()
            valid_until = _valid_until(changes_at)
            timeout = max(1, int(valid_until - timezone.now().timestamp()) + 1)
            cache.set(key, (response.content, response["Content-Type"], valid_until, numbers), timeout)
        return response

    return wrapper


def page_frame(request: HttpRequest, template_name: str) -> tuple[str, str]:
    """The page ``template_name`` renders around ``{{ slot }}``, as the text before and after it.

    For an uncached page whose only per-request part is one slot (the search page:
    its form and results). The rest of the page (base.html's chrome, the language
    switch, the blocks) is rendered once per process, language, path and referrer
    policy, in the in-memory ``template_fragments`` cache like the ``{% cache %}``
    fragments, so everything ``template_name`` and base.html show outside the slot
    must be the same for every request that shares those four (a test renders the
    page whole and compares). ``request.path`` has no query string, so nothing a
    visitor typed is ever part of the key or of the frame.
    """
    policy = getattr(request, "referrer_policy", "")
    key = f"page-frame:{template_name}:{get_language()}:{policy}:{request.path}"
    fragments = caches["template_fragments"]
    frame: tuple[str, str] | None = fragments.get(key)
    if frame is None:
        page = render_to_string(template_name, {"slot": mark_safe(FRAME_SLOT)}, request)  # noqa: S308 - a constant
        before, after = page.split(FRAME_SLOT)  # exactly one slot, or this unpacking fails
        frame = (before, after)
        fragments.set(key, frame)
    return frame
