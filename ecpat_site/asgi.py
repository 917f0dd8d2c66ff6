"""One ASGI application for HTTP and WebSocket traffic.

Run it with ``uvicorn ecpat_site.asgi:application`` (see README). The outer
``AnonymousScopeMiddleware`` strips the client address and User-Agent before
Django or Channels sees the connection.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecpat_site.settings")
# Build the Django app (and so set Django up) before importing any routing.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from ecpat_site.lifespan import lifespan  # noqa: E402
from ecpat_site.routing import websocket_urlpatterns  # noqa: E402
from privacy.asgi import AnonymousScopeMiddleware  # noqa: E402

application = AnonymousScopeMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
            "lifespan": lifespan,
        }
    )
)
