"""django-axes without client traces, and without a lockout a stranger can trigger.

Two limits, both counted by axes over ``AXES_COOLOFF_TIME``:

- fast: ``AXES_FAILURE_LIMIT`` failures for one username from one client lock
  that client out of that account;
- slow: ``STAFF_LOCKOUT_ACCOUNT_CEILING`` failures for one username from all
  clients together lock the account, against guessing spread over many
  addresses.

So five wrong passwords from a stranger lock the stranger out, not the
on-call counsellor. "One client" is a pseudonym derived from the keyed,
daily-rotating client hash of ``privacy.asgi`` (``scope["anonymous_client"]``):
the address itself never reaches Django, and axes stores no User-Agent.
Requests without a client hash (no address known) share one bucket per
username, which is the old, username-only lockout.
"""

import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac

from privacy.ratelimit import request_client_key

# The fast limit's bucket first, the account's ceiling second (``AnonymousClientHandler`` relies on it).
LOCKOUT_PARAMETERS: list[str | list[str]] = [["username", "ip_address"], "username"]


def lockout_parameters(request_or_attempt: Any, credentials: dict[str, Any] | None = None) -> list[str | list[str]]:
    """``AXES_LOCKOUT_PARAMETERS``: per username and client, and per username alone."""
    return LOCKOUT_PARAMETERS


def client_pseudonym(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: a pseudonym of the client, or None when none is known.

    Axes keeps its client in an IP address column, so the pseudonym is
    written as an address in fd00::/8 (unique local: no client on the
    internet has one). It is a keyed hash (``SECRET_KEY``) of the edge's
    daily-keyed hash of the address, so it says nothing without both keys,
    and nothing at all once the day's key has left the cache.
    """
    client = request_client_key(request)
    if not client:
        return None
    digest = salted_hmac("staff.lockout.client", client, algorithm="sha256").digest()
    return str(ipaddress.IPv6Address(b"\xfd" + digest[:15]))


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
        # Whatever set it (a request that still carries REMOTE_ADDR), only the pseudonym is kept.
        request.axes_ip_address = client_pseudonym(request)
        request.axes_user_agent = ""
        request.axes_http_accept = ""


def _failures(attempts: QuerySet[Any]) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


class AnonymousClientHandler(AxesDatabaseHandler):
    """Axes' database handler: only the client's pseudonym kept, and two limits instead of one."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """This client's failures on this account, or the limit itself once the account's ceiling is reached.

        Axes compares what this returns with ``AXES_FAILURE_LIMIT``, both when
        it records a failure and when it decides whether to let a login in.
        """
        this_client, account = (_failures(attempts) for attempts in self.get_user_attempts(request, credentials))
        if account >= settings.STAFF_LOCKOUT_ACCOUNT_CEILING:
            return max(this_client, int(get_failure_limit(request, credentials)))
        return this_client

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        # A successful login clears its own client's failures only: a stranger
        # guessing meanwhile keeps the count they have earned.
        this_client = self.filter_user_attempts(request, credentials)[0]
        count, _ = this_client.delete()
        return int(count)

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
