"""The signed partner feed: tokens, scopes, ETags, deltas and signatures, as a partner sees them."""

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.utils import timezone

from hotline import feed_signing, services
from hotline.models import PartnerToken, PartnerTokenUse
from privacy.ratelimit import local_counters
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.feed_helpers import FEED_KEYS, get, listed_url, partner_with_token

pytestmark = pytest.mark.django_db

URLS = "/api/v1/feed/urls"
HASHES = "/api/v1/feed/url-hashes"


@pytest.fixture(autouse=True)
def feed_settings(settings):
    settings.FEED_SIGNING_KEYS = FEED_KEYS
    settings.FEED_RATE_LIMIT = 1000
    local_counters.clear()
    return settings


@pytest.fixture
def confirmer(db):
    return StaffUserFactory(role=Role.ANALYST)


def verify(response: Any, client: Any) -> Any:
    """Checks the detached signature over the raw body with the `cryptography` package, then parses it."""
    keys = {key["key_id"]: key for key in client.get("/api/v1/feed/keys").json()["keys"]}
    key = keys[response["X-Feed-Key-Id"]]
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    public.verify(base64.b64decode(response["X-Feed-Signature"]), response.content)  # raises when wrong
    pem = load_pem_public_key(key["public_key_pem"].encode())
    assert isinstance(pem, Ed25519PublicKey)
    pem.verify(base64.b64decode(response["X-Feed-Signature"]), response.content)
    return json.loads(response.content)


def test_a_confirmed_url_is_in_both_feeds_with_a_verifiable_signature(client, analyst, confirmer):
    listed_url(analyst, confirmer, "https://bad.example/a")
    _, secret = partner_with_token()
    full = verify(get(client, URLS, secret), client)
    assert full["schema_version"] == 1
    assert full["feed"] == "urls"
    assert full["entries"] == [
        {"sha256": services.feed_sha256("https://bad.example/a"), "url": "https://bad.example/a"}
    ]
    hashes = verify(get(client, HASHES, secret), client)
    assert hashes["entries"] == [{"sha256": services.feed_sha256("https://bad.example/a")}]


def test_a_tampered_body_fails_verification(client, analyst, confirmer):
    listed_url(analyst, confirmer, "https://bad.example/a")
    _, secret = partner_with_token()
    response = get(client, URLS, secret)
    response.content = response.content.replace(b"bad.example", b"bad.exampl3")
    with pytest.raises(InvalidSignature):
        verify(response, client)


def test_an_assessed_but_unconfirmed_url_is_not_in_the_feed(client, analyst):
    from tests.hotline.feed_helpers import illegal_tip

    reported = illegal_tip(analyst, "https://bad.example/wait").urls.get()
    services.url_assess_illegal(url_id=reported.pk, actor=analyst)
    _, secret = partner_with_token()
    assert json.loads(get(client, URLS, secret).content)["entries"] == []


def test_etag_and_delta_follow_adds_and_removals(client, analyst, confirmer):
    first = listed_url(analyst, confirmer, "https://bad.example/1")
    _, secret = partner_with_token()
    response = get(client, URLS, secret)
    old = json.loads(response.content)
    etag = response["ETag"]
    assert get(client, URLS, secret, If_None_Match=etag).status_code == 304

    listed_url(analyst, confirmer, "https://bad.example/2")
    services.url_record_removal(url_id=first.pk, actor=analyst)
    services.feed_rebuild_snapshots()  # what the task does after commit

    fresh = get(client, URLS, secret, If_None_Match=etag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    new = verify(fresh, client)
    assert [entry["url"] for entry in new["entries"]] == ["https://bad.example/2"]

    delta = verify(get(client, f"{URLS}?since={old['version']}", secret), client)
    assert delta["since"] == old["version"]
    assert delta["version"] == new["version"]
    assert delta["more"] is False
    assert [entry["url"] for entry in delta["added"]] == ["https://bad.example/2"]
    assert [entry["url"] for entry in delta["removed"]] == ["https://bad.example/1"]
    # Applying the delta to the old list gives exactly the new list.
    applied = {e["sha256"] for e in old["entries"]} - {e["sha256"] for e in delta["removed"]}
    applied |= {e["sha256"] for e in delta["added"]}
    assert applied == {e["sha256"] for e in new["entries"]}

    nothing_new = get(client, f"{URLS}?since={new['version']}", secret)
    assert json.loads(nothing_new.content)["added"] == json.loads(nothing_new.content)["removed"] == []
    assert get(client, f"{URLS}?since={new['version']}", secret, If_None_Match=nothing_new["ETag"]).status_code == 304


def test_an_address_added_and_removed_between_two_pulls_is_in_neither_list(client, analyst, confirmer):
    _, secret = partner_with_token()
    start = json.loads(get(client, HASHES, secret).content)["version"]
    brief = listed_url(analyst, confirmer, "https://bad.example/brief")
    services.url_withdraw(url_id=brief.pk, actor=analyst, reason="Fel.")
    delta = json.loads(get(client, f"{HASHES}?since={start}", secret).content)
    assert delta["added"] == delta["removed"] == []
    assert delta["version"] == start + 2


def test_a_delta_is_cut_between_versions_and_says_there_is_more(client, analyst, confirmer, settings):
    settings.FEED_DELTA_LIMIT = 3  # each listing is 2 change rows (both audiences), 1 for industry
    for number in range(5):
        listed_url(analyst, confirmer, f"https://bad.example/{number}")
    _, secret = partner_with_token()
    seen, since, more = [], 0, True
    while more:
        delta = json.loads(get(client, f"{HASHES}?since={since}", secret).content)
        seen += [entry["sha256"] for entry in delta["added"]]
        since, more = delta["version"], delta["more"]
    assert sorted(seen) == sorted(services.feed_sha256(f"https://bad.example/{n}") for n in range(5))


def test_pages_of_a_full_download(client, analyst, confirmer, settings):
    settings.FEED_PAGE_SIZE = 2
    for number in range(5):
        listed_url(analyst, confirmer, f"https://bad.example/{number}")
    _, secret = partner_with_token()
    first = verify(get(client, HASHES, secret), client)
    assert (first["page"], first["pages"], first["total"]) == (1, 3, 5)
    entries = list(first["entries"])
    for page in (2, 3):
        entries += verify(get(client, f"{HASHES}?page={page}&version={first['version']}", secret), client)["entries"]
    assert len({e["sha256"] for e in entries}) == 5
    assert get(client, f"{HASHES}?page=4", secret).status_code == 404
    assert get(client, f"{HASHES}?page=abc", secret).status_code == 400
    assert get(client, f"{HASHES}?since=999", secret).status_code == 400


def test_held_for_police_stays_out_of_industry_but_not_police_feeds(client, analyst, confirmer):
    reported = listed_url(analyst, confirmer, "https://bad.example/held")
    _, industry = partner_with_token("industry")
    _, police = partner_with_token("police")
    before = json.loads(get(client, HASHES, industry).content)["version"]
    services.url_hold_for_police(url_id=reported.pk, actor=analyst)
    services.feed_rebuild_snapshots()
    assert json.loads(get(client, HASHES, industry).content)["entries"] == []
    assert len(json.loads(get(client, HASHES, police).content)["entries"]) == 1
    removed = json.loads(get(client, f"{HASHES}?since={before}", industry).content)["removed"]
    assert removed == [{"sha256": reported.feed_sha256}]
    assert json.loads(get(client, f"{HASHES}?since={before}", police).content)["removed"] == []


def test_wrong_revoked_expired_and_inactive_tokens_get_the_same_401(client, analyst):
    partner, revoked = partner_with_token()
    services.partner_token_revoke(token_id=PartnerToken.objects.get(partner=partner).pk, actor=analyst)
    _, expired = partner_with_token(expires_at=timezone.now() - timedelta(seconds=1))
    inactive_partner, inactive = partner_with_token()
    inactive_partner.is_active = False
    inactive_partner.save()
    _, valid = partner_with_token()
    responses = [
        get(client, URLS, None),
        get(client, URLS, "ecpatfeed_not-a-real-token"),
        get(client, URLS, revoked),
        get(client, URLS, expired),
        get(client, URLS, inactive),
        client.get(URLS, headers={"Authorization": f"Basic {valid}"}),
    ]
    assert {(r.status_code, r.content, r["WWW-Authenticate"]) for r in responses} == {
        (401, b'{"error": "unauthorised"}', 'Bearer realm="feed"')
    }
    assert get(client, URLS, valid).status_code == 200


def test_scopes_decide_which_feed_a_partner_may_pull(client):
    _, hashes_only = partner_with_token(urls=False, hashes=True)
    assert get(client, HASHES, hashes_only).status_code == 200
    refused = get(client, URLS, hashes_only)
    assert refused.status_code == 403
    assert json.loads(refused.content)["error"] == "insufficient_scope"


def test_every_use_is_recorded_with_its_time_and_never_an_address(client):
    _, secret = partner_with_token()
    address = "203.0.113.77"
    client.get(URLS, headers={"Authorization": f"Bearer {secret}", "X-Forwarded-For": address}, REMOTE_ADDR=address)
    client.get(HASHES, headers={"Authorization": f"Bearer {secret}"}, REMOTE_ADDR=address)
    uses = list(PartnerTokenUse.objects.order_by("id").values())
    assert [(use["endpoint"], use["status_code"]) for use in uses] == [("urls", 200), ("url-hashes", 200)]
    assert all(use["used_at"] is not None for use in uses)
    assert {field.name for field in PartnerTokenUse._meta.get_fields()} == {
        "id",
        "token",
        "used_at",
        "endpoint",
        "status_code",
    }
    assert address not in repr(uses) + repr(list(PartnerToken.objects.values()))


def test_the_api_never_sets_a_cookie_nor_varies_on_one(client, analyst, confirmer):
    listed_url(analyst, confirmer, "https://bad.example/a")
    _, secret = partner_with_token()
    for response in (
        get(client, URLS, secret),
        get(client, f"{URLS}?since=0", secret),
        get(client, URLS, "wrong"),
        client.get("/api/v1/feed/keys"),
    ):
        assert not response.cookies, response.cookies
        assert "Set-Cookie" not in response.headers
        assert "cookie" not in response.headers.get("Vary", "").lower()


def test_each_token_is_rate_limited(client, settings):
    settings.FEED_RATE_LIMIT = 2
    _, secret = partner_with_token()
    _, other = partner_with_token()
    assert [get(client, HASHES, secret).status_code for _ in range(3)] == [200, 200, 429]
    assert get(client, HASHES, other).status_code == 200


def test_a_rotated_key_signs_from_then_on_and_the_old_one_stays_published_until_it_expires(
    client, analyst, confirmer, settings
):
    listed_url(analyst, confirmer, "https://bad.example/a")
    _, secret = partner_with_token()
    old = get(client, URLS, secret)
    assert old["X-Feed-Key-Id"] == "feed-test-1"
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    new_seed = base64.b64encode(bytes(range(1, 33))).decode()
    settings.FEED_SIGNING_KEYS = [f"feed-test-2:{new_seed}", f"{FEED_KEYS[0]}:{tomorrow}"]
    published = [key["key_id"] for key in client.get("/api/v1/feed/keys").json()["keys"]]
    assert published == ["feed-test-2", "feed-test-1"]
    verify(old, client)  # a download signed before the rotation still verifies
    assert get(client, URLS, secret, If_None_Match=old["ETag"]).status_code == 200
    rotated = get(client, URLS, secret)
    assert rotated["X-Feed-Key-Id"] == "feed-test-2"
    verify(rotated, client)
    assert [key.key_id for key in feed_signing.published_keys(timezone.localdate() + timedelta(days=2))] == [
        "feed-test-2"
    ]


def test_an_administrator_sees_a_new_token_once_and_only_its_hash_is_stored(client):
    from hotline.models import Partner

    partner = Partner.objects.create(name="Polisen NOA", audience="police", scope_urls=True)
    login_verified(client, StaffUserFactory(role=Role.ADMINISTRATOR))
    form = {"action": "issue_token", "_selected_action": [partner.pk], "confirm_issue": "1", "valid_days": "30"}
    response = client.post("/admin/hotline/partner/", form)
    page = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    secret = page.split('id="issued-token" type="text" readonly size="60" value="')[1].split('"')[0]
    assert secret.startswith("ecpatfeed_")
    token = PartnerToken.objects.get(partner=partner)
    assert secret not in repr(list(PartnerToken.objects.values()))
    assert token.expires_at is not None
    assert (token.expires_at - timezone.now()).days in (29, 30)
    assert secret not in client.get(f"/admin/hotline/partnertoken/{token.pk}/change/").content.decode()
    assert get(client, URLS, secret).status_code == 200


def test_the_embedded_mode_generates_a_key_once_into_the_data_folder(settings, tmp_path):
    settings.FEED_SIGNING_KEYS = []
    settings.FEED_SIGNING_KEY_FILE = tmp_path / "feed" / "signing-key"
    first = feed_signing.signing_key()
    assert (settings.FEED_SIGNING_KEY_FILE.stat().st_mode & 0o777) == 0o600
    feed_signing._keys.cache_clear()
    assert feed_signing.signing_key().public_key == first.public_key


def test_the_bearer_token_passes_the_edge_under_api_only():
    from privacy.asgi import allowed_headers

    headers = [(b"authorization", b"Bearer x"), (b"if-none-match", b'"e"'), (b"user-agent", b"curl")]
    bearer = (b"authorization", b"Bearer x")
    assert allowed_headers(headers, "/api/v1/feed/urls") == [bearer, (b"if-none-match", b'"e"')]
    assert allowed_headers(headers, "/hotline/") == [(b"if-none-match", b'"e"')]


@pytest.mark.django_db(transaction=False)
async def test_the_asgi_edge_hands_the_feed_its_token_and_no_address():
    from privacy.asgi import AnonymousScopeMiddleware

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    headers = [(b"authorization", b"Bearer x"), (b"x-forwarded-for", b"198.51.100.7")]
    scope = {"type": "http", "client": ("203.0.113.9", 5555), "headers": headers, "path": "/api/v1/feed/urls"}
    await AnonymousScopeMiddleware(app)(scope, None, None)  # type: ignore[arg-type]
    assert seen[0]["headers"] == [(b"authorization", b"Bearer x")]
    assert seen[0]["client"] is None


def test_the_record_of_feed_requests_is_purged_by_retention(client):
    _, secret = partner_with_token()
    get(client, HASHES, secret)
    assert services.purge_partner_token_uses(timezone.now() - timedelta(days=1)) == 0
    assert services.purge_partner_token_uses(timezone.now() + timedelta(seconds=1)) == 1
    assert not PartnerTokenUse.objects.exists()


def test_changing_a_partners_scopes_is_audited(client):
    from audit.models import AuditEvent
    from hotline.models import Partner

    partner = Partner.objects.create(name="ISP AB", audience="industry", scope_url_hashes=True)
    login_verified(client, StaffUserFactory(role=Role.ADMINISTRATOR))
    form = {
        "name": "ISP AB",
        "audience": "industry",
        "scope_urls": "on",
        "scope_url_hashes": "on",
        "is_active": "on",
        "notes": "",
        "tokens-TOTAL_FORMS": "0",
        "tokens-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/hotline/partner/{partner.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    partner.refresh_from_db()
    assert partner.scope_urls
    assert AuditEvent.objects.filter(action="hotline.partner.changed", object_id=str(partner.pk)).exists()
