"""The public pages' cache: one entry per language and path, dropped on every edit.

Every cached page records the *generation* numbers it was rendered under, read
in the same cache round trip as the page itself. The services that write
articles and topics bump the number after their transaction commits, so the
next visit finds a page from an older generation, renders a fresh one and
replaces it. Scheduled articles need no
bump: a page is never cached past the next scheduled publication.
"""

import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from resilience import generations

GENERATION_KEY = "prevention:generation"

View = Callable[..., HttpResponse]

# Where a frame's per-request values go (``framed``): private-use characters,
# which no template or translation writes and no article text carries
# (``rendering.plain_text`` strips the private-use marks search uses).
SLOT_MARKS = "\ue002\ue003\ue004\ue005\ue006\ue007"
# Where a framed page's per-request part goes (``page_frame``).
FRAME_SLOT = SLOT_MARKS[0]
_SLOT_MARK = re.compile(f"([{SLOT_MARKS}])")
# Frames kept per process; more than this and the store starts again (the keys
# come from code: template names, languages, paths of the URLconf, shapes).
FRAMES_LIMIT = 1024


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


@dataclass(frozen=True)
class Frame:
    """A rendering with named places for per-request values: ``literals`` around ``slots``, alternating."""

    literals: tuple[str, ...]
    slots: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> str:
        """The rendering with each slot's value (already HTML: escape what the template would have)."""
        pieces = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            pieces += (values[slot], literal)
        return "".join(pieces)


# Per process: a frame depends only on the code, the templates, the translations
# and its key, and a deploy restarts the process. A plain dict, not a Django
# cache: ``caches[...]`` builds a backend object per request (its connections
# are per context) and ``LocMemCache`` pickles every value, which cost more than
# the frame saved on the search page.
_frames: dict[tuple[Hashable, ...], Frame] = {}


def framed(
    key: tuple[Hashable, ...], slots: tuple[str, ...], render: Callable[[Mapping[str, SafeString]], str]
) -> Frame:
    """The frame ``render`` makes with a mark for each of ``slots``, rendered once per process and ``key``.

    ``render`` gets each slot's mark (a private-use character, safe HTML) to put
    where that slot's value goes; every rendering under one key must be the same
    but for the slots' values. Nothing per request may be part of the key but
    choices from a small, fixed set (a language, a path of the URLconf, a count).
    """
    frame = _frames.get(key)
    if frame is None:
        marks = dict(zip(slots, SLOT_MARKS, strict=False))
        if len(marks) != len(slots):
            raise ValueError(f"at most {len(SLOT_MARKS)} slots")
        names = {mark: slot for slot, mark in marks.items()}
        pieces = _SLOT_MARK.split(render({slot: mark_safe(mark) for slot, mark in marks.items()}))  # noqa: S308 - constants
        frame = Frame(literals=tuple(pieces[0::2]), slots=tuple(names[mark] for mark in pieces[1::2]))
        if len(_frames) >= FRAMES_LIMIT:
            _frames.clear()
        _frames[key] = frame
    return frame


def page_frame(request: HttpRequest, template_name: str) -> tuple[str, str]:
    """The page ``template_name`` renders around ``{{ slot }}``, as the text before and after it.

    For an uncached page whose only per-request part is one slot (the search page:
    its form and results). The rest of the page (base.html's chrome, the language
    switch, the blocks) is rendered once per process, language, path and referrer
    policy (``framed``), so everything ``template_name`` and base.html show outside
    the slot must be the same for every request that shares those four (a test
    renders the page whole and compares). ``request.path`` has no query string, so
    nothing a visitor typed is ever part of the key or of the frame.
    """
    policy = getattr(request, "referrer_policy", "")
    key = ("page-frame", template_name, get_language(), policy, request.path)
    frame = framed(key, ("slot",), lambda marks: render_to_string(template_name, {"slot": marks["slot"]}, request))
    if frame.slots != ("slot",):
        raise ValueError(f"{template_name} must show its slot exactly once")
    return frame.literals[0], frame.literals[1]
