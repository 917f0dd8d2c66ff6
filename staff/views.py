"""The staff login: password, then enrolment (first time) or a code from the app.

These views are wired into the admin site by ``staff.sites.StaffAdminSite``.
"""

import functools
from typing import TYPE_CHECKING, Any

import qrcode
import qrcode.image.svg
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_otp.middleware import is_verified as otp_is_verified
from django_otp.models import Device

from audit.services import record_event
from staff import login, sessions
from staff.forms import EnrolmentForm, PasswordStepForm, TokenForm
from staff.models import StaffTOTPDevice
from staff.selectors import has_second_factor
from staff.services import (
    EnrolmentError,
    confirm_enrolment,
    pending_totp_device,
    start_totp_enrolment,
    totp_secret,
    verify_second_factor,
)
from staff.types import StaffUser

if TYPE_CHECKING:
    from staff.sites import StaffAdminSite

# Users come from the database by id after the password step, not from a backend.
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def password_step(request: HttpRequest, site: "StaffAdminSite") -> HttpResponse:
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    form = PasswordStepForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        login.begin(request, user, next_url)
        step = "admin:staff_verify" if has_second_factor(user) else "admin:staff_enrol"
        return HttpResponseRedirect(reverse(step, current_app=site.name))
    return _render(request, site, "staff/login.html", {"form": form, "next": next_url, "title": _("Logga in")})


def verify_step(request: HttpRequest, site: "StaffAdminSite") -> HttpResponse:
    user = login.pending_user(request)
    if user is None:
        return HttpResponseRedirect(reverse("admin:login", current_app=site.name))
    if not has_second_factor(user):
        return HttpResponseRedirect(reverse("admin:staff_enrol", current_app=site.name))
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = verify_second_factor(user=user, token=form.cleaned_data["token"])
        if device is not None:
            return _finish(request, site, user, device)
        form.add_error("token", _("Koden stämmer inte, eller så har du försökt för många gånger. Vänta en stund."))
    return _render(request, site, "staff/verify.html", {"form": form, "title": _("Tvåstegsverifiering")})


def enrol_step(request: HttpRequest, site: "StaffAdminSite") -> HttpResponse:
    user = login.pending_user(request)
    if user is None:
        return HttpResponseRedirect(reverse("admin:login", current_app=site.name))
    if has_second_factor(user):
        return HttpResponseRedirect(reverse("admin:staff_verify", current_app=site.name))
    device = _totp_enrolment_device(request, user)
    form = EnrolmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = confirm_enrolment(user=user, device_id=device.pk, token=form.cleaned_data["token"])
        except EnrolmentError:
            form.add_error(
                "token", _("Koden stämmer inte. Kontrollera att klockan i telefonen går rätt och försök igen.")
            )
        else:
            next_url = login.next_url(request) or reverse("admin:index", current_app=site.name)
            _log_in(request, user, enrolment.device)
            # Shown once, in this response only; never stored in the session or logged.
            return _render(
                request,
                site,
                "staff/backup_codes.html",
                {"codes": enrolment.backup_codes, "next": next_url, "title": _("Dina reservkoder")},
            )
    context = {
        "form": form,
        "title": _("Skydda ditt konto med tvåstegsverifiering"),
        "qr_svg": _qr_svg(device.config_url),
        "secret": totp_secret(device),
        "otpauth_url": device.config_url,
    }
    return _render(request, site, "staff/enrol.html", context)


def _totp_enrolment_device(request: HttpRequest, user: StaffUser) -> StaffTOTPDevice:
    # A fresh secret on every showing of the page; a POST confirms the one this
    # session was shown, and only while it is fresh.
    device = None
    if request.method == "POST":
        device = pending_totp_device(user=user, device_id=login.enrolment_device_id(request))
    if device is None:
        device = start_totp_enrolment(user)
        login.remember_enrolment_device(request, device.pk)
    return device


def _finish(request: HttpRequest, site: "StaffAdminSite", user: Any, device: Device) -> HttpResponse:
    next_url = login.next_url(request) or reverse("admin:index", current_app=site.name)
    _log_in(request, user, device)
    return HttpResponseRedirect(next_url)


def _log_in(request: HttpRequest, user: Any, device: Device) -> None:
    # django_otp's user_logged_in receiver stores the device: the session is verified.
    user.otp_device = device
    user.is_verified = functools.partial(otp_is_verified, user)
    auth_login(request, user, backend=_BACKEND)
    login.clear(request)
    sessions.start(request.session)
    record_event(actor=user, action="staff.login.succeeded", object_type="auth.User", object_id=user.pk)


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    # Generated here from our own otpauth URL; inline so nothing leaves the server.
    return mark_safe(str(image.to_string(encoding="unicode")))  # noqa: S308


def _render(request: HttpRequest, site: "StaffAdminSite", template: str, context: dict[str, Any]) -> HttpResponse:
    request.current_app = site.name
    return render(request, template, {**site.each_context(request), "has_permission": False, **context})
