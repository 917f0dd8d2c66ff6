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
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin_mixins import ReadOnlyAdminMixin
from hotline import selectors, services
from hotline.forms import AnalystQuestionForm, TakedownNoticeForm
from hotline.models import HandoffAttempt, PoliceHandoff, Tip
from staff.access import acting_staff, has_verified_role
from staff.admin_mixins import RoleRequiredAdmin
from staff.roles import Role

# What each lifecycle action did, said back to the analyst.
ACTION_DONE = {
    "start": _("Du granskar nu tipset. Det är låst till dig."),
    "release": _("Tipset är tillbaka i kön."),
    "forward": _("Tipset skickades till polisen."),
    "confirm_removal": _("Borttagningen är bekräftad."),
    "close": _("Tipset är avslutat."),
    "assess": _("Bedömningen är sparad."),
    "takedown": _("Begäran om borttagning är registrerad."),
    "ask": _("Frågan skickades till den som tipsade."),
    "retry_handoff": _("Överlämningen till polisen köades igen."),
}
RECHECK_DONE = {
    True: _("Kontrollen är sparad: innehållet finns kvar."),
    False: _("Kontrollen är sparad: innehållet är borta."),
}

INWARD_URL_REFUSED = _(
    "Adressen pekar på en dator eller ett nätverk innanför brandväggen, inte på internet. Den öppnas aldrig härifrån."
)

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    StrOrPromise = str | _StrPromise
    HandoffAttemptInlineBase = admin.TabularInline[HandoffAttempt, PoliceHandoff]
else:
    # Generic only in django-stubs; at runtime it cannot be subscripted.
    HandoffAttemptInlineBase = admin.TabularInline


def swedish_column(name: str, label: "StrOrPromise", *, boolean: bool = False) -> Callable[[Any, Model], Any]:
    """An admin column or read-only field showing model field ``name`` under a Swedish label.

    The models' verbose names are English (changing them is a migration);
    the analysts' screens are Swedish throughout.
    """

    @admin.display(description=label, ordering=name, boolean=boolean)
    def show(model_admin: Any, obj: Model) -> Any:
        display = getattr(obj, f"get_{name}_display", None)
        value = display() if callable(display) else getattr(obj, name)
        return "-" if value in (None, "") else value

    return show


def swedish_filter(title: "StrOrPromise") -> type[admin.FieldListFilter]:
    """A list filter for a model field, titled ``title`` instead of the field's English verbose name."""

    class TitledFilter(admin.AllValuesFieldListFilter):
        def __new__(cls, field: Any, *args: Any, **kwargs: Any) -> Any:
            created = admin.FieldListFilter.create(field, *args, **kwargs)
            created.title = title
            return created

    return TitledFilter


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
        "received",
        "urgent",
        "category_display",
        "status_display",
        "assignee",
        "reported_before",
        "handoff_status",
        "removal_time",
    )
    list_filter = (
        ("status", swedish_filter(_("status"))),
        ("category", swedish_filter(_("kategori"))),
        ("priority", swedish_filter(_("prioritet"))),
        AgeFilter,
    )
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

    received = swedish_column("received_at", _("Mottaget"))
    category_display = swedish_column("category", _("Kategori"))
    status_display = swedish_column("status", _("Status"))
    assignee = swedish_column("assigned_to", _("Granskas av"))

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
        done = ACTION_DONE.get(action, "")
        try:
            if action in simple:
                simple[action](tip_id=tip.pk, actor=actor)
            elif action == "assess":
                services.tip_assess(tip_id=tip.pk, actor=actor, outcome=request.POST.get("outcome", ""))
            elif action == "recheck":
                still_online = request.POST.get("still_online") == "yes"
                services.tip_record_recheck(tip_id=tip.pk, actor=actor, still_online=still_online)
                done = RECHECK_DONE[still_online]
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
        messages.success(request, done)
        return back


class HandoffAttemptInline(HandoffAttemptInlineBase):
    model = HandoffAttempt
    verbose_name = _("leveransförsök")
    verbose_name_plural = _("leveransförsök")
    fields = ("attempt_number", "started", "finished", "outcome_display", "status_code_display", "detail_display")
    readonly_fields = fields
    extra = 0
    can_delete = False

    attempt_number = swedish_column("number", _("Försök"))
    started = swedish_column("started_at", _("Start"))
    finished = swedish_column("finished_at", _("Klart"))
    outcome_display = swedish_column("outcome", _("Resultat"))
    status_code_display = swedish_column("status_code", _("Statuskod"))
    detail_display = swedish_column("detail", _("Detaljer"))

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
    list_display = (
        "handoff_link",
        "tip_reference",
        "status_display",
        "attempt_count",
        "created",
        "delivered",
        "receipt",
    )
    list_display_links = None
    list_filter = (("status", swedish_filter(_("status"))),)
    fields = (
        "tip_reference",
        "key",
        "status_display",
        "attempt_count",
        "created",
        "next_attempt",
        "delivered",
        "receipt",
        "reason",
    )
    readonly_fields = fields
    inlines = [HandoffAttemptInline]
    actions = ["retry_delivery"]

    tip_reference = swedish_column("tip", _("Tips"))
    key = swedish_column("idempotency_key", _("Idempotensnyckel"))
    attempt_count = swedish_column("attempts", _("Försök"))
    created = swedish_column("created_at", _("Skapad"))
    next_attempt = swedish_column("next_attempt_at", _("Nästa försök"))
    delivered = swedish_column("delivered_at", _("Levererad"))
    receipt = swedish_column("acknowledgement", _("Polisens kvitto"))
    reason = swedish_column("failure_reason", _("Orsak till felet"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[PoliceHandoff]:
        return super().get_queryset(request).select_related("tip")

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        # Failed first: they need a person. Then pending, in delivery, delivered; newest first within each.
        return list(selectors.HANDOFF_LIST_ORDER)

    @admin.display(description=_("Överlämning"), ordering="created_at")
    def handoff_link(self, handoff: PoliceHandoff) -> str:
        url = reverse("admin:hotline_policehandoff_change", args=[handoff.pk])
        return format_html('<a href="{}">{}</a>', url, str(handoff.idempotency_key)[:8])

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
        count = len(failed)
        messages.success(
            request,
            ngettext(
                "%(count)d misslyckad överlämning till polisen köades igen.",
                "%(count)d misslyckade överlämningar till polisen köades igen.",
                count,
            )
            % {"count": count},
        )


# Reported URLs (four-eyes, police hold) and feed partners live in their own module.
from hotline import takedown_admin  # noqa: E402, F401
