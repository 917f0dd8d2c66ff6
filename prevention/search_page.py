"""The search page's per-search part, its form and results, filled into frames of its template.

``prevention/_search_body.html`` stays the one description of that part. It is
rendered once per process for each language and *shape* (is there a value, an
error, a result; how many hits; a suggestion, shown or offered) with a mark
where each per-search value goes (``caching.framed``), and a search fills the
marks in: rendering the template per search, with its include, plural, URL and
bound-field lookups, cost more CPU than the search itself. A shape holds no
word of a query: only flags and the number of hits (at most ``RESULT_LIMIT``).
A test renders the template for every shape and compares.
"""

from collections.abc import Mapping
from typing import Any

from django.forms import BoundField
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from prevention.caching import framed
from prevention.forms import SearchForm
from prevention.search import SearchResult

BODY_TEMPLATE = "prevention/_search_body.html"
SLOTS = ("value", "errors", "typed", "suggestion", "items")


def search_body(form: SearchForm, result: SearchResult | None) -> str:
    """``BODY_TEMPLATE`` rendered with ``form`` and ``result``: the same HTML, from a frame."""
    field = form["q"]
    value = field.value()
    errors = field.errors
    shape = (bool(value), bool(errors), _result_shape(result))
    frame = framed(
        (BODY_TEMPLATE, get_language(), *shape),
        SLOTS,
        lambda marks: render_to_string(BODY_TEMPLATE, _stand_ins(field, shape, marks)),
    )
    values = {}
    for slot in frame.slots:
        if slot not in values:
            values[slot] = _html(_value_of(slot, form, value, errors, result))
    return frame.fill(values)


def _result_shape(result: SearchResult | None) -> tuple[int, bool, bool] | None:
    if result is None:
        return None
    return len(result.hits), bool(result.suggestion), result.showing_suggestion


def _stand_ins(field: BoundField, shape: tuple[Any, ...], marks: Mapping[str, SafeString]) -> dict[str, Any]:
    """What the template reads of the form and the result, with marks for the per-search values."""
    has_value, has_errors, result = shape
    context: dict[str, Any] = {
        "form": {
            "q": {
                "label": field.label,
                "value": marks["value"] if has_value else None,
                "errors": marks["errors"] if has_errors else "",
            },
            "cleaned_data": {"q": marks["typed"]},
        },
        "result": None,
    }
    if result is not None:
        hits, has_suggestion, showing_suggestion = result
        context["result"] = {
            "hits": [None] * hits,
            "suggestion": marks["suggestion"] if has_suggestion else None,
            "showing_suggestion": showing_suggestion,
            "items_html": marks["items"],
        }
    return context


def _value_of(slot: str, form: SearchForm, value: Any, errors: Any, result: SearchResult | None) -> Any:
    if slot == "value":
        return value
    if slot == "errors":
        return errors
    if slot == "typed":
        return form.cleaned_data["q"]
    if result is None:
        raise ValueError(f"the slot {slot} needs a result")
    if slot == "suggestion":
        return result.suggestion
    return result.items_html


def _html(value: Any) -> SafeString:
    # What the template does with {{ value }} under autoescape (render_value_in_context;
    # no slot holds a date or a number, which it would also localise).
    return conditional_escape(value if isinstance(value, str) else str(value))
