"""Every WebSocket route of the site; each app owns its own ``routing.py``."""

from django.urls import path

from ecpat_site.consumers import PingConsumer
from supportline.routing import websocket_urlpatterns as supportline_patterns

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
    *supportline_patterns,
]
