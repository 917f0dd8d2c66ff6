"""ModelAdmin building blocks every app may use: audited pages and read-only records.

They live on the ground floor, beside the audit chain they write to, so that
audit and retention use them without importing staff. Each one is itself a
``ModelAdmin``: combine them in any order (the left-most wins, as usual),
``class TipAdmin(AuditedViewMixin, RoleRequiredAdmin)``.
"""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import unquote
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from audit.services import record_event

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Any]
else:
    # ModelAdmin is generic only in django-stubs; at runtime it cannot be subscripted.
    ModelAdminBase = admin.ModelAdmin


class ReadOnlyAdminMixin(ModelAdminBase):
    """For records nobody may add, edit or delete in the admin (only services and jobs write them)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedViewMixin(ModelAdminBase):
    """Records ``"<app>.<model>.viewed"`` in the audit chain whenever a change page is shown.

    Only a page actually shown (status 200) counts; a refused one does not.
    """

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            opts = self.opts
            record_event(
                actor=request.user,
                action=f"{opts.app_label}.{opts.model_name}.viewed",
                object_type=opts.label,
                object_id=unquote(object_id),
            )
        return response


class AuditedChangesMixin(ModelAdminBase):
    """Records ``"<app>.<model>.added|changed|deleted"`` for every change made in the admin."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> LogEntry:
        self._record(request, obj, "added")
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> LogEntry:
        self._record(request, obj, "changed")
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[LogEntry]:
        for obj in queryset:
            self._record(request, obj, "deleted")
        return super().log_deletions(request, queryset)

    def _record(self, request: HttpRequest, obj: Model, verb: str) -> None:
        opts = obj._meta
        record_event(
            actor=request.user,
            action=f"{opts.app_label}.{opts.model_name}.{verb}",
            object_type=opts.label,
            object_id=str(obj.pk),
        )
