import logging
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import logout
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from audit.services import record_event
from staff.sessions import is_expired, record_activity

logger = logging.getLogger(__name__)


class StaffSessionMiddleware:
    """Logs a staff member out when their session is idle or too old.

    Sits after the authentication and OTP middleware. A session without
    timestamps (logged in some other way, or from before this middleware)
    starts its clock at its first request.

    Async-capable: the only synchronous middleware in the stack made every
    request under ASGI hop to a thread and back before the view's own hop.
    A request without a session cookie has no staff member to check, so the
    public pages skip the check (and its thread) entirely.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse] | Callable[[HttpRequest], Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self._is_async:
            return self.__acall__(request)
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self._checked(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            await sync_to_async(self._checked)(request)
        return await self.get_response(request)  # type: ignore[misc,no-any-return]

    def _checked(self, request: HttpRequest) -> None:
        try:
            self._check(request)
        except DatabaseError as exc:
            # The database is down: quick exit and the safety page must still
            # answer a staff member; every staff view needs the database anyway.
            logger.warning("staff session not checked: database unavailable (%s)", type(exc).__name__)

    def _check(self, request: HttpRequest) -> None:
        user = request.user
        if user.is_authenticated and getattr(user, "is_staff", False):
            if is_expired(request.session):
                record_event(actor=user, action="staff.session.expired", object_type="auth.User", object_id=user.pk)
                logout(request)
            else:
                record_activity(request.session)
