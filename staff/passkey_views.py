"""Passkeys in the staff login, and adding one to a verified account.

django-otp-webauthn's JSON views, narrowed to our two-step login: a passkey
is only ever the second step. During login nobody is logged in yet, so the
user is the one who passed the password step in this session
(``staff.login``); the library's own views would treat them as anonymous.
Wired in by ``staff.sites.StaffAdminSite``; the pages that show the buttons
include ``staff/passkey_*.html`` through ``staff.templatetags.staff_passkeys``.
"""

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from staff import access, login
from staff.access import acting_staff
from staff.passkeys import issue_backup_codes, register_passkey, verify_passkey
from staff.selectors import has_passkey, has_second_factor, passkeys
from staff.views import _log_in, _render

if TYPE_CHECKING:
    from staff.sites import StaffAdminSite

# After a first enrolment with a passkey: where to go once the backup codes
# were shown. Only the destination is kept, never the codes.
BACKUP_CODES_NEXT_KEY = "staff_passkey_backup_codes_next"


def enrolling_user(request: HttpRequest) -> Any | None:
    """Who may register a passkey in this request, if anyone.

    A staff member verified in this session, or someone who has just passed
    the password step and holds no second factor yet (their first
    enrolment, as with TOTP). Someone who holds a factor must use it first.
    """
    if request.user.is_authenticated:
        if access.is_verified(request) and getattr(request.user, "is_staff", False):
            return request.user
        return None
    user = login.pending_user(request)
    if user is None or has_second_factor(user):
        return None
    # The library asks; the answer is no: this session has no second factor yet.
    user.is_verified = lambda: False
    return user


def verifying_user(request: HttpRequest) -> Any | None:
    """The user who passed the password step in this session and holds a passkey."""
    user = login.pending_user(request)
    return user if user is not None and has_passkey(user) else None


class BeginPasskeyRegistration(BeginCredentialRegistrationView):
    def get_user(self) -> Any | None:
        return enrolling_user(self.request)


class CompletePasskeyRegistration(CompleteCredentialRegistrationView):
    def get_user(self) -> Any | None:
        return enrolling_user(self.request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        user = self.get_user()
        if user is None:
            raise exceptions.NotAuthenticated
        first_enrolment = not request.user.is_authenticated
        device = register_passkey(helper=self.get_helper(), user=user, state=self.get_state(), data=request.data)  # type: ignore[attr-defined]  # the library's DRF request
        if first_enrolment:
            request.session[BACKUP_CODES_NEXT_KEY] = login.next_url(request) or reverse("admin:index")
            _log_in(request, user, device)
            redirect_url = reverse("admin:staff_passkey_backup_codes")
        else:
            redirect_url = reverse("admin:staff_passkeys")
        return JsonResponse({"id": device.pk, "redirect_url": redirect_url})


class BeginPasskeyVerification(BeginCredentialAuthenticationView):
    def get_user(self) -> Any | None:
        return verifying_user(self.request)

    def check_can_authenticate(self) -> None:
        # No passwordless login: without the password step there is no ceremony.
        if self.get_user() is None:
            raise exceptions.NotAuthenticated


class CompletePasskeyVerification(CompleteCredentialAuthenticationView):
    def get_user(self) -> Any | None:
        return verifying_user(self.request)

    def check_can_authenticate(self) -> None:
        if self.get_user() is None:
            raise exceptions.NotAuthenticated

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        user = self.get_user()
        if user is None:
            raise exceptions.NotAuthenticated
        device = verify_passkey(helper=self.get_helper(), user=user, state=self.get_state(), data=request.data)  # type: ignore[attr-defined]  # the library's DRF request
        self.check_device_usable(device)
        # The destination chosen at the password step, never the ``next`` the script sends.
        next_url = login.next_url(request) or reverse("admin:index")
        _log_in(request, user, device)
        return JsonResponse({"id": device.pk, "redirect_url": next_url})


def backup_codes(request: HttpRequest, site: "StaffAdminSite") -> HttpResponse:
    """Once, right after a first enrolment with a passkey: a fresh set of backup codes."""
    next_url = request.session.pop(BACKUP_CODES_NEXT_KEY, None)
    if next_url is None:
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    codes = issue_backup_codes(acting_staff(request))
    # Shown once, in this response only; never stored in the session or logged.
    return _render(
        request, site, "staff/backup_codes.html", {"codes": codes, "next": next_url, "title": _("Dina reservkoder")}
    )


def passkey_list(request: HttpRequest, site: "StaffAdminSite") -> HttpResponse:
    """A verified staff member's own passkeys, and the button to add one."""
    request.current_app = site.name
    context = {
        **site.each_context(request),
        "title": _("Mina nycklar"),
        "passkeys": passkeys(acting_staff(request)),
    }
    return TemplateResponse(request, "staff/passkeys.html", context)
