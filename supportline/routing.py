"""The support line's WebSocket routes (filled by the chat itself)."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
