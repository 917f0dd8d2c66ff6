from django.contrib import admin

from audit.admin_mixins import AuditedViewMixin, ReadOnlyAdminMixin
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedViewMixin, ReadOnlyAdminMixin):
    """Read only for everyone, superusers included: only record_event writes and retention deletes."""

    list_display = ("created_at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type", "created_at")
    search_fields = ("actor_label", "action", "object_type", "object_id")
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False
    fields = ("created_at", "actor_label", "action", "object_type", "object_id", "previous_hash", "hash")
    readonly_fields = fields
