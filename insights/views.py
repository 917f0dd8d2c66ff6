"""The insights pages: one per data owner, behind the two-factor admin site.

Support line for supervisors, hotline for analysts, prevention for editors;
administrators see all three. Each page takes its period from a GET form,
shows every figure as a chart with its table, the headline numbers beside the
previous period's, and answers ``?format=csv`` with the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from insights import charts, export, selectors, summary
from insights.figures import Figure, Period
from insights.forms import PeriodChoice, PeriodForm
from staff.access import has_verified_role
from staff.roles import Role


@dataclass(frozen=True)
class Section:
    slug: str
    url_name: str
    title: str | Promise
    permission: str
    roles: tuple[Role, ...]
    # The name of the function in insights.selectors that returns the page's figures.
    selector: str
    notice: str | Promise = ""

    def figures(self, period: Period) -> list[Figure]:
        select: Callable[[Period], list[Figure]] = getattr(selectors, self.selector)
        return select(period)

    def allows(self, request: HttpRequest) -> bool:
        """A verified member of the owning role (or an administrator) who also holds the permission."""
        return has_verified_role(request, *self.roles) and request.user.has_perm(self.permission)


SECTIONS = {
    section.url_name: section
    for section in (
        Section(
            slug="stodlinjen",
            url_name="support",
            title=_("Stödlinjen"),
            permission="insights.view_support_insights",
            roles=(Role.SUPERVISOR, Role.ADMINISTRATOR),
            selector="support_figures",
        ),
        Section(
            slug="hotline",
            url_name="hotline",
            title=_("Hotline"),
            permission="insights.view_hotline_insights",
            roles=(Role.ANALYST, Role.ADMINISTRATOR),
            selector="hotline_figures",
        ),
        Section(
            slug="forebyggande",
            url_name="prevention",
            title=_("Förebyggande"),
            permission="insights.view_prevention_insights",
            roles=(Role.EDITOR, Role.ADMINISTRATOR),
            selector="prevention_figures",
            notice=_(
                "Sökord sparas aldrig, varken i databasen eller i loggar. "
                "Därför finns det ingen statistik över sökningar."
            ),
        ),
    )
}


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: list[str]


@dataclass(frozen=True)
class FigureView:
    """A figure with what its template draws: chart or heat map, and the table."""

    figure: Figure
    svg: SafeString | None
    heat: SafeString | None
    table: list[TableRow]
    suppressed: bool


@dataclass(frozen=True)
class ComparisonRow:
    figure: str
    label: str
    current: str
    previous: str
    change: str


def _comparison_row(comparison: summary.Comparison) -> ComparisonRow:
    change = comparison.change
    if change is None:
        change_text = "\N{EN DASH}"
    else:
        sign = "+" if change > 0 else ""
        change_text = f"{sign}{charts.format_cell(change)}"
        percent = comparison.change_percent
        if percent is not None:
            change_text += f" ({sign}{charts.format_cell(round(percent, 1) * 1.0)} %)"
    return ComparisonRow(
        figure=comparison.figure,
        label=comparison.label,
        current=charts.format_cell(comparison.current),
        previous=charts.format_cell(comparison.previous),
        change=change_text,
    )


def _figure_view(figure: Figure) -> FigureView:
    return FigureView(
        figure=figure,
        svg=charts.chart_svg(figure) if charts.has_chart(figure) else None,
        heat=charts.heat_cells_html(figure) if figure.chart == "heatmap" else None,
        table=[
            TableRow(
                label=row.label,
                cells=[charts.format_cell(value, figure.unit, figure.empty_label) for value in row.values],
            )
            for row in figure.rows
        ],
        suppressed=charts.has_suppressed_cells(figure),
    )


def allowed_sections(request: HttpRequest) -> list[Section]:
    return [section for section in SECTIONS.values() if section.allows(request)]


def index_panel_context(request: HttpRequest) -> dict[str, Any] | None:
    """The admin start page's statistics card: a link to each page the member may open."""
    sections = allowed_sections(request)
    if not sections:
        return None
    return {"links": [(reverse(f"insights:{section.url_name}"), section.title) for section in sections]}


def _page(request: HttpRequest, section: Section) -> HttpResponse:
    if not section.allows(request):
        raise PermissionDenied
    form = PeriodForm(request.GET or None)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Statistik: %(section)s") % {"section": section.title},
        "section": section,
        "sections": allowed_sections(request),
        "form": form,
        "custom_choice": PeriodChoice.CUSTOM,
        "year_choice": PeriodChoice.YEAR,
    }
    if request.GET and not form.is_valid():
        return TemplateResponse(request, "admin/insights/section.html", context, status=400)
    if not request.GET:
        form = PeriodForm({"period": PeriodChoice.LAST_30})
        form.is_valid()
        context["form"] = form
    period, previous = form.chosen()
    figures = section.figures(period)
    comparisons = summary.comparisons(figures, section.figures(previous))
    if form.wants_csv:
        return _csv(section, period, previous, figures, comparisons)
    query = request.GET.copy()
    query["format"] = "csv"
    context.update(
        period=period,
        previous=previous,
        comparisons=[_comparison_row(comparison) for comparison in comparisons],
        figures=[_figure_view(figure) for figure in figures],
        csv_query=query.urlencode(),
    )
    return TemplateResponse(request, "admin/insights/section.html", context)


def _csv(
    section: Section,
    period: Period,
    previous: Period,
    figures: Sequence[Figure],
    comparisons: Sequence[summary.Comparison],
) -> HttpResponse:
    body = export.figures_csv(
        title=str(section.title), period=period, previous=previous, figures=figures, comparisons=comparisons
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.csv_filename(section.slug, period)}"'
    return response


@require_safe
def support(request: HttpRequest) -> HttpResponse:
    return _page(request, SECTIONS["support"])


@require_safe
def hotline(request: HttpRequest) -> HttpResponse:
    return _page(request, SECTIONS["hotline"])


@require_safe
def prevention(request: HttpRequest) -> HttpResponse:
    return _page(request, SECTIONS["prevention"])
