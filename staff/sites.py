"""The staff area: Django's admin behind a mandatory second factor.

``staff.apps.StaffAdminConfig`` makes this the default admin site, so every
``@admin.register`` in any app lands here. A staff member reaches nothing
until they have passed both their password and a TOTP (or backup) code.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.admin import OTPAdminSite

from staff import views


class StaffAdminSite(OTPAdminSite):
    site_header = _("ECPAT Sverige – personal")
    site_title = _("ECPAT Sverige – personal")
    index_title = _("Översikt")
    # Without it the final catch-all would redirect unknown paths to the login
    # page; a 404 for anyone reveals less.
    final_catch_all_view = False

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        steps: list[URLResolver | URLPattern] = [
            path("login/verify/", self._step(views.verify_step), name="staff_verify"),
            path("login/enrol/", self._step(views.enrol_step), name="staff_enrol"),
        ]
        return steps + super().get_urls()

    @method_decorator(sensitive_post_parameters("password"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return views.password_step(request, self)

    def app_index(
        self, request: HttpRequest, app_label: str, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        # Django answers 404 for an app whose models a user may not see; a
        # staff member outside the role gets the same 403 as on the models.
        if not self.get_app_list(request, app_label):
            raise PermissionDenied
        return super().app_index(request, app_label, extra_context)

    def _step(self, view: Any) -> Any:
        @sensitive_post_parameters("token")
        @csrf_protect
        @never_cache
        def step(request: HttpRequest) -> HttpResponse:
            return view(request, self)  # type: ignore[no-any-return]

        return step
