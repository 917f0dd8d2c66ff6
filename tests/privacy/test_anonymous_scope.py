"""The ASGI edge removes the client's address and device before Django sees them."""

import datetime

import pytest
from django.utils import timezone

from privacy import ratelimit
from privacy.asgi import AnonymousScopeMiddleware


class Recorder:
    def __init__(self):
        self.scopes = []

    async def __call__(self, scope, receive, send):
        self.scopes.append(scope)


def http_scope(address="203.0.113.9", headers=()):
    return {
        "type": "http",
        "client": (address, 51234),
        "headers": [(b"host", b"example.org"), (b"user-agent", b"ProbeAgent/1.0"), *headers],
    }


async def pass_through(scope):
    recorder = Recorder()
    await AnonymousScopeMiddleware(recorder)(scope, None, None)  # type: ignore[arg-type]
    return recorder.scopes[0]


@pytest.fixture(autouse=True)
def _fresh_key_memo():
    ratelimit._memo.clear()
    yield
    ratelimit._memo.clear()


async def test_client_address_and_identifying_headers_are_removed():
    scope = await pass_through(
        http_scope(headers=[(b"x-forwarded-for", b"198.51.100.7"), (b"sec-ch-ua-platform", b"Android")])
    )
    assert scope["client"] is None
    names = {name for name, _ in scope["headers"]}
    assert names == {b"host"}
    assert "203.0.113.9" not in repr(scope) and "198.51.100.7" not in repr(scope)
    assert len(scope["anonymous_client"]) == 32


async def test_same_address_same_day_gives_the_same_key_and_others_differ():
    first = await pass_through(http_scope("203.0.113.9"))
    again = await pass_through(http_scope("203.0.113.9"))
    other = await pass_through(http_scope("203.0.113.10"))
    assert first["anonymous_client"] == again["anonymous_client"]
    assert first["anonymous_client"] != other["anonymous_client"]


async def test_the_key_rotates_daily(monkeypatch):
    today = await pass_through(http_scope("203.0.113.9"))
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr("privacy.ratelimit.timezone.now", lambda: tomorrow)
    next_day = await pass_through(http_scope("203.0.113.9"))
    assert today["anonymous_client"] != next_day["anonymous_client"]


async def test_a_configured_proxy_header_is_used_and_then_dropped(settings):
    settings.CLIENT_ADDRESS_HEADER = "X-Real-Client"
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.0/8"]
    a = await pass_through(http_scope("10.0.0.1", headers=[(b"x-real-client", b"203.0.113.50")]))
    b = await pass_through(http_scope("10.0.0.1", headers=[(b"x-real-client", b"203.0.113.51")]))
    assert a["anonymous_client"] != b["anonymous_client"]
    assert b"x-real-client" not in {name for name, _ in a["headers"]}


async def test_lifespan_passes_untouched():
    scope = {"type": "lifespan"}
    assert await pass_through(scope) is scope


def test_rate_limit_counts_per_identity():
    bucket = f"test-{timezone.now().timestamp()}"
    assert all(ratelimit.hit(bucket, "a", limit=3, window_seconds=60) for _ in range(3))
    assert not ratelimit.hit(bucket, "a", limit=3, window_seconds=60)
    assert ratelimit.hit(bucket, "b", limit=3, window_seconds=60)
    assert ratelimit.hit(bucket, "", limit=0, window_seconds=60)


async def test_async_rate_limit_counts_per_identity():
    bucket = f"atest-{timezone.now().timestamp()}"
    assert await ratelimit.ahit(bucket, "a", limit=1, window_seconds=60)
    assert not await ratelimit.ahit(bucket, "a", limit=1, window_seconds=60)


async def test_the_proxy_header_of_an_untrusted_peer_is_ignored(settings):
    settings.CLIENT_ADDRESS_HEADER = "X-Real-Client"
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.1"]
    a = await pass_through(http_scope("192.0.2.1", headers=[(b"x-real-client", b"203.0.113.50")]))
    b = await pass_through(http_scope("192.0.2.1", headers=[(b"x-real-client", b"203.0.113.51")]))
    assert a["anonymous_client"] == b["anonymous_client"]


async def test_no_address_gives_the_shared_identity():
    scope = await pass_through({"type": "websocket", "client": None, "headers": []})
    assert scope["anonymous_client"] == ratelimit.SHARED_CLIENT
