import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from audit.services import record_event
from staff.sessions import PASSIVE_HEADER, is_expired, record_activity

logger = logging.getLogger(__name__)


class StaffSessionMiddleware:
    """Logs a staff member out when their session is idle or too old.

    Sits after the authentication and OTP middleware. A session without
    timestamps (logged in some other way, or from before this middleware)
    starts its clock at its first request.

    Synchronous, like all of Django's own middleware: the site's ASGI handler
    (``ecpat_site.handler``) runs the whole chain and the view in one call on
    the request's thread. A request without a session cookie has no staff
    member to check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self._checked(request)
        return self.get_response(request)

    def _checked(self, request: HttpRequest) -> None:
        try:
            self._check(request)
        except DatabaseError as exc:
            # The database is down: quick exit and the safety page must still
            # answer a staff member; every staff view needs the database anyway.
            logger.warning("staff session not checked: database unavailable (%s)", type(exc).__name__)

    def _check(self, request: HttpRequest) -> None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            # No session to age. Not touching request.user keeps the session
            # unread, so cookie-less requests (the partner API, the public
            # pages) get no "Vary: Cookie" and no session lookup.
            return
        user = request.user
        if user.is_authenticated and getattr(user, "is_staff", False):
            if is_expired(request.session):
                record_event(actor=user, action="staff.session.expired", object_type="auth.User", object_id=user.pk)
                logout(request)
            elif request.headers.get(PASSIVE_HEADER) != "1":
                record_activity(request.session)
