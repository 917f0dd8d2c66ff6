import base64

import pytest
from django.utils import translation

from hotline.forms import TipForm


@pytest.fixture(autouse=True)
def swedish():
    # An earlier request to /en/ leaves English active in this thread.
    with translation.override("sv"):
        yield


VALID = {
    "urls": "HTTPS://Example.COM/page?utm_source=x&id=3\nexample.org/b",
    "place": "",
    "category": "grooming",
    "occurred": "i går",
    "description": "En vuxen skrev till ett barn.",
    "contact": "",
}


def form(**changes):
    return TipForm(data={**VALID, **changes})


def test_a_valid_tip_has_normalised_urls():
    f = form()
    assert f.is_valid(), f.errors
    assert f.cleaned_data["urls"] == ["https://example.com/page?id=3", "https://example.org/b"]


def test_the_form_has_no_file_input():
    html = str(TipForm())
    assert 'type="file"' not in html
    assert "multipart" not in html


def test_a_place_description_is_enough_without_urls():
    assert form(urls="", place="Spelet Exempel, användaren xyz").is_valid()


def test_neither_url_nor_place_is_an_error_on_the_url_field():
    f = form(urls="", place="")
    assert not f.is_valid()
    assert "urls" in f.errors


@pytest.mark.parametrize("field", ["urls", "description", "place", "contact"])
def test_a_pasted_data_uri_is_refused_with_the_reason(field):
    f = form(**{field: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"})
    assert not f.is_valid()
    assert "bild" in str(f.errors[field])


def test_a_pasted_base64_image_is_refused():
    blob = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2).decode()
    f = form(description="Titta här " + blob)
    assert not f.is_valid()
    assert "kodad form" in str(f.errors["description"])


def test_the_description_has_a_length_limit(settings):
    settings.HOTLINE_DESCRIPTION_MAX_LENGTH = 50
    f = form(description="a " * 40)
    assert not f.is_valid()
    assert "description" in f.errors
    assert "högst 50 tecken. Du har skrivit 79." in str(f.errors["description"])
    assert 'data-max-length="50"' in str(f["description"])


def test_a_bad_url_names_itself():
    f = form(urls="javascript:alert(1)")
    assert not f.is_valid()
    assert "ingen webbadress" in str(f.errors["urls"])


def test_a_category_is_required():
    f = form(category="")
    assert not f.is_valid()
    assert "category" in f.errors
