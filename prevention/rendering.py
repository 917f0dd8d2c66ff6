"""Markdown to safe HTML, and to plain text for search and reading time.

Editors write Markdown. Whatever they paste, the public page only ever gets the
tags and attributes listed here: raw HTML, scripts, event handlers, styles and
``javascript:`` links are removed by nh3 (the Rust ``ammonia`` sanitiser).
"""

import html
import math
import re

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "br",
    "hr",
    "code",
    "pre",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
LINK_REL = "noopener noreferrer"
# Words per minute; a calm pace that suits young readers too.
READING_SPEED = 180

_H1 = re.compile(r"<(/?)h1>")


def render_markdown(text: str) -> SafeString:
    """Returns sanitised HTML for an article body (``#`` headings become ``<h2>``: the title is the h1)."""
    raw = markdown.markdown(text, output_format="html")
    raw = _H1.sub(r"<\1h2>", raw)
    cleaned = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just sanitised it


def plain_text(text: str) -> str:
    """The words of a Markdown body without any markup, for search and snippets."""
    without_tags = nh3.clean(markdown.markdown(text, output_format="html"), tags=set())
    # The private-use characters are search.py's highlight marks.
    text = html.unescape(without_tags).replace("\ue000", "").replace("\ue001", "")
    return re.sub(r"\s+", " ", text).strip()


def reading_minutes(text: str) -> int:
    """Whole minutes to read ``text`` (plain) at a calm pace; never less than one."""
    words = len(text.split())
    return max(1, math.ceil(words / READING_SPEED))
