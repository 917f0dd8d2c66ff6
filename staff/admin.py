"""The staff user list, and audit mixins every app's ModelAdmin can adopt."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import record_event
from staff.services import deactivate_account, reset_second_factor, unlock_account

User = get_user_model()


class ReadOnlyAdminMixin:
    """For records nobody may add, edit or delete in the admin (only services and jobs write them)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedViewMixin:
    """Records ``"<app>.<model>.viewed"`` in the audit chain whenever a change page is shown.

    Put it first: ``class TipAdmin(AuditedViewMixin, admin.ModelAdmin)``.
    Only a page actually shown (status 200) counts; a refused one does not.
    """

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response: HttpResponse = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        if request.method == "GET" and response.status_code == 200:
            opts = self.model._meta  # type: ignore[attr-defined]
            record_event(
                actor=request.user,
                action=f"{opts.app_label}.{opts.model_name}.viewed",
                object_type=opts.label,
                object_id=unquote(object_id),
            )
        return response


class AuditedChangesMixin:
    """Records ``"<app>.<model>.added|changed|deleted"`` for every change made in the admin."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._record(request, obj, "added")
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._record(request, obj, "changed")
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            self._record(request, obj, "deleted")
        return super().log_deletions(request, queryset)  # type: ignore[misc]

    def _record(self, request: HttpRequest, obj: Model, verb: str) -> None:
        opts = obj._meta
        record_event(
            actor=request.user,
            action=f"{opts.app_label}.{opts.model_name}.{verb}",
            object_type=opts.label,
            object_id=str(obj.pk),
        )


# Devices are managed through the user list (reset), never edited directly:
# their admin would show keys to anyone allowed to view them.
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(AuditedViewMixin, AuditedChangesMixin, UserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "first_name", "last_name", "roles", "second_factor", "is_active", "last_login")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "email")
    date_hierarchy = "date_joined"
    actions = ("reset_second_factor", "unlock", "deactivate")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        queryset: QuerySet[Any] = super().get_queryset(request)
        annotated: QuerySet[Any] = queryset.prefetch_related("groups").annotate(has_second_factor=Exists(enrolled))
        return annotated

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not getattr(request.user, "is_superuser", False):
            # Roles are groups; nobody but a superuser grants single
            # permissions or superuser status.
            readonly += ("is_superuser", "user_permissions", "last_login", "date_joined")
        return readonly

    @admin.display(description=_("Roller"))
    def roles(self, obj: Any) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all()))

    @admin.display(description=_("Tvåstegsverifiering"), boolean=True)
    def second_factor(self, obj: Any) -> bool:
        return bool(obj.has_second_factor)

    @admin.action(
        permissions=["change"], description=_("Återställ tvåstegsverifiering (ny registrering vid nästa inloggning)")
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            reset_second_factor(actor=request.user, user=user)
        self.message_user(request, _("Tvåstegsverifieringen är återställd."), messages.SUCCESS)

    @admin.action(permissions=["change"], description=_("Lås upp efter för många inloggningsförsök"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            unlock_account(actor=request.user, user=user)
        self.message_user(request, _("Kontona är upplåsta."), messages.SUCCESS)

    @admin.action(permissions=["change"], description=_("Inaktivera kontona"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset.exclude(pk=request.user.pk):
            deactivate_account(actor=request.user, user=user)
        self.message_user(request, _("Kontona är inaktiverade."), messages.SUCCESS)
