"""``/healthz``: JSON on the database, cache, channel layer, broker, retention jobs and police hand-offs."""

import asyncio
import contextlib
import dataclasses
import uuid
from typing import Any

from channels.layers import get_channel_layer
from django.http import HttpRequest, JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from ecpat_site.celery import app as celery_app
from hotline.health import PoliceHandoffs
from retention.health import Retention


@dataclasses.dataclass
class ChannelLayer(HealthCheck):
    """Sends a message to a fresh channel and reads it back."""

    async def run(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            raise ServiceUnavailable("No channel layer configured")
        token = uuid.uuid4().hex
        try:
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "health.probe", "token": token})
            message = await asyncio.wait_for(layer.receive(channel), timeout=3)
            # A cancelled receive is how a layer releases a channel (as when a
            # consumer closes); without it each probe would leave a subscription.
            pending = asyncio.ensure_future(layer.receive(channel))
            await asyncio.sleep(0)
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        except Exception as exc:  # any failure of the layer is "unavailable"
            raise ServiceUnavailable("Channel layer unreachable") from exc
        if message.get("token") != token:
            raise ServiceUnavailable("Channel layer returned another message")


@dataclasses.dataclass
class Broker(HealthCheck):
    """Opens a connection to the Celery broker."""

    def run(self) -> None:
        try:
            with celery_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=3)
        except Exception as exc:
            raise ServiceUnavailable("Broker unreachable") from exc


class Healthz(HealthCheckView):
    """Always JSON; 200 when every check passes, 503 otherwise."""

    checks = (Database, Cache, ChannelLayer, Broker, Retention, PoliceHandoffs)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            self.results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        checks = {
            type(result.check).__name__.lower(): "ok" if result.error is None else str(result.error)
            for result in self.results
        }
        healthy = all(result.error is None for result in self.results)
        return JsonResponse(
            {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
        )


healthz = Healthz.as_view()
