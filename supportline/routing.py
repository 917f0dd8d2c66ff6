"""The support line's WebSocket routes."""

from django.urls import path

from supportline.consumers import CounsellorConsumer, VisitorChatConsumer

websocket_urlpatterns = [
    path("ws/chat/", VisitorChatConsumer.as_asgi()),
    path("ws/counsellor/", CounsellorConsumer.as_asgi()),
]
