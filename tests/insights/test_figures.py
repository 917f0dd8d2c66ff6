"""Each figure's numbers against values counted by hand from ``fixtures`` (see its docstring).

Percentiles come from the histogram (``insights.histogram``): linear inside the
bucket where the rank falls, e.g. six waits of 1..6 minutes fill the buckets
[1,2) [2,3) [3,5) [3,5) [5,7) [5,7) minutes, so the median (rank 3) lies half-way
through [3,5): 4.0 minutes.
"""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hotline.models import Tip
from insights import selectors
from insights.figures import Figure, Period
from insights.models import DailyCount
from insights.services import aggregate_days
from prevention.models import Article, Topic
from tests.insights.fixtures import DAY, WEDNESDAY, at, make_hotline_day, make_support_day

pytestmark = pytest.mark.django_db

ONE_DAY = Period(DAY, DAY)
AFTERWARDS = datetime.combine(DAY + timedelta(days=7), time(12), tzinfo=timezone.get_current_timezone())


def by_key(figures: list[Figure]) -> dict[str, Figure]:
    return {figure.key: figure for figure in figures}


def rows(figure: Figure) -> dict[str, list[int | float | None]]:
    return {row.label: row.values for row in figure.rows}


@pytest.fixture
def support() -> dict[str, Figure]:
    make_support_day()
    aggregate_days(now=AFTERWARDS)
    return by_key(selectors.support_figures(ONE_DAY))


@pytest.fixture
def hotline() -> dict[str, Figure]:
    make_hotline_day()
    aggregate_days(now=AFTERWARDS)
    return by_key(selectors.hotline_figures(ONE_DAY))


def test_contacts_per_hour_of_week(support):
    figure = support["support_contacts_by_hour"]
    assert figure.chart == "heatmap" and len(figure.rows) == 7 and len(figure.columns) == 24
    wednesday = figure.rows[WEDNESDAY].values
    # 5 letters at 10, 6 chats at 18, 5 chats at 23; every other hour (0) reads "< 5".
    assert {hour: value for hour, value in enumerate(wednesday) if value is not None} == {10: 5, 18: 6, 23: 5}
    # 16 contacts, 10 of them (letters at 10, chats at 23) while the chat was closed.
    assert dict(figure.summary) == {"Kontakter": 16, "Andel när chatten var stängd (%)": 62.5}


def test_opening_hours_and_counsellors_on_duty_by_hour_of_week(support):
    open_share = support["support_open_by_hour"].rows[WEDNESDAY].values
    assert [hour for hour, value in enumerate(open_share) if value] == [18, 19, 20, 21]
    assert open_share[18] == 100
    assert support["support_open_by_hour"].rows[0].values == [None] * 24  # no Monday in the period
    on_duty = support["support_on_duty_by_hour"].rows[WEDNESDAY].values
    assert on_duty[18] == 2.0 and on_duty[19] is None  # sampled only at 18
    per_counsellor = support["support_contacts_per_counsellor_hour"].rows[WEDNESDAY].values
    assert per_counsellor[18] == 3.0  # 6 contacts / 2 counsellor-hours


def test_waits(support):
    figure = support["support_waits"]
    assert [row.values for row in figure.rows] == [[4.0, 6.4]]
    assert dict(figure.summary) == {
        "Median (min)": 4.0,
        "90:e percentilen (min)": 6.4,  # rank 5.4: 5 + 2 * 0.7 minutes
        "Besvarade chattar": 6,
        "Andel som lämnade kön innan svar (%)": 45.5,  # 5 of 11
    }


def test_waits_by_place_in_the_queue():
    make_support_day()
    aggregate_days(now=AFTERWARDS)
    # Worked out by hand from who was still waiting when each joined.
    counts = DailyCount.objects.filter(metric=DailyCount.Metric.WAIT_BY_PLACE).values_list("group")
    assert dict(counts.annotate(n=Sum("count"))) == {
        "1:answered": 2,
        "2:answered": 2,
        "3:answered": 2,
        "1:left": 1,
        "2:left": 1,
        "3:left": 2,
        "4:left": 1,
    }
    figure = by_key(selectors.support_figures(ONE_DAY))["support_waits_by_place"]
    # Every band stands for fewer than five: nothing is shown.
    assert all(value is None for row in figure.rows for value in row.values)


def test_volume_duration_and_chats_per_counsellor_hour(support):
    volume = support["support_volume"]
    assert [row.values for row in volume.rows] == [[11, 5]]
    assert dict(volume.summary) == {"Chattar": 11, "Brev": 5}
    duration = support["support_duration"]
    assert rows(duration)["20–30 min"] == [6]  # noqa: RUF001
    assert sum(1 for row in duration.rows if row.values == [None]) == 7
    assert dict(duration.summary) == {"Median (min)": 25.0, "90:e percentilen (min)": 29.0}
    workload = support["support_chats_per_counsellor_hour"]
    assert workload.columns == ["Chattar per rådgivartimme"]
    assert [row.values for row in workload.rows] == [[3.0]]
    assert dict(workload.summary) == {
        "Chattar per rådgivartimme": 3.0,
        "Besvarade chattar": 6,
        "Rådgivartimmar": 2.0,
    }


def test_classification_age_topic_risk_and_feedback(support):
    categories = rows(support["support_categories"])
    assert categories["grooming"] == [6] and categories["sextortion / utpressning"] == [None]
    assert dict(support["support_categories"].summary) == {"Klassificerade chattar": 6}
    outcomes = rows(support["support_outcomes"])
    assert outcomes["stöd och samtal"] == [5] and outcomes["hänvisad vidare"] == [None]
    ages = rows(support["support_age_bands"])
    assert ages["13–15 år"] == [11] and ages["16–17 år"] == [5]  # noqa: RUF001
    topics = rows(support["support_topics"])
    assert topics["Något som hänt på nätet"] == [11] and topics["Jag är orolig för någon annan"] == [5]
    assert rows(support["support_risk"])["Markerad akut risk"] == [None]  # one chat
    assert dict(support["support_risk"].summary) == {"Markerad akut risk": None}
    feedback = rows(support["support_feedback"])
    assert feedback == {"Ja": [5], "Lite grann": [None], "Nej": [None]}
    assert dict(support["support_feedback"].summary) == {"Svar": 7}


def test_tips_and_assessments(hotline):
    tips = hotline["hotline_tips"]
    assert tips.columns[0] == "Bilder eller filmer på sexuella övergrepp mot barn"
    assert [row.values for row in tips.rows] == [[10, None, None, None, None]]
    assert dict(tips.summary) == {"Tips": 12, "Akuta tips": None}
    assert not tips.note
    assessed = hotline["hotline_assessed"]
    assert rows(assessed)["Olagligt"] == [6] and rows(assessed)["Inte olagligt"] == [6]
    assert dict(assessed.summary) == {"Bedömda tips": 12, "Andel bedömda som olagliga (%)": 50.0}
    timing = rows(hotline["hotline_time_to_assessment"])
    # 12 assessments started after 2 h: bucket [2 h, 4 h), median at rank 6 of 12 -> 3.0 h.
    assert timing["Alla"] == [12, 3.0, 3.8]
    # No urgent tip: 0 is hidden, so "Övriga" (= Alla - 0) is hidden with it.
    assert timing["Akuta"] == [None, None, None] and timing["Övriga"] == [None, None, None]


def test_tips_by_how_the_reporter_found_it(hotline):
    figure = hotline["hotline_tips_by_found_via"]
    assert figure.chart == "stacked_bar"
    assert figure.columns == [
        "Via en sökmotor, till exempel Google",
        "I sociala medier",
        "I en chatt eller ett meddelande",
        "Någon delade en länk eller fil",
        "På en webbplats eller i ett forum",
        "På ett annat sätt",
        "Jag vill inte säga",
        "Inte angivet",
    ]
    # 6 by search engine, 5 in social media; the one skipped question and every empty way read "< 5".
    assert [row.values for row in figure.rows] == [[6, 5, None, None, None, None, None, None]]
    assert dict(figure.summary) == {"Tips": 12}


def test_a_small_way_takes_its_neighbour_in_the_same_column_with_it(hotline):
    # The next day: 3 by search engine, 5 in social media. Search engine reads [6, 3] over the
    # two days: the 3 is hidden, and the 6 with it, or the column's total would give it away.
    following = DAY + timedelta(days=1)
    for i, way in enumerate([Tip.FoundVia.SEARCH_ENGINE] * 3 + [Tip.FoundVia.SOCIAL_MEDIA] * 5):
        Tip.objects.create(
            received_at=at(9, i, following),
            category=Tip.Category.OTHER,
            found_via=way,
            receipt_lookup=f"found-via-{i}",
            receipt_verifier="test",
        )
    aggregate_days(now=AFTERWARDS, since=DAY)
    figure = by_key(selectors.hotline_figures(Period(DAY, following)))["hotline_tips_by_found_via"]
    assert [row.values for row in figure.rows] == [
        [None, 5, None, None, None, None, None, None],
        [None, 5, None, None, None, None, None, None],
    ]
    assert dict(figure.summary) == {"Tips": 20}


def test_police_handoffs(hotline):
    handoffs = hotline["hotline_handoffs"]
    assert rows(handoffs) == {
        "Levererade direkt": [5],
        "Levererade efter nya försök": [None],
        "Misslyckade": [None],
    }
    assert dict(handoffs.summary) == {
        "Överlämningar": 6,
        # 5 x 2 min in [2,3) min and 1 x 10 min in [10,15): rank 3 -> 2 + 3/5 min, rank 5.4 -> 10 + 5 * 0.4.
        "Från beslut till leverans, median (min)": 2.6,
        "Från beslut till leverans, 90:e percentilen (min)": 12.0,
    }
    assert rows(hotline["hotline_urgent_to_handoff"]) == {"Akuta tips": [None, None, None]}


def test_takedown_times_by_provider_and_country(hotline):
    # Counted on the day of the removal: the day after and two days after the notices.
    assert rows(hotline["hotline_removal_by_provider"]) == {}
    hotline = by_key(selectors.hotline_figures(Period(DAY, DAY + timedelta(days=3))))
    provider = hotline["hotline_removal_by_provider"]
    # 5 removals in [8 h, 12 h), 5 in [48 h, 72 h): median 12 h, p90 48 + 24 * 4/5 h.
    assert rows(provider) == {"Exempelhost AB": [10, 12.0, 67.2, 50.0, 100.0, 100.0]}
    assert rows(hotline["hotline_removal_by_country"]) == {"SE": [10, 12.0, 67.2, 50.0, 100.0, 100.0]}
    assert dict(provider.summary)["Inom 24 h (%)"] == 50.0


def test_prevention_counts_the_articles_as_they_stand():
    topic = Topic.objects.create(slug="grooming", slug_en="grooming", name_sv="Grooming", name_en="Grooming")
    past = timezone.now() - timedelta(days=3)
    for n, (children, parents, reviewed) in enumerate([(True, False, date(2020, 1, 1)), (True, True, None)]):
        article = Article.objects.create(
            slug=f"a{n}",
            title=f"A{n}",
            summary="s",
            body="b",
            for_children=children,
            for_parents=parents,
            status=Article.Status.PUBLISHED,
            publish_at=past,
            **({"last_reviewed": reviewed} if reviewed else {}),
        )
        article.topics.add(topic)
    Article.objects.create(slug="draft", title="D", summary="s", body="b", for_youth=True)
    today = timezone.localdate()
    figures = by_key(selectors.prevention_figures(Period(today - timedelta(days=6), today)))
    articles = figures["prevention_articles"]
    assert articles.columns == ["Barn", "Unga", "Föräldrar"]
    assert rows(articles) == {"Grooming": [2, 0, 1], "Utan ämne": [0, 0, 0]}
    assert dict(articles.summary) == {
        "Publicerade artiklar": 2,
        "Publicerade under perioden": 2,
        "Behöver faktagranskas": 1,
    }
    assert not articles.note  # the page itself says that search terms are never stored
    assert rows(figures["prevention_review_due"]) == {"Barn": [1], "Unga": [0], "Föräldrar": [0]}


def test_nothing_in_a_figure_points_to_one_contact(support, hotline):
    """Labels are fixed vocabulary, periods or providers: no ids, codes, tokens or text from a contact."""
    everything = [*support.values(), *hotline.values()]
    for figure in everything:
        for text in [figure.title, figure.description, figure.note, *figure.columns, *(r.label for r in figure.rows)]:
            assert "example.invalid" not in text and "HL-" not in text
        for row in figure.rows:
            assert all(value is None or isinstance(value, int | float) for value in row.values)


def test_the_pages_read_a_constant_number_of_queries():
    make_support_day()
    make_hotline_day()
    aggregate_days(now=AFTERWARDS)
    year = Period(date(2025, 3, 5), DAY)
    with CaptureQueriesContext(connection) as short:
        selectors.support_figures(ONE_DAY)
        selectors.hotline_figures(ONE_DAY)
    with CaptureQueriesContext(connection) as long:
        selectors.support_figures(year)
        selectors.hotline_figures(year)
    assert len(long.captured_queries) == len(short.captured_queries)
    tables = " ".join(query["sql"] for query in long.captured_queries)
    assert "supportline_" not in tables and "hotline_" not in tables  # aggregates only
