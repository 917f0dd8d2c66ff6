from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from audit.admin_mixins import ReadOnlyAdminMixin
from retention.models import RetentionRun
from retention.selectors import retention_overview, retention_problems


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdminMixin):
    """The retention page: every period and its job above, the log of runs below.

    Read only: runs are written by the retention jobs alone.
    """

    change_list_template = "admin/retention/retentionrun/change_list.html"
    list_display = ("kind", "finished_at", "outcome", "deleted", "error")
    list_filter = ("outcome", "kind", "finished_at")
    date_hierarchy = "finished_at"
    fields = ("kind", "started_at", "finished_at", "outcome", "deleted", "error")
    readonly_fields = fields

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            response.context_data["retention_overview"] = retention_overview()
        return response


def index_panel_context(request: HttpRequest) -> dict[str, Any] | None:
    """The admin start page's retention panel: shown only while a job failed or missed its runs."""
    problems = retention_problems()
    return {"retention_problems": problems} if problems else None
