"""Revoking staff access reaches sockets that are already open.

A WebSocket checks who it serves once, at the handshake; an account
deactivated, moved out of its role, logged out or given a new password
would otherwise keep working over a console opened before. Two paths close
that gap, and either one is enough on its own:

* **A per-user stamp in the cache.** Every revocation replaces it. A socket
  remembers the stamp it saw before its last full check and, on each frame,
  compares: unchanged and recent means nothing happened; changed, missing or
  unreadable (Redis down, the key evicted) means a full check against the
  database. A miss therefore never grants anything by itself; it costs a few
  queries, so a Redis outage slows the consoles down instead of locking every
  counsellor out. A full check also runs at least every
  ``RECHECK_SECONDS`` whatever the cache says.
* **A layer event** ``staff.revoked`` to the user's group, so an idle console
  closes at once too, without waiting for its next frame.

The full check (:func:`recheck`) reads the user afresh: active, staff, in the
role the socket was opened for, second factor still confirmed, the session
still in the session store and still carrying the current password's hash.

Who calls what: the signal receivers (``staff.signals``) call
:func:`revoke_on_commit`; the console socket calls :func:`grant`,
:func:`confirm` and :func:`closes_session`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.utils.crypto import constant_time_compare

from resilience.on_commit import run_after_commit
from staff.access import scope_is_verified
from staff.roles import Role, has_role

logger = logging.getLogger(__name__)

# A socket whose access was revoked is closed with this code (docs/chat-protocol.md).
REVOKED_CLOSE_CODE = 4403
# The event the layer carries to a revoked user's sockets.
REVOKED_EVENT = "staff.revoked"
# Even with an unchanged stamp, a socket checks the database at least this often:
# the backstop for a revocation whose cache write and event were both lost.
RECHECK_SECONDS = 60.0
# How long the layer may take to accept the event before the request moves on.
_BROADCAST_TIMEOUT_SECONDS = 1.0


def user_group(user_id: int) -> str:
    """The layer group of every open staff socket of one user."""
    return f"staff-user-{user_id}"


def _stamp_key(user_id: int) -> str:
    return f"staff-access-stamp:{user_id}"


def _stamp_timeout() -> int:
    # Outlives every session; after that a missing stamp only costs one full check.
    return int(settings.STAFF_SESSION_MAX_HOURS * 3600 + 3600)


def session_digest(session_key: str | None) -> str:
    """Names a session in layer events without putting its key on the wire."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:32] if session_key else ""


@dataclass(frozen=True, slots=True)
class Grant:
    """What one socket was allowed, and when the database last confirmed it."""

    user_id: int
    role: Role
    session_key: str
    stamp: str | None
    checked_at: float

    def recently_checked(self) -> bool:
        """True while the last full check is younger than ``RECHECK_SECONDS``."""
        return time.monotonic() - self.checked_at < RECHECK_SECONDS


def _read_stamp(user_id: int) -> str | None:
    try:
        value = cache.get(_stamp_key(user_id))
    except Exception as exc:  # the resilient cache already turns outages into misses
        logger.warning("revocation stamp unreadable: %s", type(exc).__name__)
        return None
    return value if isinstance(value, str) else None


def _current_stamp(user_id: int) -> str | None:
    """The user's stamp, creating one when there is none (None while the cache is down)."""
    stamp = _read_stamp(user_id)
    if stamp is not None:
        return stamp
    try:
        cache.add(_stamp_key(user_id), secrets.token_hex(8), timeout=_stamp_timeout())
    except Exception as exc:
        logger.warning("revocation stamp not written: %s", type(exc).__name__)
        return None
    return _read_stamp(user_id)


def _holds(user_id: int, role: Role, session: SessionBase) -> bool:
    """The full check, against the database: see the module docstring."""
    user: Any = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not has_role(user, role):
        return False
    session_key = session.session_key
    if not session_key or not session.exists(session_key):
        return False  # logged out (flushed), or cycled by a password change
    if not constant_time_compare(str(session.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash()):
        return False  # the password changed since this session logged in
    return scope_is_verified(user, session)


def grant(*, user_id: int, role: Role, session: SessionBase) -> Grant | None:
    """The grant of a socket opening now for ``role``, or None if the user does not hold it."""
    stamp = _current_stamp(user_id)  # read before the check: a later revocation changes it
    if not _holds(user_id, role, session):
        return None
    return Grant(user_id, role, session.session_key or "", stamp, time.monotonic())


def confirm(current: Grant, session: SessionBase, *, force: bool = False) -> Grant | None:
    """``current`` while still valid (usually from one cache read), a renewed grant, or None if revoked.

    ``force`` skips the cache and checks the database.
    """
    stamp = _read_stamp(current.user_id)
    if (
        not force
        and stamp is not None
        and current.stamp is not None
        and constant_time_compare(stamp, current.stamp)
        and current.recently_checked()
    ):
        return current
    renewed = grant(user_id=current.user_id, role=current.role, session=session)
    if renewed is None or renewed.session_key != current.session_key:
        return None
    return renewed


def closes_session(event: dict[str, Any], session_key: str) -> bool:
    """True when a ``staff.revoked`` event names this socket's session (a logout)."""
    named = event.get("session")
    return bool(named) and constant_time_compare(str(named), session_digest(session_key))


def revoke(user_id: int, *, session_key: str | None = None) -> None:
    """Makes every open socket of ``user_id`` re-check now; ``session_key`` names one that ended for sure."""
    try:
        cache.set(_stamp_key(user_id), secrets.token_hex(8), timeout=_stamp_timeout())
    except Exception as exc:
        # The event below still closes idle sockets, and RECHECK_SECONDS bounds the rest.
        logger.warning("revocation stamp not replaced: %s", type(exc).__name__)
    event = {"type": REVOKED_EVENT, "session": session_digest(session_key)}
    try:
        async_to_sync(_broadcast)(user_group(user_id), event)
    except Exception as exc:
        logger.warning("revocation event not sent: %s", type(exc).__name__)


async def _broadcast(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await asyncio.wait_for(layer.group_send(group, event), _BROADCAST_TIMEOUT_SECONDS)


def revoke_on_commit(user_id: int, *, session_key: str | None = None) -> None:
    """:func:`revoke` once the change that caused it is committed, so a re-check sees it."""
    run_after_commit(lambda: revoke(user_id, session_key=session_key), what="revoke staff access")
