"""Charts draw a figure and nothing else: accessible SVG without script or inline style, "< 5" for suppressed cells."""

import re
import xml.etree.ElementTree as ET

import pytest

from insights import charts
from insights.figures import NOT_MEASURED, Figure, Row

SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"[\N{MINUS SIGN}\-+]?[\d\s\u00a0]+(,\d+)?( min| %)?")


def figure(chart="bar", key="chats-per-day", rows=None, columns=("Chattar", "Brev"), unit=""):
    rows = rows or [Row(f"2025-03-{day:02d}", [day * 7, None if day % 3 == 0 else day * 5]) for day in range(1, 11)]
    return Figure(
        key=key,
        title="Chattar och brev per dag",
        description="Hur många chattar och brev som kom in varje dag.",
        chart=chart,
        columns=list(columns),
        rows=rows,
        unit=unit,
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own chart, drawn in this test


def texts(svg: str) -> list[str]:
    root = parse(svg)
    return [text.strip() for element in root.iter() for text in [element.text or ""] if text.strip()]


@pytest.mark.parametrize("kind", ["bar", "stacked_bar", "line", "histogram"])
def test_a_chart_is_titled_and_described_for_screen_readers(kind):
    fig = figure(kind, key=f"k-{kind}")
    svg = str(charts.chart_svg(fig))
    root = parse(svg)
    assert root.get("role") == "img"
    title_id, desc_id = str(root.get("aria-labelledby")).split()
    title, desc = root[0], root[1]
    assert (title.tag, title.get("id"), title.text) == (f"{SVG}title", title_id, fig.title)
    assert (desc.tag, desc.get("id")) == (f"{SVG}desc", desc_id)
    assert str(desc.text).startswith(fig.description)


@pytest.mark.parametrize("kind", ["bar", "stacked_bar", "line", "histogram"])
def test_a_chart_runs_no_script_and_needs_no_inline_style(kind):
    svg = str(charts.chart_svg(figure(kind, key=f"s-{kind}")))
    root = parse(svg)
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert not tags & {"script", "style", "foreignObject", "a", "image"}
    assert all(element.get("style") is None for element in root.iter())
    assert "<!--" not in svg
    assert not any(name.startswith("on") for element in root.iter() for name in element.attrib)
    # Only the title and description carry ids, so several charts can share a page.
    assert [element.get("id") for element in root.iter() if element.get("id")] == [
        f"chart-s-{kind}-title",
        f"chart-s-{kind}-desc",
    ]


@pytest.mark.parametrize("kind", ["bar", "stacked_bar", "line", "histogram"])
def test_a_chart_shows_no_text_that_is_not_in_the_figure(kind):
    fig = figure(kind, key=f"t-{kind}")
    allowed = {fig.title, *fig.columns, *(row.label for row in fig.rows), "Inga tal att visa"}
    for text in texts(str(charts.chart_svg(fig))):
        if text.startswith(fig.description):
            continue
        assert text in allowed or NUMBER.fullmatch(text), f"{text!r} is not in the figure"


def test_a_suppressed_cell_is_drawn_as_no_bar():
    fig = figure("bar", key="suppressed")
    shown = sum(value is not None for row in fig.rows for value in row.values)
    root = parse(str(charts.chart_svg(fig)))
    bars = [rect for rect in root.iter(f"{SVG}rect") if "reactive" in (rect.get("class") or "").split()]
    legend_boxes = len(fig.columns)
    assert len(bars) - legend_boxes == shown
    assert "Värden under 5 visas inte." in str(root[1].text)


def test_long_labels_are_thinned_so_they_do_not_overlap():
    rows = [Row(f"v. {week} 2026", [week * 10]) for week in range(36, 49)]
    svg = str(charts.chart_svg(figure("line", key="weeks", rows=rows, columns=("Median",))))
    written = [text for text in texts(svg) if text.startswith("v. ")]
    assert 2 <= len(written) <= 8


def test_a_chart_with_every_cell_suppressed_says_so_in_swedish():
    fig = figure("bar", key="empty", rows=[Row("v. 1", [None, None]), Row("v. 2", [None, None])])
    assert "Inga tal att visa" in texts(str(charts.chart_svg(fig)))


def test_a_long_period_writes_only_some_day_labels():
    rows = [Row(f"d{day}", [day]) for day in range(365)]
    svg = str(charts.chart_svg(figure("line", key="year", rows=rows, columns=("Chattar",))))
    written = [text for text in texts(svg) if text.startswith("d")]
    assert 5 <= len(written) <= charts.MAX_X_LABELS + 1


def test_the_same_figure_is_drawn_once_and_a_changed_one_anew(monkeypatch):
    fig = figure("bar", key="cached")
    first = charts.chart_svg(fig)
    monkeypatch.setattr(charts, "_draw", lambda _figure: pytest.fail("drawn again"))
    assert charts.chart_svg(fig) == first
    changed = figure("bar", key="cached", rows=[Row("2025-03-01", [99, 98])])
    monkeypatch.setattr(charts, "_draw", lambda _figure: "<svg>new</svg>")
    assert charts.chart_svg(changed) == "<svg>new</svg>"


def test_a_heat_map_shades_cells_by_the_busiest_and_writes_suppressed_cells_as_less_than_five():
    fig = figure(
        "heatmap",
        key="heat",
        columns=[f"{hour:02d}" for hour in range(4)],
        rows=[Row("Måndag", [0, 10, 20, None]), Row("Tisdag", [5, 40, 1000, 6])],
    )
    rows = charts.heat_rows(fig)
    assert [row.label for row in rows] == ["Måndag", "Tisdag"]
    assert [(cell.text, cell.level) for cell in rows[0].cells] == [("0", 0), ("10", 1), ("20", 1), ("< 5", None)]
    assert [(cell.text, cell.level) for cell in rows[1].cells] == [("5", 1), ("40", 1), ("1\xa0000", 5), ("6", 1)]


def test_cells_are_written_the_swedish_way():
    assert charts.format_cell(None) == "< 5"
    assert charts.format_cell(12345) == "12\xa0345"
    assert charts.format_cell(12.25, "min") == "12,2 min"
    assert charts.format_cell(7.0, "%") == "7 %"
    assert charts.format_cell(0.214) == "0,21"


def test_a_heat_map_or_table_has_no_svg():
    with pytest.raises(ValueError, match="heatmap"):
        charts.chart_svg(figure("heatmap"))


def test_a_heat_map_table_has_headers_for_every_row_and_column():
    fig = figure(
        "heatmap", key="heat-html", columns=["00", "01"], rows=[Row("Måndag", [None, 40]), Row("<b>", [6, 12])]
    )
    html = str(charts.heat_cells_html(fig))
    assert html.count('<th scope="col">') == 3  # the corner and two hours
    assert '<th scope="row">Måndag</th><td class="heat-suppressed">&lt; 5</td><td class="heat-5">40</td>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_an_empty_cell_of_a_figure_that_counts_no_contacts_reads_not_measured_not_suppressed():
    """Opening hours and counsellors on duty are not contacts: an empty hour was not measured, not hidden."""
    fig = Figure(
        key="on-duty",
        title="Rådgivare i tjänst",
        description="Genomsnitt per timme.",
        chart="heatmap",
        columns=["00", "01"],
        rows=[Row("Måndag", [None, 2.5])],
        empty_label=NOT_MEASURED,
    )
    assert [cell.text for cell in charts.heat_rows(fig)[0].cells] == ["–", "2,5"]  # noqa: RUF001
    assert not fig.suppressed and not charts.has_suppressed_cells(fig)
    assert figure().suppressed  # the default figure's None cells are suppressed contacts
