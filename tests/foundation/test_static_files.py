"""Static files and icons through the real server: complete, cacheable, and without a warning in the log."""

from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, AsgiServer, database_url_for_subprocess, service_env

CSS = ROOT / "static" / "css" / "site.css"


@pytest.fixture
def server(tmp_path: Path):
    env = service_env(DATABASE_URL=database_url_for_subprocess(), DATA_DIR=str(tmp_path), PYTHONWARNINGS="default")
    server = AsgiServer(env, log_path=tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
async def test_pages_icons_and_static_files_load_without_a_warning(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        for page in ("/", "/en/", "/hotline/", "/kunskap/", "/admin/login/"):
            answer = await client.get(page)
            assert answer.status_code == 200, page
            # Every page names the icons, so no browser asks for a missing one.
            assert 'rel="icon" href="/favicon.ico"' in answer.text, page
            assert 'rel="apple-touch-icon" href="/apple-touch-icon.png"' in answer.text, page

        # What browsers and phones ask for at the root, whether linked or not.
        for path, content_type in (("/favicon.ico", "image/"), ("/apple-touch-icon.png", "image/png")):
            answer = await client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["content-type"].startswith(content_type), path
            assert answer.content == (ROOT / "site_root" / path.lstrip("/")).read_bytes()
        assert (await client.get("/static/icons/favicon.svg")).status_code == 200

        # A static file arrives whole, compressed when asked, and revalidates.
        plain = await client.get("/static/css/site.css", headers={"Accept-Encoding": "identity"})
        assert plain.content == CSS.read_bytes()
        assert int(plain.headers["content-length"]) == len(plain.content)
        unchanged = await client.get("/static/css/site.css", headers={"If-None-Match": plain.headers["etag"]})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        head = await client.head("/static/css/site.css")
        assert head.status_code == 200
        assert head.content == b""
        part = await client.get("/static/css/site.css", headers={"Range": "bytes=0-9", "Accept-Encoding": "identity"})
        assert part.status_code == 206
        assert part.content == CSS.read_bytes()[:10]

    log = server.output()
    assert "Warning" not in log, log  # e.g. "StreamingHttpResponse must consume synchronous iterators"
    assert "Not Found" not in log, log
