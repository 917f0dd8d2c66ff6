"""Issue 10 item 14: a pasted picture does not get into a tip, however it is encoded.

The attacker is a reporter (well-meaning or not) who pastes the image itself
instead of its address, which would make the hotline hold the material. Each
sample goes through the public form over HTTP, as a browser would send it; an
innocent corpus (Swedish prose, real-looking links with long tracking tokens,
hashes, user names) must still be accepted.
"""

import base64
import os
import random
import uuid
from urllib.parse import quote

import pytest

from hotline.forms import TipForm
from hotline.models import Tip
from tests.hotline.conftest import TIP_FORM, post_tip_form

pytestmark = pytest.mark.django_db

RANDOM = os.urandom(1800)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00" + RANDOM
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + RANDOM
GIF = b"GIF89a\x10\x00\x10\x00\x80\x00\x00" + RANDOM
WEBP = b"RIFF\x24\x08\x00\x00WEBPVP8 " + RANDOM
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + RANDOM


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def wrapped(text: str, width: int = 76, newline: str = "\n") -> str:
    return newline.join(text[i : i + width] for i in range(0, len(text), width))


ATTACKS = {
    # Base64 as MIME (e-mail, `base64` on Linux) wraps it: 76 columns.
    "png wrapped at 76": ("description", wrapped(b64(PNG))),
    "jpeg wrapped at 76, CRLF": ("description", wrapped(b64(JPEG), newline="\r\n")),
    "webp wrapped at 64 (PEM style)": ("description", wrapped(b64(WEBP), 64)),
    "gif wrapped at 76 after a sentence": ("description", "Här är bilden jag såg:\n" + wrapped(b64(GIF))),
    "the middle of a file wrapped at 76": ("description", "Fortsättning:\n" + wrapped(b64(RANDOM[7:1207]))),
    "wrapped at 76 in the contact field": ("contact", wrapped(b64(JPEG[:300]))),
    "wrapped at 76 in the place field": ("place", wrapped(b64(PNG[:400]))),
    # base64url: '-' and '_' instead of '+' and '/'.
    "png base64url": ("description", "Bilden: " + b64url(PNG)),
    "jpeg base64url without padding": ("description", b64url(JPEG).rstrip("=")),
    "mp4 base64url, a short piece": ("description", "se " + b64url(MP4[:60])),
    "base64url wrapped at 76": ("description", wrapped(b64url(RANDOM[3:903]))),
    "png base64url in a query string": ("urls", "https://example.com/view?img=" + b64url(PNG[:90])),
    # A data: URI hidden in a URL by percent-encoding, once or twice, or as HTML entities.
    "percent-encoded data: in a URL": (
        "urls",
        "https://example.com/show?src=" + quote("data:image/png;base64," + b64(PNG[:30]), safe=""),
    ),
    "twice percent-encoded data: in a URL": (
        "urls",
        "https://example.com/?u=" + quote(quote("data:image/jpeg;base64," + b64(JPEG[:30]), safe=""), safe=""),
    ),
    "percent-encoded data: in the description": (
        "description",
        "Länken var " + quote("data:image/gif;base64,R0lGODlhAQABAAAAACw=", safe=":"),
    ),
    "entity-encoded data: in a URL": ("urls", "https://example.com/?u=data&#58;image/png;base64,iVBORw0KGgo"),
}

# A __cft__ tracking token: base64url, about 200 characters.
FACEBOOK_TOKEN = "AZU" + b64url(random.Random(10).randbytes(150)).rstrip("=")
INNOCENT = {
    "swedish prose": (
        "description",
        "Jag såg en vuxen som skrev till min lillasyster på Snapchat. Han sa att han var 15 år men "
        "profilbilden såg äldre ut. Han bad henne skicka bilder och sa att det var en hemlis. "
        "Det här hände i tisdags, runt kl. 21:30. Användarnamnet var kalle_1987_sthlm.",
    ),
    "several paragraphs with a long compound word": (
        "description",
        "Barnskyddsorganisationsmedlemsregistreringsformulär nämndes.\n\nSedan skrev han igen.\n\nOch igen.",
    ),
    "a place with user names and a Discord server": (
        "place",
        "Discord-servern ”Minecraft Svenska”, användarna xX_DarkGamer_2009_Xx och SnyggSofie2010, kanal #allmänt",
    ),
    "a long Google search link": (
        "urls",
        "https://www.google.com/search?q=exempel+sida&sca_esv=5a7c2d1e9b3f4a6c&sxsrf=AE3TifN3kR8dJ2pQ7vXy"
        "LmZ0aBcD4eFgHiJk5lMnOp%3A1700000000000&ved=2ahUKEwjX3Y5k6ZqCAxVbQ_EDHQ1oB0kQFnoECAgQAQ&uact=5",
    ),
    "a Facebook link with its tracking token": (
        "urls",
        f"https://www.facebook.com/groups/123456789/posts/987654321/?__cft__[0]={FACEBOOK_TOKEN}&__tn__=%2CO%2CP-R",
    ),
    "a Google Drive and a YouTube link": (
        "urls",
        "https://drive.google.com/file/d/1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWx/view?usp=sharing\n"
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
    ),
    "a TikTok and an Instagram link": (
        "urls",
        "https://www.tiktok.com/@exempel.konto/video/7301234567890123456?is_from_webapp=1&sender_device=pc\n"
        "https://www.instagram.com/p/CxYz12AbCdE/?igsh=MWQ1ZGUxMzBkMA==",
    ),
    "a page about data: protection": (
        "urls",
        "https://example.com/metadata:policy,v2?topic=data-protection",
    ),
    "a list of file hashes": (
        "description",
        "Hashvärden:\n" + "\n".join(uuid.uuid4().hex + uuid.uuid4().hex for _ in range(6)),
    ),
    "upper-case hex hashes": (
        "description",
        "\n".join((uuid.uuid4().hex + uuid.uuid4().hex).upper() for _ in range(6)),
    ),
    "contact details": ("contact", "Ring 070-123 45 67 eller mejla anna.svensson+hotline@example.se"),
    "a Bitcoin address and a Swish number": (
        "description",
        "Han ville ha betalt till 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa eller Swish 123 456 78 90.",
    ),
}


@pytest.fixture
def post_tip(client, settings, monkeypatch):
    settings.HOTLINE_TIP_RATE_LIMIT = 1000
    monkeypatch.setattr("hotline.views.request_client_key", lambda request: f"client-{uuid.uuid4()}")

    def post(field: str, text: str):
        return post_tip_form(client, {**TIP_FORM, field: text})

    return post


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_pasted_image_is_refused_over_http_and_nothing_is_stored(post_tip, name):
    field, text = ATTACKS[name]
    response = post_tip(field, text)
    assert response.status_code == 400
    assert "Skicka aldrig bilder eller filmer till oss" in response.text, name
    assert Tip.objects.count() == 0


@pytest.mark.parametrize("name", sorted(INNOCENT))
def test_innocent_text_is_still_accepted(post_tip, name):
    field, text = INNOCENT[name]
    response = post_tip(field, text)
    assert "Skicka aldrig bilder" not in response.text, name
    assert Tip.objects.count() == 1, TipForm(data={**TIP_FORM, field: text}).errors
