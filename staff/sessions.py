"""Staff sessions end after a spell of inactivity and after an absolute lifetime."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

STARTED_KEY = "staff_session_started"
SEEN_KEY = "staff_session_seen"
# Refreshing "last seen" on every request would write the session each time.
SEEN_RESOLUTION_SECONDS = 30


def start(session: Any) -> None:
    now = timezone.now().timestamp()
    session[STARTED_KEY] = now
    session[SEEN_KEY] = now


# A page refreshing itself on a timer (the console's letters list) sends this header:
# the request is served and the session still checked, but it is not activity, so an
# unattended screen still logs out when idle.
PASSIVE_HEADER = "X-Staff-Passive"


def is_expired(session: Any) -> bool:
    """True once the session was idle too long or has lived past its absolute lifetime."""
    started, seen = session.get(STARTED_KEY), session.get(SEEN_KEY)
    if started is None or seen is None:
        return False
    now = timezone.now().timestamp()
    idle = timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES).total_seconds()
    lifetime = timedelta(hours=settings.STAFF_SESSION_MAX_HOURS).total_seconds()
    return now - float(seen) > idle or now - float(started) > lifetime


def record_activity(session: Any) -> bool:
    """Moves the idle clock on (at most every ``SEEN_RESOLUTION_SECONDS``); True if the session changed."""
    if STARTED_KEY not in session or SEEN_KEY not in session:
        start(session)
        return True
    now = timezone.now().timestamp()
    if now - float(session[SEEN_KEY]) < SEEN_RESOLUTION_SECONDS:
        return False
    session[SEEN_KEY] = now
    return True


def session_alive(session: Any) -> bool:
    """True while a WebSocket's session has neither been idle too long nor outlived its lifetime."""
    return session is not None and not is_expired(session)


def keep_alive(session: Any) -> bool:
    """For staff work over a WebSocket, which the HTTP middleware never sees.

    False once the session has expired; otherwise records the activity,
    saving the session when its clock moved.
    """
    if not session_alive(session):
        return False
    if record_activity(session):
        session.save()
    return True
