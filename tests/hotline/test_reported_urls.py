import pytest

from hotline.reported_urls import InvalidReportedURL, normalise_url, url_hash


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.COM/Path?a=1", "https://example.com/Path?a=1"),
        ("example.com", "https://example.com/"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/x?utm_source=a&id=7&fbclid=b&gclid=c&UTM_Medium=d", "https://example.com/x?id=7"),
        ("https://Exämple.se/", "https://xn--exmple-cua.se/"),
        ("  https://example.com./a  ", "https://example.com/a"),
    ],
)
def test_urls_are_normalised(raw, expected):
    assert normalise_url(raw) == expected


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "ftp://example.com/x", "not a url", "https://", "data:x"])
def test_non_web_addresses_are_refused(raw):
    with pytest.raises(InvalidReportedURL):
        normalise_url(raw)


def test_the_same_place_hashes_the_same_and_the_hash_hides_the_url(settings):
    a = url_hash(normalise_url("HTTPS://EXAMPLE.com/x?utm_campaign=z"))
    assert a == url_hash(normalise_url("https://example.com/x"))
    assert a != url_hash(normalise_url("https://example.com/y"))
    assert "example" not in a
    settings.HOTLINE_HASH_KEY = "another key"
    assert url_hash(normalise_url("https://example.com/x")) != a
