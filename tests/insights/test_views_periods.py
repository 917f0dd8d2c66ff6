"""The period form: the five choices, the period each is compared with, and a clear Swedish error for bad input."""

from datetime import date

import pytest
from django.http import QueryDict

from insights.figures import Period
from insights.forms import PeriodForm

TODAY = date(2026, 3, 15)


def chosen(query: str) -> tuple[Period, Period]:
    form = PeriodForm(QueryDict(query), today=TODAY)
    assert form.is_valid(), form.errors
    return form.chosen()


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("period=7", date(2026, 3, 8), date(2026, 3, 14)),
        ("period=30", date(2026, 2, 13), date(2026, 3, 14)),
        ("period=90", date(2025, 12, 15), date(2026, 3, 14)),
        ("", date(2026, 2, 13), date(2026, 3, 14)),
    ],
)
def test_the_last_days_end_yesterday_and_compare_with_as_many_days_before(query, start, end):
    period, previous = chosen(query)
    assert (period.start, period.end) == (start, end)
    assert previous.days == period.days
    assert (start - previous.end).days == 1


def test_a_past_year_is_the_whole_year_compared_with_the_year_before():
    period, previous = chosen("period=year&year=2024")
    assert period == Period(date(2024, 1, 1), date(2024, 12, 31))
    assert previous == Period(date(2023, 1, 1), date(2023, 12, 31))


def test_this_year_ends_yesterday_and_is_compared_with_the_same_days_last_year():
    period, previous = chosen("period=year&year=2026")
    assert period == Period(date(2026, 1, 1), date(2026, 3, 14))
    assert previous == Period(date(2025, 1, 1), date(2025, 3, 14))


def test_a_custom_range_is_compared_with_as_many_days_before():
    period, previous = chosen("period=custom&start=2025-06-01&end=2025-06-10")
    assert period == Period(date(2025, 6, 1), date(2025, 6, 10))
    assert previous == Period(date(2025, 5, 22), date(2025, 5, 31))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=forever", "Välj en av perioderna i listan."),
        ("period=year", "Skriv vilket år du vill se."),
        ("period=year&year=tjugo", "Skriv året med fyra siffror"),
        ("period=year&year=1999", "Välj ett år från 2000 till 2026."),
        ("period=year&year=2027", "Välj ett år från 2000 till 2026."),
        ("period=year&year=99999999999999999999", "Välj ett år från 2000 till 2026."),
        ("period=custom&start=2025-01-01", "Fyll i både från och med och till och med."),
        ("period=custom&start=2025-13-40&end=2025-01-01", "Skriv datumet som ÅÅÅÅ-MM-DD."),
        ("period=custom&start=2025-02-01&end=2025-01-01", "Till och med kan inte ligga före från och med."),
        ("period=custom&start=2026-03-01&end=2026-03-15", "Välj senast i går"),
        ("period=custom&start=1999-01-01&end=1999-02-01", "Välj ett datum från år 2000."),
        ("period=custom&start=2020-01-01&end=2025-01-01", "Välj högst tre år åt gången."),
        ("format=pdf", "Statistiken kan bara laddas ner som CSV."),
    ],
)
def test_bad_input_gets_a_clear_swedish_error(query, message):
    form = PeriodForm(QueryDict(query), today=TODAY)
    assert not form.is_valid()
    assert any(message in error for errors in form.errors.values() for error in errors), form.errors


def test_the_csv_format_is_asked_for_by_name():
    form = PeriodForm(QueryDict("period=7&format=csv"), today=TODAY)
    assert form.is_valid() and form.wants_csv
    form = PeriodForm(QueryDict("period=7"), today=TODAY)
    assert form.is_valid() and not form.wants_csv
