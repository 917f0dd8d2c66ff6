import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def swedish():
    # A request to /en/ in an earlier test (tests/hotline) leaves English active in this thread,
    # and the figures' labels are translated.
    with translation.override("sv"):
        yield
