"""django-axes without client traces: lockout by username, nothing about the client stored.

The ASGI edge already drops the client address and User-Agent in production;
these hooks make sure axes stores neither even when a request still carries
them (the test client, a misconfigured proxy).
"""

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def no_client_address(request: HttpRequest) -> None:
    """``AXES_CLIENT_IP_CALLABLE``: the site never knows who the client is."""
    return None


def client_description(username: str, ip_address: str, user_agent: str, path_info: str, request: Any) -> str:
    """``AXES_CLIENT_STR_CALLABLE``: what axes writes in its log lines."""
    return f"{{username: {username!r}}}"


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: a plain Swedish page instead of axes' English text."""
    from django.contrib import admin

    context = {**admin.site.each_context(request), "has_permission": False}
    return render(request, "staff/locked_out.html", context, status=429)


def _forget_client(request: Any) -> None:
    if request is not None:
        request.axes_ip_address = None
        request.axes_user_agent = ""
        request.axes_http_accept = ""


class AnonymousClientHandler(AxesDatabaseHandler):
    """Axes' database handler, with the client's address and User-Agent blanked first."""

    def is_allowed(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        _forget_client(request)
        return bool(super().is_allowed(request, credentials))

    def user_login_failed(self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
        _forget_client(request)
        super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        _forget_client(request)
        super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        _forget_client(request)
        super().user_logged_out(sender, request, user, **kwargs)
