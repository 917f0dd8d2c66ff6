"""A page's figures as CSV: the same suppressed numbers the page shows, "< 5" included.

UTF-8 with a byte-order mark, so spreadsheet programs read å, ä and ö; plain
numbers with a decimal point, so they stay numbers when read back. A text
cell that a spreadsheet would run as a formula is quoted with a leading
apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from django.utils.translation import gettext as _

from insights.figures import SUPPRESSED, Cell, Figure, Period
from insights.summary import Comparison

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_filename(slug: str, period: Period) -> str:
    return f"statistik-{slug}-{period.start.isoformat()}-{period.end.isoformat()}.csv"


def figures_csv(
    *, title: str, period: Period, previous: Period, figures: Sequence[Figure], comparisons: Sequence[Comparison]
) -> str:
    """The page as CSV: a heading, the summary beside the previous period, then each figure's table."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_text(title)])
    writer.writerow([_("Period"), period.start.isoformat(), period.end.isoformat()])
    writer.writerow([_("Jämförs med"), previous.start.isoformat(), previous.end.isoformat()])
    if comparisons:
        writer.writerow([])
        writer.writerow([_("Figur"), _("Mått"), _("Perioden"), _("Föregående period"), _("Förändring")])
        for comparison in comparisons:
            writer.writerow(
                [
                    _text(comparison.figure),
                    _text(comparison.label),
                    _cell(comparison.current),
                    _cell(comparison.previous),
                    _cell(comparison.change) if comparison.change is not None else "",
                ]
            )
    for figure in figures:
        writer.writerow([])
        writer.writerow([_text(figure.title)])
        if figure.unit:
            writer.writerow([_("Enhet"), _text(figure.unit)])
        writer.writerow(["", *(_text(column) for column in figure.columns)])
        for row in figure.rows:
            writer.writerow([_text(row.label), *(_cell(value, figure.empty_label) for value in row.values)])
        if figure.note:
            writer.writerow([_text(figure.note)])
    return out.getvalue()


def _cell(value: Cell, empty: str = SUPPRESSED) -> str:
    if value is None:
        return empty
    if isinstance(value, float):
        return f"{value:.1f}" if not value.is_integer() else str(int(value))
    return str(value)


def _text(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
