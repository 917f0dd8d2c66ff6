"""The analysts' staff area: the tip queue, one tip's page with its lifecycle actions, hand-offs.

Every page is for verified analysts alone (``RoleRequiredAdmin``), whatever
the admin site does. Tips are never edited through a ModelForm:
each change is one lifecycle action, a POST that calls one service.
Reported URLs are shown as plain text; opening one is an explicit,
audited POST. A URL that points at a loopback, private or local address is
flagged and cannot be opened from here at all.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import ReadOnlyAdminMixin
from hotline import selectors, services
from hotline.forms import AnalystQuestionForm, TakedownNoticeForm
from hotline.models import HandoffAttempt, PoliceHandoff, Tip
from staff.access import acting_staff, has_verified_role
from staff.admin_mixins import RoleRequiredAdmin
from staff.roles import Role

INWARD_URL_REFUSED = _(
    "Adressen pekar på en dator eller ett nätverk innanför brandväggen, inte på internet. Den öppnas aldrig härifrån."
)

if TYPE_CHECKING:
    HandoffAttemptInlineBase = admin.TabularInline[HandoffAttempt, PoliceHandoff]
else:
    # Generic only in django-stubs; at runtime it cannot be subscripted.
    HandoffAttemptInlineBase = admin.TabularInline


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def handoff_health_panel_context(request: HttpRequest) -> dict[str, Any] | None:
    """The admin start page's hand-off panel: shown only while hand-offs are not getting through."""
    health = selectors.handoff_health()
    if health.ok:
        return None
    waiting = health.oldest_urgent_waiting
    return {
        "health": health,
        "waiting_minutes": int(waiting.total_seconds() // 60) if waiting is not None else None,
    }


class AgeFilter(admin.SimpleListFilter):
    title = _("ålder")
    parameter_name = "age"
    _ranges = {"day": (None, 1), "week": (1, 7), "month": (7, 30), "older": (30, None)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("day", _("Senaste dygnet")),
            ("week", _("1 till 7 dagar")),
            ("month", _("7 till 30 dagar")),
            ("older", _("Äldre än 30 dagar")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() not in self._ranges:
            return queryset
        newer_than, older_than = self._ranges[str(self.value())]
        now = timezone.now()
        if newer_than is not None:
            queryset = queryset.filter(received_at__lte=now - timedelta(days=newer_than))
        if older_than is not None:
            queryset = queryset.filter(received_at__gt=now - timedelta(days=older_than))
        return queryset


@admin.register(Tip)
class TipAdmin(RoleRequiredAdmin):
    """Tips arrive from the public form and leave through retention: nobody adds or deletes one here."""

    roles = (Role.ANALYST,)
    list_display = (
        "reference_link",
        "received_at",
        "urgent",
        "category",
        "status",
        "assigned_to",
        "reported_before",
        "handoff_status",
        "removal_time",
    )
    list_filter = ("status", "category", "priority", AgeFilter)
    list_display_links = None
    list_per_page = 50
    actions = None
    change_list_template = "admin/hotline/tip/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tip]:
        return selectors.tips_for_analysts()

    @admin.display(description=_("Tips"), ordering="pk")
    def reference_link(self, tip: Tip) -> str:
        url = reverse("admin:hotline_tip_change", args=[tip.pk])
        return format_html('<a href="{}">{}</a>', url, tip.reference)

    @admin.display(description=_("Akut"), boolean=True, ordering="priority")
    def urgent(self, tip: Tip) -> bool:
        return tip.is_urgent

    @admin.display(description=_("Rapporterad förut"), boolean=True)
    def reported_before(self, tip: Tip) -> bool:
        return bool(getattr(tip, "reported_before", False))

    @admin.display(description=_("Till polisen"))
    def handoff_status(self, tip: Tip) -> str:
        handoff = getattr(tip, "handoff", None)
        if handoff is None:
            return "-"
        if handoff.status == PoliceHandoff.Status.FAILED:
            return format_html('<strong class="errornote">{}</strong>', handoff.get_status_display())
        return str(handoff.get_status_display())

    @admin.display(description=_("Tid till borttagning"))
    def removal_time(self, tip: Tip) -> str:
        return format_duration(tip.time_to_removal)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.in_role(request):
            raise PermissionDenied
        medians = selectors.removal_medians()
        context = {
            **(extra_context or {}),
            "failed_handoffs": selectors.failed_handoff_count(),
            "median_30": format_duration(medians[30]),
            "median_90": format_duration(medians[90]),
        }
        return super().changelist_view(request, context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.in_role(request):
            raise PermissionDenied
        if not object_id.isdigit():
            raise Http404
        tip = get_object_or_404(selectors.tips_for_analysts(), pk=object_id)
        if request.method == "POST":
            return self._act(request, tip)
        services.tip_record_view(tip_id=tip.pk, actor=acting_staff(request))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": tip.reference,
            "tip": tip,
            "urls": selectors.reported_urls_for_analyst(tip),
            "related": selectors.related_tips(tip),
            "conversation": selectors.reporter_messages(tip),
            "rechecks": list(tip.rechecks.all()),
            "handoff": getattr(tip, "handoff", None),
            "attempts": list(tip.handoff.attempt_log.all()) if hasattr(tip, "handoff") else [],
            "outcomes": Tip.Outcome.choices,
            "question_form": AnalystQuestionForm(),
            "takedown_form": TakedownNoticeForm(),
            "is_assignee": tip.assigned_to_id == request.user.pk,
            "time_to_removal": format_duration(tip.time_to_removal),
        }
        return TemplateResponse(request, "admin/hotline/tip/detail.html", context)

    def _act(self, request: HttpRequest, tip: Tip) -> HttpResponse:
        """Runs one lifecycle action from the tip page (POST ``action``)."""
        action = request.POST.get("action", "")
        actor = acting_staff(request)
        back = redirect("admin:hotline_tip_change", tip.pk)
        if action == "open_url":
            url_id = request.POST.get("url_id", "")
            if not url_id.isdigit() or not tip.urls.filter(pk=int(url_id)).exists():
                raise PermissionDenied
            try:
                return HttpResponseRedirect(services.tip_open_url(url_id=int(url_id), actor=actor))
            except services.InwardURLRefused:
                messages.error(request, INWARD_URL_REFUSED)
                return back
        simple: dict[str, Callable[..., Any]] = {
            "start": services.tip_start_assessment,
            "release": services.tip_release,
            "forward": services.tip_forward_to_police,
            "confirm_removal": services.tip_confirm_removal,
            "close": services.tip_close,
        }
        try:
            if action in simple:
                simple[action](tip_id=tip.pk, actor=actor)
            elif action == "assess":
                services.tip_assess(tip_id=tip.pk, actor=actor, outcome=request.POST.get("outcome", ""))
            elif action == "recheck":
                still_online = request.POST.get("still_online") == "yes"
                services.tip_record_recheck(tip_id=tip.pk, actor=actor, still_online=still_online)
            elif action == "takedown":
                form = TakedownNoticeForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("Skriv vilken värd eller leverantör som fick begäran."))
                    return back
                services.tip_record_takedown_notice(
                    tip_id=tip.pk, actor=actor, host_provider=form.cleaned_data["host_provider"]
                )
            elif action == "ask":
                question = AnalystQuestionForm(request.POST)
                if not question.is_valid():
                    messages.error(request, _("Skriv en fråga först."))
                    return back
                services.tip_ask_reporter(tip_id=tip.pk, actor=actor, body=question.cleaned_data["body"])
            elif action == "retry_handoff" and hasattr(tip, "handoff"):
                if not request.user.has_perm("hotline.retry_policehandoff"):
                    raise PermissionDenied
                services.handoff_retry(handoff_id=tip.handoff.pk, actor=actor)
            else:
                messages.error(request, _("Okänd åtgärd."))
                return back
        except services.TransitionError:
            messages.error(
                request, _("Det går inte just nu: tipset har en annan status eller granskas av någon annan.")
            )
            return back
        messages.success(request, _("Klart."))
        return back


class HandoffAttemptInline(HandoffAttemptInlineBase):
    model = HandoffAttempt
    fields = ("number", "started_at", "finished_at", "outcome", "status_code", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_verified_role(request, Role.ANALYST)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PoliceHandoff)
class PoliceHandoffAdmin(RoleRequiredAdmin, ReadOnlyAdminMixin):
    """Hand-offs are written by the delivery task alone; analysts retry failed ones."""

    roles = (Role.ANALYST,)
    list_display = ("__str__", "tip", "status_display", "attempts", "created_at", "delivered_at", "acknowledgement")
    list_filter = ("status",)
    fields = (
        "tip",
        "idempotency_key",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "acknowledgement",
        "failure_reason",
    )
    readonly_fields = fields
    inlines = [HandoffAttemptInline]
    actions = ["retry_delivery"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PoliceHandoff]:
        # Failed first: they need a person.
        return super().get_queryset(request).select_related("tip").order_by("-status", "-created_at")

    @admin.display(description=_("Status"), ordering="status")
    def status_display(self, handoff: PoliceHandoff) -> str:
        if handoff.status == PoliceHandoff.Status.FAILED:
            return format_html(
                '<strong class="errornote">{}: {}</strong>', handoff.get_status_display(), handoff.failure_reason
            )
        return str(handoff.get_status_display())

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return self.in_role(request) and request.user.has_perm("hotline.retry_policehandoff")

    @admin.action(description=_("Försök leverera igen"), permissions=["retry"])
    def retry_delivery(self, request: HttpRequest, queryset: QuerySet[PoliceHandoff]) -> None:
        failed = list(queryset.filter(status=PoliceHandoff.Status.FAILED).values_list("pk", flat=True))
        for handoff_id in failed:
            services.handoff_retry(handoff_id=handoff_id, actor=acting_staff(request))
        messages.success(request, _("%(count)d överlämningar köades igen.") % {"count": len(failed)})


# Reported URLs (four-eyes, police hold) and feed partners live in their own module.
from hotline import takedown_admin  # noqa: E402, F401
