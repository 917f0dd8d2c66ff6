"""`/healthz` reports the database, cache, channel layer and broker."""

import pytest
from django.test import AsyncClient

from ecpat_site.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)


async def test_all_ok_is_200_json():
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channellayer", "broker", "retention", "policehandoffs"}
    assert all(value == "ok" for value in body["checks"].values())
    assert "no-cache" in response["Cache-Control"]


async def test_unreachable_broker_is_503(monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"] != "ok"
    assert body["checks"]["database"] == "ok"
