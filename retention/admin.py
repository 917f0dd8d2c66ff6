from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from retention.models import RetentionRun
from retention.selectors import retention_overview
from staff.access import is_verified
from staff.admin import ReadOnlyAdminMixin


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The retention page: every period and its job above, the log of runs below.

    Read only: runs are written by the retention jobs alone.
    """

    change_list_template = "admin/retention/retentionrun/change_list.html"
    list_display = ("kind", "finished_at", "outcome", "deleted", "error")
    list_filter = ("outcome", "kind", "finished_at")
    date_hierarchy = "finished_at"
    fields = ("kind", "started_at", "finished_at", "outcome", "deleted", "error")
    readonly_fields = fields

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        response = super().changelist_view(request, extra_context)
        # Defense in depth: the admin site already demands the second factor.
        if is_verified(request) and isinstance(response, TemplateResponse) and response.context_data is not None:
            response.context_data["retention_overview"] = retention_overview()
        return response  # type: ignore[return-value]
