"""Figures drawn as accessible SVG (pygal) or, for heat maps, as an HTML table.

Charts draw only what a ``Figure`` holds: its title, description, labels and
numbers. pygal's own ``<style>``, ``<script>``, comments, tooltip layer and
element ids are removed, so a chart runs no script, needs no inline style
(the strict CSP blocks both) and several charts can share a page; colours
and fonts come from ``static/insights/insights.css`` through pygal's classes.
A suppressed cell (``None``) is drawn as no bar and written "< 5".

Rendering a year of daily bars takes pygal tens of milliseconds, so each SVG
is cached under a hash of the figure itself: the same numbers give the same
chart, and a changed number is a different key, never a stale chart.
"""

from __future__ import annotations

import hashlib
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pygal
from django.core.cache import cache
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from insights.figures import SUPPRESSED, Cell, Figure

# Bump when the drawing changes, so cached charts are drawn anew.
CHART_VERSION = 4
CHART_CACHE_SECONDS = 24 * 60 * 60
WIDTH = 800
HEIGHT = 360
# More x labels than fit (never more than this) and only every n-th is written, so they stay legible.
MAX_X_LABELS = 14
PLOT_WIDTH = 700
HEAT_LEVELS = 5

_PYGAL_CHARTS: dict[str, Any] = {
    "bar": pygal.Bar,
    "stacked_bar": pygal.StackedBar,
    "histogram": pygal.Bar,
    "line": pygal.Line,
}
_DROPPED_TAGS = {"style", "script", "desc", "title"}


def format_cell(value: Cell, unit: str = "", empty: str = SUPPRESSED) -> str:
    """A cell as staff read it: Swedish digits, ``empty`` ("< 5", suppressed) when None."""
    if value is None:
        return empty
    if isinstance(value, float) and not value.is_integer():
        # Ratios below one (0.21 chats per counsellor hour) keep a second decimal.
        places = 2 if abs(value) < 1 else 1
        text = number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    else:
        text = number_format(int(value), use_l10n=True, force_grouping=True)
    return f"{text} {unit}" if unit else text


def has_chart(figure: Figure) -> bool:
    return figure.chart in _PYGAL_CHARTS


def has_suppressed_cells(figure: Figure) -> bool:
    return figure.suppressed


def chart_svg(figure: Figure) -> SafeString:
    """The figure as an inline SVG with a title and a description; cached by its content."""
    if not has_chart(figure):
        raise ValueError(f"figure {figure.key!r} is a {figure.chart}, not an SVG chart")
    digest = hashlib.sha256(f"{CHART_VERSION}|{get_language()}|{figure!r}".encode()).hexdigest()
    key = f"insights:chart:{digest}"
    svg = cache.get(key)
    if not isinstance(svg, str):
        svg = _draw(figure)
        cache.set(key, svg, CHART_CACHE_SECONDS)
    return mark_safe(svg)  # noqa: S308 - serialised by ElementTree, which escapes every text and attribute


def _draw(figure: Figure) -> str:
    # As many x labels as fit side by side at about 7.5 units a character ("v. 36 2026" fits eight times).
    longest = max((len(row.label) for row in figure.rows), default=1)
    fit = max(2, min(MAX_X_LABELS, int(PLOT_WIDTH // (longest * 7.5 + 12))))
    many = len(figure.rows) > fit
    config: dict[str, Any] = {
        "js": [],
        "css": [],
        "width": WIDTH,
        "height": HEIGHT,
        "disable_xml_declaration": True,
        "no_prefix": True,
        "show_legend": len(figure.columns) > 1,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": min(len(figure.columns), 4) or None,
        "truncate_label": -1,
        "truncate_legend": -1,
        "value_formatter": lambda value: format_cell(value, empty=figure.empty_label),
        "show_minor_x_labels": not many,
        "x_labels_major_every": math.ceil(len(figure.rows) / fit) if many else None,
        "print_values": False,
        "margin": 12,
        "no_data_text": _("Inga tal att visa"),
    }
    if figure.chart == "line":
        config.update(show_dots=not many, include_x_axis=True)
    if figure.chart == "histogram":
        config.update(spacing=2)
    chart = _PYGAL_CHARTS[figure.chart](**config)
    chart.x_labels = [row.label for row in figure.rows]
    for index, column in enumerate(figure.columns):
        chart.add(column, [row.values[index] if index < len(row.values) else None for row in figure.rows])
    root = chart.render_tree()
    _strip(root)
    _label(root, figure)
    return ET.tostring(root, encoding="unicode")


def _strip(element: ET.Element) -> None:
    """Removes what the CSP would block or that repeats on every chart: style, script, ids, tooltips."""
    for child in list(element):
        tag = child.tag
        dropped = (
            not isinstance(tag, str)  # comments (pygal's banner and the date it drew the chart)
            or tag in _DROPPED_TAGS
            or "tooltip-overlay" in child.get("class", "").split()
        )
        if dropped:
            element.remove(child)
            continue
        child.attrib.pop("id", None)
        child.attrib.pop("style", None)
        _strip(child)


def _label(root: ET.Element, figure: Figure) -> None:
    for empty in [child for child in root if child.tag == "defs" and len(child) == 0]:
        root.remove(empty)
    root.attrib.pop("id", None)
    root.set("class", f"pygal-chart insights-chart insights-chart-{figure.chart.replace('_', '-')}")
    root.set("role", "img")
    root.set("aria-labelledby", f"chart-{figure.key}-title chart-{figure.key}-desc")
    title = ET.Element("title", {"id": f"chart-{figure.key}-title"})
    title.text = figure.title
    desc = ET.Element("desc", {"id": f"chart-{figure.key}-desc"})
    desc.text = figure.description
    if has_suppressed_cells(figure):
        desc.text += " " + _("Värden under 5 visas inte.")
    root.insert(0, desc)
    root.insert(0, title)


@dataclass(frozen=True)
class HeatCell:
    text: str
    # 0 (nothing) to HEAT_LEVELS (the busiest cell); None when suppressed.
    level: int | None


@dataclass(frozen=True)
class HeatRow:
    label: str
    cells: list[HeatCell]


def heat_rows(figure: Figure) -> list[HeatRow]:
    """A heat map's rows (weekdays) and cells (hours), each with a shade proportional to the busiest cell.

    Cells hold bare numbers: 168 of them cannot each repeat the unit, which the page writes once.
    """
    numbers = [value for row in figure.rows for value in row.values if value is not None]
    peak = max(numbers, default=0)

    def level(value: Cell) -> int | None:
        if value is None:
            return None
        if value <= 0 or peak <= 0:
            return 0
        return max(1, math.ceil(HEAT_LEVELS * value / peak))

    return [
        HeatRow(
            label=row.label,
            cells=[HeatCell(text=format_cell(v, empty=figure.empty_label), level=level(v)) for v in row.values],
        )
        for row in figure.rows
    ]


def heat_cells_html(figure: Figure) -> SafeString:
    """A heat map's header and body rows as HTML (built here: 168 cells through template loops cost too much)."""
    head = format_html_join("", '<th scope="col">{}</th>', ((column,) for column in figure.columns))
    body = format_html_join(
        "",
        '<tr><th scope="row">{}</th>{}</tr>',
        (
            (
                row.label,
                format_html_join(
                    "",
                    '<td class="{}">{}</td>',
                    (
                        ("heat-suppressed" if cell.level is None else f"heat-{cell.level}", cell.text)
                        for cell in row.cells
                    ),
                ),
            )
            for row in heat_rows(figure)
        ),
    )
    return format_html(
        '<thead><tr><th scope="col"><span class="visually-hidden">{}</span></th>{}</tr></thead><tbody>{}</tbody>',
        _("Dag"),
        head,
        body,
    )
