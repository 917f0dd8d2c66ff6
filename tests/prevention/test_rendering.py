"""Markdown bodies: whatever an editor pastes, no script reaches a visitor."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from prevention.rendering import plain_text, reading_minutes, render_markdown

ATTACKS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert('x')>",
    "[klicka](javascript:alert('x'))",
    "[klicka](JaVaScRiPt:alert('x'))",
    "[klicka]( javascript:alert('x'))",
    "<a href=\"jav&#x09;ascript:alert('x')\">klicka</a>",
    "[klicka](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[klicka](vbscript:msgbox('x'))",
    "<javascript:alert('x')>",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert('x')></svg>",
    "<p style=\"background:url(javascript:alert('x'))\" onclick=\"alert('x')\">text</p>",
    "![bild](https://evil.example/x.png\" onerror=\"alert('x'))",
    '<a href="https://ok.example" onmouseover="alert(\'x\')">ok</a>',
    '<form action="https://evil.example"><input name=x></form>',
    '<object data="x"></object><embed src="x">',
    "<math><mi xlink:href=\"javascript:alert('x')\">x</mi></math>",
    "<style>body{display:none}</style>",
]


ALLOWED_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "blockquote", "br", "hr", "code", "pre"}


class Elements(HTMLParser):
    """Collects every real element and attribute (escaped text is just text)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.elements


def assert_harmless(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attrs) <= {"href", "title", "rel"}, (tag, attrs)
        href = (attrs.get("href") or "").strip().lower()
        assert not href or href.startswith(("http://", "https://", "mailto:", "tel:", "#", "/")), href
        if tag == "a" and href:
            assert attrs["rel"] == "noopener noreferrer"


@pytest.mark.parametrize("attack", ATTACKS)
def test_xss_attempts_are_neutralised(attack):
    html = render_markdown(f"Hej!\n\n{attack}\n\nSlut.")
    assert_harmless(html)
    assert "Hej!" in html and "Slut." in html


def test_xss_in_a_published_body_does_not_reach_the_page(client: Client, make_article):
    make_article(slug="farlig", body="\n\n".join(ATTACKS))
    html = client.get("/kunskap/artikel/farlig/").text
    start = html.index('<div class="article-body" id="article-read">') + len(
        '<div class="article-body" id="article-read">'
    )
    body = html[start : html.index("</div>", start)]
    assert_harmless(body)
    assert "<script" not in body.lower()  # escaped text such as "&lt;javascript:" is only text


def test_safe_links_keep_working_and_get_rel():
    html = render_markdown("[Ring](tel:112) [Mejla](mailto:info@example.org) [Läs](https://example.org/)")
    assert '<a href="tel:112" rel="noopener noreferrer">Ring</a>' in html
    assert 'href="mailto:info@example.org"' in html
    assert '<a href="https://example.org/" rel="noopener noreferrer">Läs</a>' in html


def test_markdown_structure_survives_and_h1_becomes_h2():
    html = render_markdown("# Rubrik\n\n- ett\n- två\n\n**fet** och *kursiv*")
    assert "<h1" not in html and "<h2>Rubrik</h2>" in html
    assert "<li>ett</li>" in html and "<strong>fet</strong>" in html and "<em>kursiv</em>" in html


def test_plain_text_and_reading_time():
    text = plain_text("## Rubrik\n\nEn **fet** mening med <b>html</b> & tecken.")
    assert text == "Rubrik En fet mening med html & tecken."
    assert reading_minutes("ord " * 10) == 1
    assert reading_minutes("ord " * 181) == 2
