"""The figures of the insights pages, read from the aggregate tables only.

Every function takes a :class:`~insights.figures.Period` and returns finished,
suppressed :class:`~insights.figures.Figure` values (``insights.suppression``):
no row of a chat, letter or tip is ever read here, and nothing that points to
one contact leaves this module. Prevention is the exception that proves the
rule: articles are no contacts, so their live state is counted as it is.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, DateField, F, FloatField, Q, Sum
from django.db.models.functions import NullIf, TruncMonth, TruncWeek
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from hotline.models import Tip
from insights import histogram
from insights.figures import MIN_CELL, NOT_MEASURED, SUPPRESSED, Cell, Figure, Period, Row
from insights.models import AggregationState, DailyCount, SupportHour
from insights.suppression import share, suppress, suppress_column, suppress_value
from prevention.models import Article, Topic
from supportline.models import Classification, Conversation, Feedback, OpeningHours

Metric = DailyCount.Metric


# --- Reading the aggregates ---------------------------------------------------------------


def _by_group(period: Period, metric: str) -> dict[str, int]:
    """The period's total of ``metric`` per group."""
    rows = (
        DailyCount.objects.filter(metric=metric, day__gte=period.start, day__lte=period.end)
        .values_list("group")
        .annotate(n=Sum("count"))
    )
    return dict(rows)


def _histograms(period: Period, metric: str) -> dict[str, dict[int, int]]:
    """The period's histogram of ``metric`` per group (bucket -> count)."""
    rows = (
        DailyCount.objects.filter(metric=metric, day__gte=period.start, day__lte=period.end)
        .values_list("group", "bucket")
        .annotate(n=Sum("count"))
    )
    found: dict[str, dict[int, int]] = defaultdict(dict)
    for group, bucket, n in rows:
        found[group][bucket] = n
    return found


def _merged(histograms: Iterable[dict[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = defaultdict(int)
    for buckets in histograms:
        for bucket, n in buckets.items():
            merged[bucket] += n
    return merged


# --- Periods into bins --------------------------------------------------------------------


@dataclass(frozen=True)
class Bin:
    label: str
    start: date
    end: date


def bins(period: Period) -> list[Bin]:
    """The period cut into days (up to 31 days), weeks (up to 26 weeks) or months, each clipped to it."""
    found: list[Bin] = []
    if period.days <= 31:
        day = period.start
        while day <= period.end:
            found.append(Bin(formats.date_format(day, "j M"), day, day))
            day += timedelta(days=1)
        return found
    if period.days <= 26 * 7:
        start = period.start - timedelta(days=period.start.weekday())
        while start <= period.end:
            end = start + timedelta(days=6)
            year, week, _weekday = max(start, period.start).isocalendar()
            found.append(
                Bin(
                    _("v. %(week)s %(year)s") % {"week": week, "year": year},
                    max(start, period.start),
                    min(end, period.end),
                )
            )
            start = end + timedelta(days=1)
        return found
    start = period.start.replace(day=1)
    while start <= period.end:
        following = (start + timedelta(days=32)).replace(day=1)
        found.append(
            Bin(
                formats.date_format(start, "M Y"),
                max(start, period.start),
                min(following - timedelta(days=1), period.end),
            )
        )
        start = following
    return found


def _bin_level(period: Period) -> str:
    if period.days <= 31:
        return "day"
    return "week" if period.days <= 26 * 7 else "month"


def _per_bin(period: Period, metric: str, key: str, *, group: str | None = None) -> dict[tuple[int, Any], int]:
    """The period's counts of ``metric`` summed per (bin, ``key``), where ``key`` is "group" or "bucket".

    The database groups by week or month, so a long period reads a few hundred rows, not one per day.
    """
    level = _bin_level(period)
    truncated = {
        "day": F("day"),
        "week": TruncWeek("day", output_field=DateField()),
        "month": TruncMonth("day", output_field=DateField()),
    }[level]
    found = DailyCount.objects.filter(metric=metric, day__gte=period.start, day__lte=period.end)
    if group is not None:
        found = found.filter(group=group)
    rows = found.annotate(bin=truncated).values_list("bin", key).annotate(n=Sum("count"))
    starts = [one.start for one in bins(period)]
    counts: dict[tuple[int, Any], int] = defaultdict(int)
    for start, value, n in rows:
        index = bisect.bisect_right(starts, max(start, period.start)) - 1
        counts[(index, value)] += n
    return counts


def _binned(period: Period, metric: str, groups: Sequence[str]) -> list[list[int]]:
    """A bins x groups matrix of the counts of ``metric``."""
    counts = _per_bin(period, metric, "group")
    return [[counts.get((index, group), 0) for group in groups] for index in range(len(bins(period)))]


def _histograms_per_bin(period: Period, metric: str, group: str) -> list[dict[int, int]]:
    counts = _per_bin(period, metric, "bucket", group=group)
    found: list[dict[int, int]] = [{} for _bin in bins(period)]
    for (index, bucket), n in counts.items():
        found[index][bucket] = n
    return found


# --- Numbers into cells --------------------------------------------------------------------


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _stat(buckets: dict[int, int], fraction: float, unit: Callable[[float | None], float | None]) -> Cell:
    """A percentile of a histogram, shown only when it stands for at least ``MIN_CELL`` durations."""
    if histogram.total(buckets) < MIN_CELL:
        return None
    return unit(histogram.percentile(buckets, fraction))


def _shares_within(buckets: dict[int, int], limits: Sequence[int]) -> list[Cell]:
    count = histogram.total(buckets)
    return [
        share(sum(n for bucket, n in buckets.items() if histogram.EDGES[bucket] < limit), count) for limit in limits
    ]


def _column_figure(
    key: str,
    title: str,
    description: str,
    labelled: Sequence[tuple[str, str]],
    counts: dict[str, int],
    column: str,
    *,
    summary_label: str,
    total: int | None = None,
    note: str = "",
) -> Figure:
    """A bar chart of one column of counts (labelled groups), suppressed, with its total as the headline."""
    values = suppress_column([counts.get(group, 0) for group, _label in labelled])
    whole = sum(counts.values()) if total is None else total
    return Figure(
        key=key,
        title=title,
        description=description,
        chart="bar",
        columns=[column],
        rows=[Row(label, [value]) for (_group, label), value in zip(labelled, values, strict=True)],
        summary=[(summary_label, suppress_value(whole))],
        note=note,
    )


WEEKDAYS = [str(label) for _value, label in OpeningHours.Weekday.choices]
HOURS = [f"{hour:02d}" for hour in range(24)]


# --- Support line --------------------------------------------------------------------------


@dataclass(frozen=True)
class HourOfWeek:
    contacts: int
    closed_contacts: int
    open_minutes: int
    hours: int
    duty_hours: float
    sampled_hours: int


def _hour_of_week(period: Period) -> dict[tuple[int, int], HourOfWeek]:
    """The period's hours summed per (weekday, hour) of the week."""
    rows = (
        SupportHour.objects.filter(day__gte=period.start, day__lte=period.end)
        .values_list("weekday", "hour")
        .annotate(
            contacts=Sum(F("chats") + F("letters")),
            closed_contacts=Sum(F("chats") + F("letters"), filter=Q(open_minutes=0)),
            open_minutes=Sum("open_minutes"),
            hours=Count("pk"),
            # Each hour's mean roster is its counsellor-hours.
            duty_hours=Sum(F("duty_sum") * 1.0 / NullIf(F("duty_samples"), 0), output_field=FloatField()),
            sampled_hours=Count("pk", filter=Q(duty_samples__gt=0)),
        )
    )
    return {
        (weekday, hour): HourOfWeek(contacts, closed or 0, minutes or 0, hours, duty or 0.0, sampled)
        for weekday, hour, contacts, closed, minutes, hours, duty, sampled in rows
    }


def _heatmap(
    key: str,
    title: str,
    description: str,
    cells: Callable[[int, int], Cell],
    *,
    unit: str,
    note: str = "",
    empty_label: str = SUPPRESSED,
) -> Figure:
    return Figure(
        key=key,
        title=title,
        description=description,
        chart="heatmap",
        columns=HOURS,
        rows=[Row(WEEKDAYS[weekday], [cells(weekday, hour) for hour in range(24)]) for weekday in range(7)],
        unit=unit,
        note=note,
        empty_label=empty_label,
    )


def _contact_figures(period: Period) -> list[Figure]:
    week = _hour_of_week(period)
    empty = HourOfWeek(0, 0, 0, 0, 0.0, 0)
    contacts = suppress([[week.get((d, h), empty).contacts for h in range(24)] for d in range(7)])
    total = sum(cell.contacts for cell in week.values())
    closed = sum(cell.closed_contacts for cell in week.values())
    contacts_figure = Figure(
        key="support_contacts_by_hour",
        title=_("Kontakter per timme i veckan"),
        description=_(
            "Chattar som startade och brev som skrevs, summerade per veckodag och timme under perioden. "
            "Jämför med öppettiderna och med hur många rådgivare som var i tjänst."
        ),
        chart="heatmap",
        columns=HOURS,
        rows=[Row(WEEKDAYS[d], contacts[d]) for d in range(7)],
        unit=_("kontakter"),
        summary=[
            (_("Kontakter"), suppress_value(total)),
            (_("Andel när chatten var stängd (%)"), share(closed, total)),
        ],
    )

    def open_share(d: int, h: int) -> Cell:
        cell = week.get((d, h))
        return None if cell is None or not cell.hours else round(100 * cell.open_minutes / (60 * cell.hours))

    def on_duty(d: int, h: int) -> Cell:
        cell = week.get((d, h))
        return None if cell is None or not cell.sampled_hours else round(cell.duty_hours / cell.sampled_hours, 1)

    def per_counsellor(d: int, h: int) -> Cell:
        cell = week.get((d, h))
        if cell is None or contacts[d][h] is None or cell.duty_hours <= 0:
            return None
        return round(cell.contacts / cell.duty_hours, 1)

    not_measured = _("–: ingen mätning den timmen.")  # noqa: RUF001
    return [
        contacts_figure,
        _heatmap(
            "support_open_by_hour",
            _("Öppet per timme i veckan"),
            _("Hur stor del av varje timme chatten var öppen under perioden, i procent."),
            open_share,
            unit="%",
            note=not_measured,
            empty_label=NOT_MEASURED,
        ),
        _heatmap(
            "support_on_duty_by_hour",
            _("Rådgivare i tjänst per timme i veckan"),
            _(
                "Genomsnittligt antal rådgivare med konsolen öppen, mätt var femte minut. "
                "Ingen enskild rådgivare visas."
            ),
            on_duty,
            unit=_("rådgivare"),
            note=not_measured,
            empty_label=NOT_MEASURED,
        ),
        _heatmap(
            "support_contacts_per_counsellor_hour",
            _("Kontakter per rådgivartimme i veckan"),
            _(
                "Kontakter delat med rådgivartimmar i tjänst, per veckodag och timme: "
                "höga värden visar var efterfrågan inte möts."
            ),
            per_counsellor,
            unit=_("kontakter per rådgivartimme"),
            note=_("–: färre än 5 kontakter eller ingen rådgivare i tjänst den timmen."),  # noqa: RUF001
            empty_label=NOT_MEASURED,
        ),
    ]


PLACE_BANDS = [("1", "1"), ("2", "2"), ("3", "3–4"), ("4", "5–8"), ("5", "9+")]  # noqa: RUF001


def _wait_figures(period: Period) -> list[Figure]:
    rows = [
        Row(one.label, [_stat(buckets, 0.5, _minutes), _stat(buckets, 0.9, _minutes)])
        for one, buckets in zip(bins(period), _histograms_per_bin(period, Metric.WAIT, "answered"), strict=True)
    ]
    waits = _histograms(period, Metric.WAIT)
    answered, left = waits.get("answered", {}), waits.get("left", {})
    n_answered, n_left = histogram.total(answered), histogram.total(left)
    waits_figure = Figure(
        key="support_waits",
        title=_("Väntetid i kön"),
        description=_(
            "Tid från att den unga ställde sig i kön tills en rådgivare svarade: median och 90:e percentil "
            "per dag, vecka eller månad."
        ),
        chart="line",
        columns=[_("Median"), _("90:e percentilen")],
        rows=rows,
        unit=_("minuter"),
        summary=[
            (_("Median (min)"), _stat(answered, 0.5, _minutes)),
            (_("90:e percentilen (min)"), _stat(answered, 0.9, _minutes)),
            (_("Besvarade chattar"), suppress_value(n_answered)),
            (_("Andel som lämnade kön innan svar (%)"), share(n_left, n_answered + n_left)),
        ],
        note=_("Tom punkt: färre än 5 besvarade chattar."),
    )
    by_place = _histograms(period, Metric.WAIT_BY_PLACE)
    counts = suppress(
        [
            [histogram.total(by_place.get(f"{band}:answered", {})), histogram.total(by_place.get(f"{band}:left", {}))]
            for band, _label in PLACE_BANDS
        ]
    )
    place_rows = []
    for (band, label), (shown_answered, shown_left) in zip(PLACE_BANDS, counts, strict=True):
        answered_here = by_place.get(f"{band}:answered", {})
        left_here = histogram.total(by_place.get(f"{band}:left", {}))
        place_rows.append(
            Row(
                label,
                [
                    shown_answered,
                    _stat(answered_here, 0.5, _minutes) if shown_answered is not None else None,
                    _stat(answered_here, 0.9, _minutes) if shown_answered is not None else None,
                    shown_left,
                    share(left_here, histogram.total(answered_here) + left_here),
                ],
            )
        )
    place_figure = Figure(
        key="support_waits_by_place",
        title=_("Väntetid efter plats i kön"),
        description=_(
            "Väntetid och andel som lämnade kön, efter vilken plats i kön den unga fick när hen ställde sig där."
        ),
        chart="table",
        columns=[
            _("Besvarade"),
            _("Median (min)"),
            _("90:e percentilen (min)"),
            _("Lämnade kön"),
            _("Andel som lämnade (%)"),
        ],
        rows=place_rows,
    )
    return [waits_figure, place_figure]


def _volume_figures(period: Period) -> list[Figure]:
    chats = _per_bin(period, Metric.CHATS, "group")
    letters = _per_bin(period, Metric.LETTERS, "group")
    matrix = [[chats.get((index, ""), 0), letters.get((index, ""), 0)] for index in range(len(bins(period)))]
    shown = suppress(matrix)
    volume = Figure(
        key="support_volume",
        title=_("Chattar och brev"),
        description=_("Hur många chattar som startade och hur många brev som skrevs, per dag, vecka eller månad."),
        chart="stacked_bar",
        columns=[_("Chattar"), _("Brev")],
        rows=[Row(one.label, values) for one, values in zip(bins(period), shown, strict=True)],
        summary=[
            (_("Chattar"), suppress_value(sum(chats.values()))),
            (_("Brev"), suppress_value(sum(letters.values()))),
        ],
    )
    duration = _merged(_histograms(period, Metric.DURATION).values())
    duration_rows = _duration_rows(duration)
    duration_figure = Figure(
        key="support_duration",
        title=_("Samtalens längd"),
        description=_(
            "Tid från att en rådgivare svarade tills chatten avslutades, för chattar som avslutades under perioden."
        ),
        chart="histogram",
        columns=[_("Chattar")],
        rows=duration_rows,
        summary=[
            (_("Median (min)"), _stat(duration, 0.5, _minutes)),
            (_("90:e percentilen (min)"), _stat(duration, 0.9, _minutes)),
        ],
    )
    return [volume, duration_figure, _per_counsellor_hour_figure(period)]


# Shown duration classes: (label, lower edge, upper edge in seconds); edges from insights.histogram.
DURATION_CLASSES = [
    ("< 5 min", 0, 5 * 60),
    ("5–10 min", 5 * 60, 10 * 60),  # noqa: RUF001
    ("10–20 min", 10 * 60, 20 * 60),  # noqa: RUF001
    ("20–30 min", 20 * 60, 30 * 60),  # noqa: RUF001
    ("30–45 min", 30 * 60, 45 * 60),  # noqa: RUF001
    ("45–60 min", 45 * 60, 60 * 60),  # noqa: RUF001
    ("1–2 h", 60 * 60, 2 * 60 * 60),  # noqa: RUF001
    ("≥ 2 h", 2 * 60 * 60, None),
]


def _duration_rows(buckets: dict[int, int]) -> list[Row]:
    counts = [
        sum(
            n
            for bucket, n in buckets.items()
            if low <= histogram.EDGES[bucket] and (high is None or histogram.EDGES[bucket] < high)
        )
        for _label, low, high in DURATION_CLASSES
    ]
    shown = suppress_column(counts)
    return [Row(label, [value]) for (label, _low, _high), value in zip(DURATION_CLASSES, shown, strict=True)]


def _per_counsellor_hour_figure(period: Period) -> Figure:
    answered = _per_bin(period, Metric.WAIT, "group", group="answered")
    duty = dict(
        SupportHour.objects.filter(day__gte=period.start, day__lte=period.end)
        .values_list("day")
        .annotate(hours=Sum(F("duty_sum") * 1.0 / NullIf(F("duty_samples"), 0), output_field=FloatField()))
    )
    hours_per_bin = [0.0 for _bin in bins(period)]
    starts = [one.start for one in bins(period)]
    for day, hours in duty.items():
        hours_per_bin[bisect.bisect_right(starts, day) - 1] += hours or 0.0
    rows = []
    for index, one in enumerate(bins(period)):
        chats = answered.get((index, "answered"), 0)
        hours = hours_per_bin[index]
        shown = suppress_value(chats)
        rows.append(
            Row(
                one.label,
                [round(chats / hours, 2) if shown is not None and hours > 0 else None],
            )
        )
    total_chats = sum(answered.values())
    total_hours = sum(hours_per_bin)
    return Figure(
        key="support_chats_per_counsellor_hour",
        title=_("Chattar per rådgivartimme"),
        description=_(
            "Besvarade chattar delat med rådgivartimmar i tjänst (rådgivare med konsolen öppen, mätt var femte "
            "minut). Visar arbetsbördan för hela gruppen, aldrig för en enskild rådgivare."
        ),
        # One measure on the axis: the counts it is made of would flatten the ratio near zero.
        chart="line",
        columns=[_("Chattar per rådgivartimme")],
        rows=rows,
        summary=[
            (
                _("Chattar per rådgivartimme"),
                round(total_chats / total_hours, 2) if total_chats >= MIN_CELL and total_hours > 0 else None,
            ),
            (_("Besvarade chattar"), suppress_value(total_chats)),
            (_("Rådgivartimmar"), round(total_hours, 1)),
        ],
        note=_("Tom punkt: färre än 5 besvarade chattar eller ingen rådgivare i tjänst."),
        empty_label=NOT_MEASURED,
    )


def _choices(choices: Iterable[tuple[str, object]], *, unknown: bool = True) -> list[tuple[str, str]]:
    labelled = [(str(value), str(label)) for value, label in choices]
    if unknown:
        labelled.append(("unknown", _("Inte angivet")))
    return labelled


def _classification_figures(period: Period) -> list[Figure]:
    outcomes = _by_group(period, Metric.OUTCOME)
    classified = sum(outcomes.values())
    risk = _by_group(period, Metric.RISK)
    risk_rows = [("imminent_risk", _("Markerad akut risk"))] + [
        (f"step:{value}", str(label)) for value, label in Conversation.EscalationStep.choices
    ]
    feedback = _by_group(period, Metric.FEEDBACK)
    return [
        _column_figure(
            "support_categories",
            _("Ämnen enligt klassificeringen"),
            _("Vad chattarna handlade om enligt rådgivarens klassificering efteråt. En chatt kan ha flera ämnen."),
            _choices(Classification.Category.choices, unknown=False),
            _by_group(period, Metric.CATEGORY),
            _("Chattar"),
            summary_label=_("Klassificerade chattar"),
            total=classified,
        ),
        _column_figure(
            "support_outcomes",
            _("Utfall"),
            _("Hur chattarna slutade enligt rådgivarens klassificering."),
            _choices(Classification.Outcome.choices),
            outcomes,
            _("Chattar"),
            summary_label=_("Klassificerade chattar"),
        ),
        _column_figure(
            "support_age_bands",
            _("Ålder"),
            _("Den ålder den unga valde när chatten startade eller brevet skrevs."),
            _choices(Conversation.AgeBand.choices),
            _by_group(period, Metric.AGE_BAND),
            _("Kontakter"),
            summary_label=_("Kontakter"),
        ),
        _column_figure(
            "support_topics",
            _("Ämne när kontakten startade"),
            _("Det ämne den unga valde när chatten startade eller brevet skrevs."),
            _choices(Conversation.Topic.choices),
            _by_group(period, Metric.TOPIC),
            _("Kontakter"),
            summary_label=_("Kontakter"),
        ),
        _column_figure(
            "support_risk",
            _("Akut risk och vidtagna steg"),
            _("Chattar och brev som markerades med akut risk, och de steg som rådgivaren bockade av."),
            risk_rows,
            risk,
            _("Kontakter"),
            summary_label=_("Markerad akut risk"),
            total=risk.get("imminent_risk", 0),
        ),
        _column_figure(
            "support_feedback",
            _("Återkoppling efter chatten"),
            _("Svaren på frågan om chatten hjälpte. Svaren är anonyma och inte kopplade till någon chatt."),
            _choices(Feedback.Answer.choices, unknown=False),
            feedback,
            _("Svar"),
            summary_label=_("Svar"),
        ),
    ]


# --- Cached per run of the job ------------------------------------------------------------

# The aggregates change only when the job runs, so finished figures are kept until it runs again.
FIGURES_CACHE_SECONDS = 60 * 60


def _cached(name: str, period: Period, build: Callable[[Period], list[Figure]]) -> list[Figure]:
    """``build(period)``, kept in the cache under the job's latest run and the language."""
    generation = AggregationState.objects.filter(pk=1).values_list("generation", flat=True).first()
    if generation is None:  # nothing aggregated yet
        return build(period)
    key = f"insights:{name}:{period.start}:{period.end}:{get_language()}:{generation}"
    figures: list[Figure] | None = cache.get(key)
    if figures is None:
        figures = build(period)
        cache.set(key, figures, FIGURES_CACHE_SECONDS)
    return figures


def support_figures(period: Period) -> list[Figure]:
    """The support line's figures for ``period``: contacts by hour of week, waits, volume, classification."""
    return _cached("support", period, _support_figures)


def _support_figures(period: Period) -> list[Figure]:
    return [
        *_contact_figures(period),
        *_wait_figures(period),
        *_volume_figures(period),
        *_classification_figures(period),
    ]


# --- Hotline -------------------------------------------------------------------------------


def _tips_figure(period: Period) -> Figure:
    categories = _choices(Tip.Category.choices, unknown=False)
    matrix = _binned(period, Metric.TIPS, [group for group, _label in categories])
    shown = suppress(matrix)
    priorities = _by_group(period, Metric.TIPS_PRIORITY)
    return Figure(
        key="hotline_tips",
        title=_("Tips per kategori"),
        description=_("Tips som kom in, per kategori som den som tipsade valde, per dag, vecka eller månad."),
        chart="stacked_bar",
        columns=[label for _group, label in categories],
        rows=[Row(one.label, values) for one, values in zip(bins(period), shown, strict=True)],
        summary=[
            (_("Tips"), suppress_value(sum(map(sum, matrix)))),
            (_("Akuta tips"), suppress_value(priorities.get("urgent", 0))),
        ],
    )


def _tips_by_found_via_figure(period: Period) -> Figure:
    ways = _choices(Tip.FoundVia.choices)
    matrix = _binned(period, Metric.TIPS_FOUND_VIA, [group for group, _label in ways])
    return Figure(
        key="hotline_tips_by_found_via",
        title=_("Tips efter hur materialet hittades"),
        description=_(
            "Tips som kom in, efter hur den som tipsade svarade på frågan hur hen hittade materialet, "
            "per dag, vecka eller månad."
        ),
        chart="stacked_bar",
        columns=[label for _group, label in ways],
        rows=[Row(one.label, values) for one, values in zip(bins(period), suppress(matrix), strict=True)],
        summary=[(_("Tips"), suppress_value(sum(map(sum, matrix))))],
        note=_(
            "Frågan är frivillig. ”Inte angivet” är tips där den som tipsade hoppade över den, "
            "och tips som kom in innan formuläret frågade."
        ),
    )


def _assessment_figures(period: Period) -> list[Figure]:
    assessed = _by_group(period, Metric.ASSESSED)
    total = sum(assessed.values())
    outcomes = _column_figure(
        "hotline_assessed",
        _("Bedömningar"),
        _("Tips som bedömdes under perioden, efter utfall."),
        _choices(Tip.Outcome.choices),
        assessed,
        _("Tips"),
        summary_label=_("Bedömda tips"),
    )
    outcomes.summary.append((_("Andel bedömda som olagliga (%)"), share(assessed.get("illegal", 0), total)))
    first = _histograms(period, Metric.FIRST_ASSESSMENT)
    groups = [("urgent", _("Akuta")), ("normal", _("Övriga"))]
    counts = suppress_column([histogram.total(first.get(group, {})) for group, _label in groups])
    everyone = _merged(first.values())
    rows = [
        Row(
            label,
            [
                count,
                _stat(first.get(group, {}), 0.5, _hours) if count is not None else None,
                _stat(first.get(group, {}), 0.9, _hours) if count is not None else None,
            ],
        )
        for (group, label), count in zip(groups, counts, strict=True)
    ]
    rows.append(
        Row(
            _("Alla"),
            [suppress_value(histogram.total(everyone)), _stat(everyone, 0.5, _hours), _stat(everyone, 0.9, _hours)],
        )
    )
    timing = Figure(
        key="hotline_time_to_assessment",
        title=_("Tid till första bedömning"),
        description=_(
            "Tid från att tipset kom in tills en analytiker började bedöma det, "
            "för bedömningar som började under perioden."
        ),
        chart="table",
        columns=[_("Tips"), _("Median (h)"), _("90:e percentilen (h)")],
        rows=rows,
        unit=_("timmar"),
        summary=[(_("Median (h)"), _stat(everyone, 0.5, _hours))],
    )
    return [outcomes, timing]


def _handoff_figures(period: Period) -> list[Figure]:
    handoffs = _by_group(period, Metric.HANDOFF)
    delivery = _merged(_histograms(period, Metric.HANDOFF_DELIVERY).values())
    urgent = _merged(_histograms(period, Metric.URGENT_HANDOFF).values())
    figure = _column_figure(
        "hotline_handoffs",
        _("Överlämningar till polisen"),
        _(
            "Överlämningar som levererades eller gav upp under perioden: levererade vid första försöket, "
            "levererade efter nya försök, och misslyckade."
        ),
        [
            ("delivered", _("Levererade direkt")),
            ("delivered_after_retry", _("Levererade efter nya försök")),
            ("failed", _("Misslyckade")),
        ],
        handoffs,
        _("Överlämningar"),
        summary_label=_("Överlämningar"),
    )
    figure.summary.extend(
        [
            (_("Från beslut till leverans, median (min)"), _stat(delivery, 0.5, _minutes)),
            (_("Från beslut till leverans, 90:e percentilen (min)"), _stat(delivery, 0.9, _minutes)),
        ]
    )
    urgent_figure = Figure(
        key="hotline_urgent_to_handoff",
        title=_("Akuta tips: tid till polisen"),
        description=_(
            "För akuta tips: tid från att tipset kom in tills överlämningen till polisen levererades, "
            "för leveranser under perioden."
        ),
        chart="table",
        columns=[_("Överlämnade"), _("Median (min)"), _("90:e percentilen (min)")],
        rows=[
            Row(
                _("Akuta tips"),
                [suppress_value(histogram.total(urgent)), _stat(urgent, 0.5, _minutes), _stat(urgent, 0.9, _minutes)],
            )
        ],
        unit=_("minuter"),
        summary=[(_("Median (min)"), _stat(urgent, 0.5, _minutes))],
    )
    return [figure, urgent_figure]


# Shown as separate rows: the largest groups; the rest are added up under "others".
MAX_TAKEDOWN_ROWS = 15
WITHIN = (histogram.DAY, 3 * histogram.DAY, 7 * histogram.DAY)


def _removal_row(label: str, buckets: dict[int, int], count: Cell) -> Row:
    if count is None:
        return Row(label, [None] * 6)
    return Row(
        label,
        [count, _stat(buckets, 0.5, _hours), _stat(buckets, 0.9, _hours), *_shares_within(buckets, WITHIN)],
    )


def _removal_figure(period: Period, metric: str, key: str, title: str) -> Figure:
    groups = _histograms(period, metric)
    ranked = sorted(groups.items(), key=lambda item: (-histogram.total(item[1]), item[0]))
    shown_groups = [
        (group, buckets)
        for group, buckets in ranked[:MAX_TAKEDOWN_ROWS]
        if group != "unknown" and histogram.total(buckets) >= MIN_CELL
    ]
    kept = {group for group, _buckets in shown_groups}
    others = _merged(buckets for group, buckets in groups.items() if group not in kept)
    labelled = [(group, buckets) for group, buckets in shown_groups]
    if histogram.total(others):
        labelled.append((_("Övriga och okända"), others))
    counts = suppress_column([histogram.total(buckets) for _label, buckets in labelled])
    everyone = _merged(groups.values())
    return Figure(
        key=key,
        title=title,
        description=_(
            "Tid från att begäran om borttagning skickades tills borttagningen registrerades, för "
            "borttagningar under perioden: median, 90:e percentil och andel inom 24 timmar, 72 timmar och 7 dagar."
        ),
        chart="table",
        columns=[
            _("Borttagna"),
            _("Median (h)"),
            _("90:e percentilen (h)"),
            _("Inom 24 h (%)"),
            _("Inom 72 h (%)"),
            _("Inom 7 d (%)"),
        ],
        rows=[_removal_row(label, buckets, count) for (label, buckets), count in zip(labelled, counts, strict=True)],
        unit=_("timmar"),
        summary=[
            (_("Borttagna"), suppress_value(histogram.total(everyone))),
            (_("Median (h)"), _stat(everyone, 0.5, _hours)),
            (_("90:e percentilen (h)"), _stat(everyone, 0.9, _hours)),
            *zip(
                [_("Inom 24 h (%)"), _("Inom 72 h (%)"), _("Inom 7 d (%)")],
                _shares_within(everyone, WITHIN),
                strict=True,
            ),
        ],
        note=_(
            "Från begäranden om borttagning per adress; för äldre tips utan sådana, från tipsets egna "
            "uppgifter om borttagning (land okänt)."
        ),
    )


def hotline_figures(period: Period) -> list[Figure]:
    """The hotline's figures for ``period``: tips, assessments, police hand-offs and takedown times."""
    return _cached("hotline", period, _hotline_figures)


def _hotline_figures(period: Period) -> list[Figure]:
    return [
        _tips_figure(period),
        _tips_by_found_via_figure(period),
        *_assessment_figures(period),
        *_handoff_figures(period),
        _removal_figure(
            period,
            Metric.REMOVAL_PROVIDER,
            "hotline_removal_by_provider",
            _("Tid till borttagning per leverantör"),
        ),
        _removal_figure(
            period, Metric.REMOVAL_COUNTRY, "hotline_removal_by_country", _("Tid till borttagning per land")
        ),
    ]


# --- Prevention ----------------------------------------------------------------------------


def prevention_figures(period: Period) -> list[Figure]:
    """The prevention articles as they stand now (no aggregation: articles are not contacts).

    Published articles per topic and audience, and how many are due for a new
    fact-check. Search terms are never stored, so there is no search figure.
    """
    audiences = list(Article.Audience)
    published = Article.objects.published()
    counts: dict[tuple[int | None, str], int] = defaultdict(int)
    for audience in audiences:
        field = Article.AUDIENCE_FIELDS[audience]
        for topic_id, n in (
            published.filter(**{field: True}).values_list("topics").annotate(n=Count("pk", distinct=True))
        ):
            counts[(topic_id, audience.value)] = n
    topics = list(Topic.objects.order_by("position", "name_sv").values_list("pk", "name_sv"))
    rows = [Row(name, [counts.get((pk, a.value), 0) for a in audiences]) for pk, name in topics]
    rows.append(Row(_("Utan ämne"), [counts.get((None, a.value), 0) for a in audiences]))
    start, end = period.start, period.end
    new = published.filter(publish_at__date__gte=start, publish_at__date__lte=end).count()
    due = Article.objects.exclude(status=Article.Status.ARCHIVED).review_due()
    return [
        Figure(
            key="prevention_articles",
            title=_("Publicerade artiklar per ämne och målgrupp"),
            description=_(
                "Artiklar som är publicerade nu, per ämne och målgrupp. En artikel kan ha flera ämnen och målgrupper."
            ),
            chart="stacked_bar",
            columns=[str(a.label) for a in audiences],
            rows=rows,
            unit=_("artiklar"),
            summary=[
                (_("Publicerade artiklar"), published.count()),
                (_("Publicerade under perioden"), new),
                (_("Behöver faktagranskas"), due.count()),
            ],
        ),
        Figure(
            key="prevention_review_due",
            title=_("Artiklar som behöver faktagranskas"),
            description=_("Artiklar (utom arkiverade) vars faktagranskning är äldre än ett år, per målgrupp."),
            chart="bar",
            columns=[_("Artiklar")],
            rows=[Row(str(a.label), [due.for_audience(a.value).count()]) for a in audiences],
            unit=_("artiklar"),
            summary=[(_("Behöver faktagranskas"), due.count())],
        ),
    ]
