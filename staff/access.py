"""Who may reach staff data: an active staff member, verified with a second factor."""

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from staff import sessions
from staff.roles import Role, has_role
from staff.types import StaffUser


def is_verified(request: HttpRequest) -> bool:
    """True when the request's user passed the second factor in this session."""
    user = request.user
    return bool(user.is_authenticated and getattr(user, "is_verified", lambda: False)())


def has_verified_role(request: HttpRequest, *roles: Role) -> bool:
    """True when the request's user passed the second factor and holds any of ``roles``."""
    return is_verified(request) and any(has_role(request.user, role) for role in roles)


def scope_is_verified(user: AbstractBaseUser | AnonymousUser, session: Any) -> bool:
    """True when ``session`` (a socket's) is alive and passed a second factor that ``user`` still holds."""
    if not user.is_authenticated or session is None or sessions.is_expired(session):
        return False
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return bool(device is not None and device.user_id == user.pk and device.confirmed)


async def scope_has_verified_role(scope: dict[str, Any], role: Role) -> bool:
    """For WebSocket consumers: OTPMiddleware does not run there, so check the session."""

    def check() -> bool:
        user = scope.get("user")
        if user is None:
            return False
        return scope_is_verified(user, scope.get("session")) and has_role(user, role)

    return await sync_to_async(check)()


def acting_staff(request: HttpRequest) -> StaffUser:
    """The signed-in staff member behind an admin request, as services take it.

    The admin site lets nobody else this far; anything else is refused rather
    than passed on as an anonymous actor.
    """
    if not isinstance(request.user, User) or not request.user.is_authenticated:
        raise PermissionDenied
    return request.user
