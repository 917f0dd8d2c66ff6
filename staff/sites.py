"""The staff area: Django's admin behind a mandatory second factor.

``staff.apps.StaffAdminConfig`` makes this the default admin site, so every
``@admin.register`` in any app lands here. A staff member reaches nothing
until they have passed both their password and a TOTP (or backup) code.
Other apps add panels to the start page through ``staff.index_panels``.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.i18n import JavaScriptCatalog
from django_otp.admin import OTPAdminSite

from privacy.referrer import same_origin_referrer
from privacy.uncached import never_cache
from staff import passkey_views, views
from staff.access import acting_staff
from staff.index_panels import rendered_index_panels
from staff.services import record_password_changed


class StaffAdminSite(OTPAdminSite):
    site_header = _("ECPAT Sverige: personal")
    site_title = _("ECPAT Sverige: personal")
    index_title = _("Översikt")
    # Without it the final catch-all would redirect unknown paths to the login
    # page; a 404 for anyone reveals less.
    final_catch_all_view = False
    index_template = "admin/staff/index.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        return same_origin_referrer(super().admin_view(view, cacheable))

    def get_urls(self) -> list[URLResolver | URLPattern]:
        steps: list[URLResolver | URLPattern] = [
            path("login/verify/", same_origin_referrer(self._step(views.verify_step)), name="staff_verify"),
            path("login/enrol/", same_origin_referrer(self._step(views.enrol_step)), name="staff_enrol"),
        ]
        urls: list[URLResolver | URLPattern] = super().get_urls()
        return steps + self._passkey_urls() + urls

    def _passkey_urls(self) -> list[URLResolver | URLPattern]:
        # The JSON ceremonies are reachable before login (the second step);
        # each view itself decides whose ceremony it runs (staff.passkey_views).
        def ceremony(view: type[Any]) -> Callable[..., Any]:
            return same_origin_referrer(view.as_view())

        return [
            path(
                "login/passkey/register/begin/",
                ceremony(passkey_views.BeginPasskeyRegistration),
                name="staff_passkey_register_begin",
            ),
            path(
                "login/passkey/register/complete/",
                ceremony(passkey_views.CompletePasskeyRegistration),
                name="staff_passkey_register_complete",
            ),
            path(
                "login/passkey/verify/begin/",
                ceremony(passkey_views.BeginPasskeyVerification),
                name="staff_passkey_verify_begin",
            ),
            path(
                "login/passkey/verify/complete/",
                ceremony(passkey_views.CompletePasskeyVerification),
                name="staff_passkey_verify_complete",
            ),
            # The library's script texts (gettext) for the pages above.
            path(
                "login/passkey/jsi18n/",
                JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
                name="staff_passkey_jsi18n",
            ),
            path(
                "login/passkey/backup-codes/",
                self.admin_view(self._bound(passkey_views.backup_codes)),
                name="staff_passkey_backup_codes",
            ),
            path("passkeys/", self.admin_view(self._bound(passkey_views.passkey_list)), name="staff_passkeys"),
        ]

    def _bound(self, view: Callable[[HttpRequest, "StaffAdminSite"], HttpResponse]) -> Callable[..., HttpResponse]:
        def bound(request: HttpRequest) -> HttpResponse:
            return view(request, self)

        return bound

    @method_decorator(same_origin_referrer)
    @method_decorator(sensitive_post_parameters("password"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return views.password_step(request, self)

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response: HttpResponse = super().password_change(request, extra_context)
        if request.method == "POST" and response.status_code == 302:
            staff_member = acting_staff(request)
            record_password_changed(actor=staff_member, user=staff_member)
        return response

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        # What other apps need staff to see first (a failed retention run, say).
        context = {**(extra_context or {}), "index_panels": rendered_index_panels(request)}
        response: TemplateResponse = super().index(request, context)
        return response

    def app_index(
        self, request: HttpRequest, app_label: str, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        # Django answers 404 for an app whose models a user may not see; a
        # staff member outside the role gets the same 403 as on the models.
        if not self.get_app_list(request, app_label):
            raise PermissionDenied
        response: TemplateResponse = super().app_index(request, app_label, extra_context)
        return response

    def _step(self, view: Callable[[HttpRequest, "StaffAdminSite"], HttpResponse]) -> Callable[..., HttpResponse]:
        @sensitive_post_parameters("token")
        @csrf_protect
        @never_cache
        def step(request: HttpRequest) -> HttpResponse:
            return view(request, self)

        return step
