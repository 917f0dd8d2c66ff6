"""Issue 10 item 15: a reported URL that points inside a network is flagged and never opened.

The attacker files a tip whose "address" is the analyst's own machine or the
office network (a router's admin page, a cloud metadata endpoint, a local
service), hoping an analyst clicks it from the staff area. The tip goes in
through the public form over HTTP; the analyst's side is the real admin.
"""

import re
import uuid

import pytest
from django.test import Client

from audit.models import AuditEvent
from hotline.models import Tip, TipURL
from hotline.reported_urls import InwardKind, inward_target
from tests.hotline.conftest import post_tip_form

pytestmark = pytest.mark.django_db

INWARD = {
    "http://127.0.0.1:8000/admin/": ("127.0.0.1", InwardKind.LOOPBACK),
    "http://127.8.9.10/": ("127.8.9.10", InwardKind.LOOPBACK),
    "http://2130706433/": ("127.0.0.1", InwardKind.LOOPBACK),  # decimal
    "http://0x7f000001/": ("127.0.0.1", InwardKind.LOOPBACK),  # hex
    "http://0x7f.0.0.1/": ("127.0.0.1", InwardKind.LOOPBACK),
    "http://0177.0.0.1/": ("127.0.0.1", InwardKind.LOOPBACK),  # octal
    "http://017700000001/": ("127.0.0.1", InwardKind.LOOPBACK),
    "http://127.1/": ("127.0.0.1", InwardKind.LOOPBACK),  # short form
    "http://[::1]:8080/": ("::1", InwardKind.LOOPBACK),
    "http://[::ffff:127.0.0.1]/": ("127.0.0.1", InwardKind.LOOPBACK),
    "http://10.0.0.1/": ("10.0.0.1", InwardKind.PRIVATE),
    "http://012.0.0.1/": ("10.0.0.1", InwardKind.PRIVATE),
    "http://172.16.0.1/": ("172.16.0.1", InwardKind.PRIVATE),
    "http://172.31.255.254/": ("172.31.255.254", InwardKind.PRIVATE),
    "http://192.168.1.1/cgi-bin/luci": ("192.168.1.1", InwardKind.PRIVATE),
    "http://0xc0a80101/": ("192.168.1.1", InwardKind.PRIVATE),
    "http://3232235777/": ("192.168.1.1", InwardKind.PRIVATE),
    "http://[fc00::1]/": ("fc00::1", InwardKind.PRIVATE),
    "http://[fd12:3456::1]/": ("fd12:3456::1", InwardKind.PRIVATE),
    "http://169.254.169.254/latest/meta-data/": ("169.254.169.254", InwardKind.LINK_LOCAL),
    "http://[fe80::1]/": ("fe80::1", InwardKind.LINK_LOCAL),
    "http://0.0.0.0:5432/": ("0.0.0.0", InwardKind.UNSPECIFIED),
    "http://localhost:6379/": ("localhost", InwardKind.LOCAL_NAME),
    "http://LocalHost./": ("localhost", InwardKind.LOCAL_NAME),
    "http://printer.local/": ("printer.local", InwardKind.LOCAL_NAME),
    "http://app.localhost/": ("app.localhost", InwardKind.LOCAL_NAME),
}
PUBLIC = [
    "https://example.com/",
    "https://8.8.8.8/",
    "http://172.32.0.1/",
    "http://172.15.255.255/",
    "http://192.169.0.1/",
    "http://11.0.0.1/",
    "https://[2001:4860:4860::8888]/",
    "https://local.example.com/",
    "https://localhost.example.org/",
    "https://127.example.com/",
    "https://0x7f.example.com/",
]


@pytest.mark.parametrize("url", sorted(INWARD))
def test_every_spelling_of_an_inward_address_is_recognised(url):
    target = inward_target(url)
    assert target is not None, url
    assert (target.address, target.kind) == INWARD[url]


@pytest.mark.parametrize("url", PUBLIC)
def test_public_addresses_are_not_flagged(url):
    assert inward_target(url) is None


def report(settings, monkeypatch, urls: str) -> Tip:
    """Files a tip as an anonymous visitor would, through the public form."""
    settings.HOTLINE_TIP_RATE_LIMIT = 1000
    monkeypatch.setattr("hotline.views.request_client_key", lambda request: f"client-{uuid.uuid4()}")
    form = {"urls": urls, "category": "abuse_material", "description": "Titta här.", "website": ""}
    response = post_tip_form(Client(), form)
    assert response.status_code == 303, response.text
    return Tip.objects.get()


ATTACK_URLS = [
    "http://0x7f000001:8000/admin/auth/user/",
    "http://192.168.1.1/cgi-bin/luci",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:6379/",
    "http://printer.local/",
]


def test_an_inward_url_from_the_form_is_flagged_and_cannot_be_opened(analyst_client, analyst, settings, monkeypatch):
    tip = report(settings, monkeypatch, "\n".join([*ATTACK_URLS, "https://example.com/real-page"]))
    stored = {url.url: url for url in TipURL.objects.filter(tip=tip)}
    assert len(stored) == len(ATTACK_URLS) + 1

    page = analyst_client.get(f"/admin/hotline/tip/{tip.pk}/change/").text
    assert page.count('class="inward-url"') == len(ATTACK_URLS)
    assert "Varning: adressen pekar inte på internet" in page
    assert "127.0.0.1 (loopback)" in page and "169.254.169.254 (länklokal)" in page
    offered = set(re.findall(r'name="url_id" value="(\d+)"', page))
    assert offered == {str(stored["https://example.com/real-page"].pk)}
    for url in ATTACK_URLS:
        assert f'href="{url}' not in page

    for url in ATTACK_URLS:
        # A forged POST for the hidden button is refused too, and never redirects there.
        response = analyst_client.post(
            f"/admin/hotline/tip/{tip.pk}/change/", {"action": "open_url", "url_id": str(stored[url].pk)}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/admin/hotline/tip/{tip.pk}/change/"
    refused = AuditEvent.objects.filter(action="hotline.tip.url_open_refused", actor=analyst, object_id=str(tip.pk))
    assert refused.count() == len(ATTACK_URLS)
    assert not AuditEvent.objects.filter(action="hotline.tip.url_opened").exists()

    public = analyst_client.post(
        f"/admin/hotline/tip/{tip.pk}/change/",
        {"action": "open_url", "url_id": str(stored["https://example.com/real-page"].pk)},
    )
    assert public["Location"] == "https://example.com/real-page"
