"""The real server, at LOG_LEVEL=DEBUG and DEBUG=1, never writes a search term to its log."""

import httpx
import pytest
from django.core.cache import cache

from tests.processes import AsgiServer, database_url_for_subprocess, service_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_live_server_log_holds_no_search_term(tmp_path, make_article):
    make_article(slug="en-bild", title="Om en bild", body="En bild är en bild.")
    cache.clear()
    log_path = tmp_path / "server.log"
    server = AsgiServer(
        env=service_env(
            DATABASE_URL=database_url_for_subprocess(),
            DATA_DIR=str(tmp_path),
            LOG_LEVEL="DEBUG",
            DEBUG="1",
        ),
        log_path=log_path,
    )
    server.start()
    term = "zebrafinkhemlis"
    try:
        with httpx.Client(base_url=server.url) as http:
            found = http.post("/kunskap/sok/", data={"q": f"bilder {term}"})
            assert found.status_code == 200
            hit = http.post("/kunskap/sok/", data={"q": "bilder"})
            assert "Om en bild" in hit.text
            http.post("/kunskap/sok/", data={"q": ""})
            http.get("/kunskap/sok/", params={"q": term})
            assert http.get("/kunskap/finns-inte/").status_code == 404
    finally:
        server.stop()
    log = server.output()
    assert "Not Found: /kunskap/finns-inte/" in log  # the log is really captured
    assert term not in log
    assert "bilder" not in log
