"""The half-finished login between the password and the second factor.

After the password only the user's id sits in the session: nobody is logged
in, so nothing in the admin (or any staff view) is reachable until the
second factor is passed. The pending state expires, and changing the
password invalidates it.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme

from staff.types import StaffUser

PENDING_KEY = "staff_pending_login"


def begin(request: HttpRequest, user: StaffUser, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "auth_hash": user.get_session_auth_hash(),
        "started_at": timezone.now().timestamp(),
        "next": next_url if _is_safe(request, next_url) else "",
    }


def pending_user(request: HttpRequest) -> Any | None:
    """The user who passed the password step in this session, if it is still fresh."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    age = timezone.now().timestamp() - float(pending.get("started_at", 0))
    if age > timedelta(minutes=settings.STAFF_LOGIN_STEP_MINUTES).total_seconds():
        clear(request)
        return None
    user_id = pending.get("user_id")
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash(), str(pending.get("auth_hash", ""))):
        clear(request)
        return None
    return user


def next_url(request: HttpRequest) -> str:
    pending = request.session.get(PENDING_KEY) or {}
    candidate = str(pending.get("next", ""))
    return candidate if _is_safe(request, candidate) else ""


def remember_enrolment_device(request: HttpRequest, device_id: int) -> None:
    """The unconfirmed device whose secret this session was shown last."""
    pending = request.session.get(PENDING_KEY)
    if isinstance(pending, dict):
        request.session[PENDING_KEY] = {**pending, "enrolment_device": device_id}


def enrolment_device_id(request: HttpRequest) -> int | None:
    pending = request.session.get(PENDING_KEY) or {}
    device_id = pending.get("enrolment_device")
    return device_id if isinstance(device_id, int) else None


def clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def _is_safe(request: HttpRequest, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
