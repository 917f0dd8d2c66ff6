"""``bench/pages.py`` in a tiny configuration, so the benchmark cannot rot unnoticed.

It runs the real harness (migrate, collectstatic, the production profile under
uvicorn, the load generator) against the test database and checks that every
page answered 200 and got numbers; it makes no claim about speed.
"""

import json
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from tests.processes import ROOT, clean_env, database_url_for_subprocess

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_every_page_is_measured_beside_the_static_file(tmp_path):
    out = tmp_path / "result.json"
    env = clean_env(
        DATABASE_URL=database_url_for_subprocess(),
        REDIS_URL=settings.REDIS_URL,
        CHANNEL_LAYER_PREFIX=f"bench-smoke-{uuid.uuid4().hex[:8]}",
    )
    args = ["--clients", "2", "--seconds", "0.5", "--warmup", "0.2", "--repetitions", "1", "--json", str(out)]
    result = subprocess.run(
        [sys.executable, "bench/pages.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "of static" in result.stdout
    pages = {row["page"]: row for row in json.loads(out.read_text())["pages"]}
    assert set(pages) == {"static", "home", "article", "search", "hotline"}
    for row in pages.values():
        assert row["rate"] > 0
        assert row["errors"] == {}
    assert pages["static"]["ratio"] == 1.0
