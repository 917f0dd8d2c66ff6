"""The insights pages: who may open each, what the page and its CSV show, and bad input answered in Swedish."""

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from insights import selectors
from insights.figures import Figure, Period, Row
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified

pytestmark = [pytest.mark.django_db]

PAGES = {
    "support": "/admin/statistik/stodlinjen/",
    "hotline": "/admin/statistik/hotline/",
    "prevention": "/admin/statistik/forebyggande/",
}
# Which page each role opens; administrators open all three.
OPENS = {
    Role.COUNSELLOR: set(),
    Role.SUPERVISOR: {"support"},
    Role.ANALYST: {"hotline"},
    Role.EDITOR: {"prevention"},
    Role.ADMINISTRATOR: {"support", "hotline", "prevention"},
}


def fake_figures(period: Period) -> list[Figure]:
    # Numbers that differ between a period and the one before, so the comparison shows a change.
    base = 100 if period.end >= date(2026, 1, 1) else 80
    return [
        Figure(
            key="volume",
            title="Chattar och brev",
            description="Hur många chattar och brev som kom in.",
            chart="stacked_bar",
            columns=["Chattar", "Brev"],
            rows=[Row("v. 1", [base, None]), Row("v. 2", [base + 20, 7]), Row("=HYPERLINK()", [12, 9])],
            summary=[("Chattar", base * 2), ("Brev", None)],
        ),
        Figure(
            key="hours",
            title="Kontakter per timme",
            description="Kontakter per veckodag och timme.",
            chart="heatmap",
            columns=["00", "01"],
            rows=[Row("Måndag", [None, 40]), Row("Tisdag", [6, 12])],
        ),
        Figure(
            key="place",
            title="Plats i kön",
            description="Väntetid efter plats i kön.",
            chart="table",
            columns=["Median"],
            rows=[Row("1", [2.5])],
            unit="min",
        ),
    ]


@pytest.fixture
def figures(monkeypatch):
    for name in ("support_figures", "hotline_figures", "prevention_figures"):
        monkeypatch.setattr(selectors, name, fake_figures, raising=False)


def member(role: Role | None = None, verified: bool = True) -> Client:
    client = Client()
    user: Any = StaffUserFactory(role=role)
    if verified:
        login_verified(client, user)
    else:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", list(OPENS))
def test_each_role_opens_only_the_pages_that_own_its_data(role, figures):
    client = member(role)
    for name, url in PAGES.items():
        expected = 200 if name in OPENS[role] else 403
        assert client.get(url).status_code == expected, (role, name)


@pytest.mark.parametrize("url", PAGES.values())
def test_anonymous_visitors_and_members_without_a_second_factor_are_sent_to_log_in(url, figures):
    for client in (Client(), member(Role.ADMINISTRATOR, verified=False)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_role_without_the_permission_opens_nothing(figures):
    # The role alone is not enough: a supervisor whose group lost the permission is refused.
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name=Role.SUPERVISOR.value).permissions.remove(
        Permission.objects.get(codename="view_support_insights")
    )
    assert member(Role.SUPERVISOR).get(PAGES["support"]).status_code == 403


def test_the_page_shows_charts_tables_comparison_and_less_than_five(figures):
    response = member(Role.ADMINISTRATOR).get(PAGES["support"], {"period": "year", "year": "2026"}, headers={})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="img"' in html and '<title id="chart-volume-title">Chattar och brev</title>' in html
    assert "Visa som tabell" in html
    assert "&lt; 5" in html
    assert 'class="heat-suppressed"' in html
    assert "2,5 min" in html
    # 200 chats this year, 160 the year before: +40 (+25 %).
    assert "+40 (+25 %)" in html
    assert "<script" not in html.split("<svg", 1)[1]


def test_the_prevention_page_says_search_terms_are_never_stored(figures):
    html = member(Role.EDITOR).get(PAGES["prevention"]).content.decode()
    assert "Sökord sparas aldrig" in html
    assert "ingen statistik över sökningar" in html


def test_the_csv_holds_the_same_suppressed_numbers(figures):
    response = member(Role.ANALYST).get(
        PAGES["hotline"], {"period": "custom", "start": "2026-01-01", "end": "2026-01-31", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="statistik-hotline-2026-01-01-2026-01-31.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffHotline\r\n")
    lines = text.splitlines()
    assert "Chattar och brev,Chattar,200,160,40" in lines
    assert "Chattar och brev,Brev,< 5,< 5," in lines
    assert ",Chattar,Brev" in lines
    assert "v. 1,100,< 5" in lines
    assert "'=HYPERLINK(),12,9" in lines  # no formula runs in a spreadsheet
    assert "Måndag,< 5,40" in lines
    assert "1,2.5" in lines


@pytest.mark.parametrize(
    "query",
    [
        {"period": "year", "year": "1066"},
        {"period": "custom", "start": "igår", "end": "2026-01-01"},
        {"period": "custom", "start": "2026-01-10", "end": "2026-01-01"},
        {"period": "x" * 5000},
        {"format": "pdf"},
        {"period": "year", "year": "1" * 400},
    ],
)
def test_bad_input_is_a_400_with_a_swedish_error_never_a_500(query, figures):
    response = member(Role.ADMINISTRATOR).get(PAGES["support"], query)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_pages_answer_get_only(figures):
    assert member(Role.ADMINISTRATOR).post(PAGES["support"]).status_code == 405


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (Role.COUNSELLOR, []),
        (Role.SUPERVISOR, [PAGES["support"]]),
        (Role.ADMINISTRATOR, list(PAGES.values())),
    ],
)
def test_the_start_page_links_each_member_to_their_pages(role, links):
    html = member(role).get(reverse("admin:index")).content.decode()
    assert ('id="insights-panel"' in html) == bool(links)
    for url in PAGES.values():
        assert (f'href="{url}"' in html) == (url in links)


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_renders_from_the_real_selectors(name):
    response = member(Role.ADMINISTRATOR).get(PAGES[name], {"period": "90"})
    assert response.status_code == 200
    csv = member(Role.ADMINISTRATOR).get(PAGES[name], {"period": "90", "format": "csv"})
    assert csv.status_code == 200


def test_the_summary_compares_by_figure_lists_a_repeated_number_once_and_never_a_change_from_a_small_cell():
    from insights.summary import comparisons

    def figs(chats: int | None, contacts: int) -> list[Figure]:
        return [
            Figure("a", "Ålder", "", "bar", ["Kontakter"], [], summary=[("Kontakter", contacts), ("Chattar", chats)]),
            Figure("t", "Ämne", "", "bar", ["Kontakter"], [], summary=[("Kontakter", contacts)]),
        ]

    found = comparisons(figs(None, 120), figs(40, 100))
    assert [(c.figure, c.label, c.current, c.previous, c.change) for c in found] == [
        ("Ålder", "Kontakter", 120, 100, 20),
        ("Ålder", "Chattar", None, 40, None),
    ]
    assert found[0].change_percent == 20.0
