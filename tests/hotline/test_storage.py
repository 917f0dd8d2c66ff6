"""After a tip is submitted, a dump of the database holds none of its text in plain form."""

import shutil
import subprocess

import pytest
from django.db import connection

from tests.hotline.conftest import post_tip_form

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

MARKERS = {
    "url": "zzprobe-host.example",
    "path": "zzprobe-path-4711",
    "place": "ZzProbePlaceGameName",
    "when": "ZzProbeWhenYesterday",
    "description": "ZzProbeDescriptionText",
    "contact": "zzprobe-contact@example.org",
    "answer": "ZzProbeReporterAnswer",
    "question": "ZzProbeAnalystQuestion",
}


def database_dump() -> str:
    settings = connection.settings_dict
    command = [
        shutil.which("pg_dump") or "pg_dump",
        "--data-only",
        "--host",
        settings.get("HOST") or "127.0.0.1",
        "--port",
        str(settings.get("PORT") or 5432),
        "--username",
        settings.get("USER") or "postgres",
        settings["NAME"],
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return result.stdout


def test_a_database_dump_holds_no_tip_text_in_plain_form(client, analyst):
    import re

    from hotline import services
    from hotline.models import Tip

    response = post_tip_form(
        client,
        {
            "urls": f"https://{MARKERS['url']}/{MARKERS['path']}?utm_source=x",
            "place": MARKERS["place"],
            "category": "grooming",
            "occurred": MARKERS["when"],
            "description": MARKERS["description"],
            "contact": MARKERS["contact"],
        },
        follow=True,
    )
    assert response.status_code == 200
    match = re.search(r'id="receipt-code">([^<]+)<', response.text)
    assert match is not None
    code = match.group(1)
    tip = Tip.objects.get()
    services.tip_ask_reporter(tip_id=tip.pk, actor=analyst, body=MARKERS["question"])
    client.post("/hotline/status/", {"code": code, "answer": MARKERS["answer"]})

    dump = database_dump()
    assert "hotline_tip" in dump  # the dump really covers the tip tables
    for name, marker in MARKERS.items():
        assert marker.lower() not in dump.lower(), f"{name} found in plain form"
    assert code not in dump and code.replace("-", "") not in dump
    # The app itself still reads everything back.
    tip.refresh_from_db()
    assert tip.description == MARKERS["description"]
