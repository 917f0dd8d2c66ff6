"""One ASGI application for HTTP and WebSocket traffic.

Run it with ``uvicorn ecpat_site.asgi:application`` (see README). The outer
``AnonymousScopeMiddleware`` strips the client address and User-Agent before
Django or Channels sees the connection.
"""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecpat_site.settings")
# Build the Django app (and so set Django up) before importing any routing.
# What get_asgi_application() does, with the handler that makes one hop per
# request (ecpat_site.handler says why).
django.setup(set_prefix=False)

from ecpat_site.handler import ASGIHandler  # noqa: E402

django_asgi_app = ASGIHandler()

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

# Everything loaded so far (Django, the apps, their modules: ~130,000 objects)
# lives as long as the process. Frozen, the garbage collector stops walking it:
# a full collection cost ~80 ms of CPU with the GIL held, stalling every
# request in flight, every few seconds under load (docs/benchmarks.md).
gc.freeze()
