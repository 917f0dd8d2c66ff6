"""The hotline's staff screens for reported URLs, takedown notices, providers and partners, under axe."""

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client

from hotline import services
from hotline.models import PartnerToken, Provider, TakedownNotice
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified
from tests.hotline.feed_helpers import listed_url, partner_with_token

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def logged_in(browser: Any, server: Any, role: Role) -> Any:
    """A browser tab logged in with ``role`` and a verified second factor."""
    client = Client()
    login_verified(client, StaffUserFactory(role=role))
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}])
    return context.new_page()


def screens() -> dict[Role, list[str]]:
    """Every list and change screen of the hotline's URL, notice, provider and partner admins, by who sees them."""
    analyst: Any = StaffUserFactory(role=Role.ANALYST)
    confirmer: Any = StaffUserFactory(role=Role.ANALYST)
    provider = Provider.objects.create(
        name="Exempel Hosting AB", abuse_email="abuse@exempelhost.se", country="SE", known_domains="bad.example"
    )
    reported = listed_url(analyst, confirmer, "https://files.bad.example/a")
    services.url_set_provider(url_id=reported.pk, provider_id=provider.pk, actor=analyst)
    services.notice_send(url_id=reported.pk, actor=analyst)
    partner, _ = partner_with_token()
    rows = {
        Role.ANALYST: [
            ("tipurl", reported.pk),
            ("takedownnotice", TakedownNotice.objects.get().pk),
            ("provider", provider.pk),
        ],
        Role.ADMINISTRATOR: [("partner", partner.pk), ("partnertoken", PartnerToken.objects.get(partner=partner).pk)],
    }
    return {
        role: [
            page
            for model, pk in models
            for page in (f"/admin/hotline/{model}/", f"/admin/hotline/{model}/{pk}/change/")
        ]
        for role, models in rows.items()
    }


def test_the_url_notice_provider_and_partner_screens_have_no_wcag_22_aa_violations(browser, asgi_server):
    failures = []
    for role, paths in screens().items():
        page = logged_in(browser, asgi_server, role)
        for path in paths:
            response = page.goto(asgi_server.url + path)
            assert response is not None and response.status == 200, (role, path)
            assert page.locator("h1").count() == 1, path
            results = Axe().run(page, options=WCAG_22_AA)
            if results.violations_count:
                failures.append(f"{path}\n{results.generate_report()}")
        page.context.close()
    assert not failures, "\n\n".join(failures)
