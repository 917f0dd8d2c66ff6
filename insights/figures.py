"""What the insights selectors hand to the views: periods and figures, plain data.

A figure is already aggregated and already suppressed: a cell is ``None`` when it
stands for fewer than ``MIN_CELL`` contacts (or was suppressed so that it cannot be
derived from totals), or, in a figure whose ``empty_label`` is ``NOT_MEASURED``,
when nothing was measured. Views and charts only draw what they get; they never see a
row of the underlying data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

# Every shown number stands for at least this many contacts; smaller cells read "< 5".
MIN_CELL = 5
SUPPRESSED = "< 5"
# What an empty cell reads as in a figure that counts no contacts (nothing measured that hour).
NOT_MEASURED = "–"  # noqa: RUF001

ChartKind = Literal["heatmap", "bar", "stacked_bar", "line", "histogram", "table"]
Cell = int | float | None


@dataclass(frozen=True)
class Period:
    """A closed range of days, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (for comparison)."""
        return Period(start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))


@dataclass(frozen=True)
class Row:
    label: str
    values: list[Cell]


@dataclass(frozen=True)
class Figure:
    """One chart and the same numbers as a table.

    ``columns`` name the values of each row; for a heat map the rows are weekdays and
    the columns hours. ``summary`` holds the headline numbers (label, value) that the
    page compares with the previous period.
    """

    key: str
    title: str
    description: str
    chart: ChartKind
    columns: list[str]
    rows: list[Row]
    unit: str = ""
    summary: list[tuple[str, Cell]] = field(default_factory=list)
    note: str = ""
    # How a ``None`` cell reads: suppressed ("< 5"), or for a figure of something
    # other than contacts (opening hours, counsellors on duty) NOT_MEASURED, with
    # the note saying what an empty cell means.
    empty_label: str = SUPPRESSED

    @property
    def suppressed(self) -> bool:
        """True when some cell is hidden because it stands for fewer than MIN_CELL contacts."""
        return self.empty_label == SUPPRESSED and any(value is None for row in self.rows for value in row.values)
