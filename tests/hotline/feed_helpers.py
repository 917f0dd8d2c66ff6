"""Shared steps for the URL lifecycle and partner feed tests."""

import base64
from typing import Any

from django.test import Client

from hotline import services
from hotline.models import Partner, Tip, TipURL
from tests.hotline.conftest import submit_tip

FEED_KEY_SEED = bytes(range(32))
FEED_KEYS = ["feed-test-1:" + base64.b64encode(FEED_KEY_SEED).decode()]


def illegal_tip(assessor: Any, *urls: str) -> Tip:
    """A tip whose analyst assessed it illegal, with ``urls`` reported."""
    tip = submit_tip(urls=list(urls)).tip
    services.tip_start_assessment(tip_id=tip.pk, actor=assessor)
    services.tip_assess(tip_id=tip.pk, actor=assessor, outcome=Tip.Outcome.ILLEGAL)
    return tip


def listed_url(assessor: Any, confirmer: Any, url: str) -> TipURL:
    """A URL assessed illegal by one analyst and confirmed by another: in the feed."""
    tip = illegal_tip(assessor, url)
    reported = tip.urls.get()
    services.url_assess_illegal(url_id=reported.pk, actor=assessor)
    return services.url_confirm(url_id=reported.pk, actor=confirmer)


def partner_with_token(
    audience: str = "industry", *, urls: bool = True, hashes: bool = True, **token: Any
) -> tuple[Partner, str]:
    partner = Partner.objects.create(
        name=f"Partner {Partner.objects.count() + 1}", audience=audience, scope_urls=urls, scope_url_hashes=hashes
    )
    issued = services.partner_token_issue(partner_id=partner.pk, actor=None, **token)  # type: ignore[arg-type]
    return partner, issued.secret


def get(client: Client, path: str, secret: str | None, **headers: str) -> Any:
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return client.get(path, headers=headers)
