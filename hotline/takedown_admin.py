"""Admin for reported URLs (four-eyes, police hold, removal, withdrawal) and feed partners.

Imported by hotline.admin. Every change is an action that calls one
service; the services audit it. URLs are listed by tip and number, never
shown in the list: the tip's own page shows them, and viewing it is audited.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin_mixins import AuditedChangesMixin, ReadOnlyAdminMixin
from hotline import selectors, services
from hotline.models import Partner, PartnerToken, PartnerTokenUse, Provider, TakedownNotice, TipURL
from staff.access import acting_staff
from staff.admin_mixins import RoleRequiredAdmin
from staff.roles import Role

if TYPE_CHECKING:
    TokenInlineBase = admin.TabularInline[PartnerToken, Partner]
    UseInlineBase = admin.TabularInline[PartnerTokenUse, PartnerToken]
else:
    TokenInlineBase = admin.TabularInline
    UseInlineBase = admin.TabularInline


class WithdrawalForm(forms.Form):
    reason = forms.CharField(
        label=_("Varför återkallas adresserna?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Skriv varför adresserna återkallas.")},
    )


class ProviderChoiceForm(forms.Form):
    provider = forms.ModelChoiceField(
        label=_("Leverantör"),
        queryset=Provider.objects.order_by("name"),
        error_messages={"required": _("Välj en leverantör."), "invalid_choice": _("Välj en leverantör i listan.")},
    )


@admin.register(TipURL)
class TipURLAdmin(RoleRequiredAdmin):
    """Each reported URL's own path: assessed, confirmed by another analyst, removed or withdrawn."""

    roles = (Role.ANALYST,)
    list_display = (
        "label",
        "tip_link",
        "state",
        "held_for_police",
        "assessed_by",
        "confirmed_by",
        "confirmed_at",
        "provider",
        "suggested_provider",
    )
    list_filter = ("state", ("police_hold_at", admin.EmptyFieldListFilter), "provider")
    list_display_links = None
    list_per_page = 100
    actions = [
        "assess_illegal",
        "confirm",
        "use_suggested_provider",
        "choose_provider",
        "send_notice",
        "notice_filed_by_hand",
        "record_removal",
        "hold_for_police",
        "release_hold",
        "withdraw",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return self.in_role(request) and request.user.has_perm("hotline.decide_tipurl")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TipURL]:
        return (
            super()
            .get_queryset(request)
            .select_related("tip", "assessed_by", "confirmed_by", "provider")
            .defer("withdrawal_reason")
            .order_by("-id")
        )

    @admin.display(description=_("Adress"), ordering="pk")
    def label(self, reported: TipURL) -> str:
        return str(_("Adress %(number)s") % {"number": reported.pk})

    @admin.display(description=_("Tips"), ordering="tip")
    def tip_link(self, reported: TipURL) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:hotline_tip_change", args=[reported.tip_id]), reported.tip.reference
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # One read of the registry per page, not per row.
        self._providers = list(Provider.objects.all())
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Föreslagen leverantör"))
    def suggested_provider(self, reported: TipURL) -> str:
        if reported.provider_id is not None:
            return "-"
        suggestion = selectors.provider_suggestion(reported.url, getattr(self, "_providers", None))
        return suggestion.name if suggestion else "-"

    @admin.action(description=_("Använd den föreslagna leverantören"), permissions=["decide"])
    def use_suggested_provider(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        providers = list(Provider.objects.all())
        done = 0
        for reported in queryset:
            suggestion = selectors.provider_suggestion(reported.url, providers)
            if suggestion is not None:
                services.url_set_provider(url_id=reported.pk, provider_id=suggestion.pk, actor=acting_staff(request))
                done += 1
        messages.success(request, _("Leverantören sattes för %(count)d adresser.") % {"count": done})
        if done < len(queryset):
            messages.error(
                request, _("Några adresser har ingen känd leverantör: lägg till domänen i leverantörsregistret.")
            )

    @admin.action(description=_("Välj leverantör …"), permissions=["decide"])
    def choose_provider(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> HttpResponse | None:
        # For a URL with no suggestion, or a wrong one: the analyst picks from the registry.
        form = ProviderChoiceForm(request.POST if "confirm_provider" in request.POST else None)
        if form.is_bound and form.is_valid():
            provider = form.cleaned_data["provider"]
            ids = list(queryset.values_list("pk", flat=True))
            for url_id in ids:
                services.url_set_provider(url_id=url_id, provider_id=provider.pk, actor=acting_staff(request))
            messages.success(
                request,
                ngettext(
                    "%(count)d adress fick leverantören %(provider)s.",
                    "%(count)d adresser fick leverantören %(provider)s.",
                    len(ids),
                )
                % {"count": len(ids), "provider": provider.name},
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Välj leverantör"),
            "form": form,
            "selected": list(queryset.values_list("pk", flat=True)),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/hotline/tipurl/choose_provider.html", context)

    def _notices(self, request: HttpRequest, queryset: QuerySet[TipURL], service: Callable[..., Any]) -> int:
        done, refused = 0, 0
        for url_id in queryset.values_list("pk", flat=True):
            try:
                service(url_id=url_id, actor=acting_staff(request))
                done += 1
            except services.NoticeRefused:
                refused += 1
        if refused:
            messages.error(
                request,
                _(
                    "%(count)d adresser fick ingen begäran: de är spärrade för polisen, inte bekräftade, saknar "
                    "leverantör, har redan en öppen begäran eller så tar leverantören inte emot begäran på det sättet."
                )
                % {"count": refused},
            )
        return done

    @admin.action(description=_("Skicka begäran om borttagning (e-post)"), permissions=["decide"])
    def send_notice(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        done = self._notices(request, queryset, services.notice_send)
        if done:
            queued = _("%(count)d begäranden om borttagning köades för att skickas.") % {"count": done}
            messages.success(request, queued)

    @admin.action(description=_("Registrera att begäran lämnats i leverantörens webbformulär"), permissions=["decide"])
    def notice_filed_by_hand(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        done = self._notices(request, queryset, services.notice_filed_by_hand)
        if done:
            messages.success(
                request, _("%(count)d begäranden registrerades som inlämnade via webbformulär.") % {"count": done}
            )

    @admin.display(description=_("Spärrad för polisen"), boolean=True, ordering="police_hold_at")
    def held_for_police(self, reported: TipURL) -> bool:
        return reported.police_hold_at is not None

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[TipURL],
        service: Callable[..., Any],
        done: Callable[[int], str],
        **kwargs: Any,
    ) -> None:
        actor = acting_staff(request)
        succeeded, four_eyes, refused = 0, 0, 0
        for url_id in queryset.values_list("pk", flat=True):
            try:
                service(url_id=url_id, actor=actor, **kwargs)
                succeeded += 1
            except services.FourEyesError:
                four_eyes += 1
            except services.TransitionError:
                refused += 1
        if succeeded:
            messages.success(request, done(succeeded))
        if four_eyes:
            messages.error(
                request,
                ngettext(
                    "%(count)d adress bekräftades inte: den som bedömde en adress kan inte också bekräfta den.",
                    "%(count)d adresser bekräftades inte: den som bedömde en adress kan inte också bekräfta den.",
                    four_eyes,
                )
                % {"count": four_eyes},
            )
        if refused:
            messages.error(
                request,
                ngettext(
                    "%(count)d adress ändrades inte: den har en annan status.",
                    "%(count)d adresser ändrades inte: de har en annan status.",
                    refused,
                )
                % {"count": refused},
            )

    @admin.action(description=_("Bedöm som olaglig (första analytikern)"), permissions=["decide"])
    def assess_illegal(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        self._each(
            request,
            queryset,
            services.url_assess_illegal,
            lambda n: (
                ngettext(
                    "%(count)d adress bedömdes som olaglig. En annan analytiker behöver bekräfta den.",
                    "%(count)d adresser bedömdes som olagliga. En annan analytiker behöver bekräfta dem.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Bekräfta bedömningen (andra analytikern)"), permissions=["decide"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        self._each(
            request,
            queryset,
            services.url_confirm,
            lambda n: (
                ngettext(
                    "%(count)d adress bekräftades och finns nu i partnerflödet.",
                    "%(count)d adresser bekräftades och finns nu i partnerflödet.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Registrera att materialet är borttaget"), permissions=["decide"])
    def record_removal(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        self._each(
            request,
            queryset,
            services.url_record_removal,
            lambda n: (
                ngettext(
                    "%(count)d adress registrerades som borttagen och togs bort ur partnerflödet.",
                    "%(count)d adresser registrerades som borttagna och togs bort ur partnerflödet.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Spärra för polisen (ingen begäran, inte i företagens flöde)"), permissions=["decide"])
    def hold_for_police(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        self._each(
            request,
            queryset,
            services.url_hold_for_police,
            lambda n: (
                ngettext("%(count)d adress spärrades för polisen.", "%(count)d adresser spärrades för polisen.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Häv polisens spärr"), permissions=["decide"])
    def release_hold(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> None:
        self._each(
            request,
            queryset,
            services.url_release_police_hold,
            lambda n: (
                ngettext(
                    "Polisens spärr hävdes för %(count)d adress.", "Polisens spärr hävdes för %(count)d adresser.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Återkalla (skäl krävs)"), permissions=["decide"])
    def withdraw(self, request: HttpRequest, queryset: QuerySet[TipURL]) -> HttpResponse | None:
        form = WithdrawalForm(request.POST if "confirm_withdrawal" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._each(
                request,
                queryset,
                services.url_withdraw,
                lambda n: (
                    ngettext(
                        "%(count)d adress återkallades och togs bort ur partnerflödet.",
                        "%(count)d adresser återkallades och togs bort ur partnerflödet.",
                        n,
                    )
                    % {"count": n}
                ),
                reason=form.cleaned_data["reason"],
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Återkalla adresser"),
            "form": form,
            "selected": list(queryset.values_list("pk", flat=True)),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/hotline/tipurl/withdraw.html", context)


class PartnerTokenInline(TokenInlineBase):
    model = PartnerToken
    fields = ("prefix", "label", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IssueTokenForm(forms.Form):
    label = forms.CharField(label=_("Beteckning"), max_length=100, required=False)
    valid_days = forms.IntegerField(
        label=_("Giltig i antal dagar"),
        min_value=1,
        max_value=3650,
        initial=365,
        error_messages={
            "required": _("Skriv hur många dagar nyckeln ska gälla."),
            "min_value": _("Nyckeln måste gälla minst 1 dag."),
            "max_value": _("Nyckeln kan gälla högst 3 650 dagar."),
        },
    )


@admin.register(Partner)
class PartnerAdmin(AuditedChangesMixin, RoleRequiredAdmin):
    """Partners that pull the feed; an administrator issues their tokens here (shown once)."""

    roles = (Role.ADMINISTRATOR,)
    list_display = ("name", "audience", "scope_urls", "scope_url_hashes", "is_active")
    list_filter = ("audience", "is_active")
    fields = ("name", "audience", "scope_urls", "scope_url_hashes", "is_active", "notes")
    inlines = [PartnerTokenInline]
    actions = ["issue_token"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return self.in_role(request) and request.user.has_perm("hotline.manage_partnertoken")

    @admin.action(description=_("Skapa en ny API-nyckel (visas en gång)"), permissions=["manage"])
    def issue_token(self, request: HttpRequest, queryset: QuerySet[Partner]) -> HttpResponse | None:
        partners = list(queryset[:2])
        if len(partners) != 1:
            messages.error(request, _("Välj en partner i taget när du skapar en nyckel."))
            return None
        partner = partners[0]
        form = IssueTokenForm(request.POST if "confirm_issue" in request.POST else None)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "partner": partner,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        if form.is_bound and form.is_valid():
            issued = services.partner_token_issue(
                partner_id=partner.pk,
                actor=acting_staff(request),
                label=form.cleaned_data["label"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["valid_days"]),
            )
            context.update(title=_("Ny API-nyckel"), issued=issued)
            # The staff site already sends no-store: the secret is never cached.
            return TemplateResponse(request, "admin/hotline/partner/token_issued.html", context)
        context.update(title=_("Skapa en ny API-nyckel"), form=form)
        return TemplateResponse(request, "admin/hotline/partner/issue_token.html", context)


class PartnerTokenUseInline(UseInlineBase):
    model = PartnerTokenUse
    fields = ("used_at", "endpoint", "status_code")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerTokenUse]:
        return super().get_queryset(request).order_by("-used_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PartnerToken)
class PartnerTokenAdmin(RoleRequiredAdmin, ReadOnlyAdminMixin):
    """Tokens are issued from a partner and only ever revoked; each use is listed (time, endpoint, status)."""

    roles = (Role.ADMINISTRATOR,)
    list_display = ("prefix", "partner", "label", "created_at", "expires_at", "revoked_at")
    list_filter = ("partner", ("revoked_at", admin.EmptyFieldListFilter))
    fields = ("partner", "prefix", "label", "created_at", "created_by", "expires_at", "revoked_at", "revoked_by")
    readonly_fields = fields
    inlines = [PartnerTokenUseInline]
    actions = ["revoke"]

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return self.in_role(request) and request.user.has_perm("hotline.manage_partnertoken")

    @admin.action(description=_("Återkalla nycklarna nu"), permissions=["manage"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PartnerToken]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for token_id in ids:
            services.partner_token_revoke(token_id=token_id, actor=acting_staff(request))
        messages.success(
            request,
            ngettext("%(count)d API-nyckel återkallades.", "%(count)d API-nycklar återkallades.", len(ids))
            % {"count": len(ids)},
        )


def notice_escalation_panel_context(request: HttpRequest) -> dict[str, Any] | None:
    """The admin start page's notice panel: shown only while escalated notices wait for an analyst."""
    escalated = selectors.notices_needing_analysts()
    return {"escalated": escalated} if escalated else None


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    hours = value.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


@admin.register(Provider)
class ProviderAdmin(AuditedChangesMixin, RoleRequiredAdmin):
    """Hosting companies and platforms: where notices go, in which language; their domains drive suggestions."""

    roles = (Role.ANALYST,)
    list_display = ("name", "country", "notice_language", "abuse_email", "web_form_url")
    list_filter = ("country", "notice_language")
    search_fields = ("name", "known_domains")
    fields = ("name", "abuse_email", "web_form_url", "country", "notice_language", "known_domains", "notes")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EscalatedFilter(admin.SimpleListFilter):
    title = _("behöver en analytiker")
    parameter_name = "escalated"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Ja, ingen borttagning trots påminnelse"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(
                escalated_at__isnull=False,
                state__in=[TakedownNotice.State.SENT, TakedownNotice.State.ACKNOWLEDGED],
            )
        return queryset


@admin.register(TakedownNotice)
class TakedownNoticeAdmin(RoleRequiredAdmin, ReadOnlyAdminMixin):
    """Every notice and what became of it; the analyst records each answer. Metrics above the list."""

    roles = (Role.ANALYST,)
    list_display = (
        "notice_reference",
        "provider",
        "method",
        "state",
        "sent_at",
        "reminder_sent_at",
        "escalated_at",
        "acknowledged_at",
        "closed_at",
        "closed_by",
    )
    list_filter = ("state", EscalatedFilter, "method", "provider__country", "provider")
    list_display_links = None
    actions = ["acknowledged", "removed", "refused", "no_answer"]
    change_list_template = "admin/hotline/takedownnotice/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[TakedownNotice]:
        return super().get_queryset(request).select_related("provider", "tip_url", "closed_by").defer("tip_url__url")

    def has_send_permission(self, request: HttpRequest) -> bool:
        return self.in_role(request) and request.user.has_perm("hotline.send_takedownnotice")

    @admin.display(description=_("Referens"))
    def notice_reference(self, notice: TakedownNotice) -> str:
        return notice.reference

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        def rows(by: str) -> list[dict[str, Any]]:
            return [
                {
                    "group": row.group,
                    "notices": row.notices,
                    "report_to_notice_median": _duration(row.report_to_notice_median),
                    "report_to_notice_p90": _duration(row.report_to_notice_p90),
                    "notice_to_removal_median": _duration(row.notice_to_removal_median),
                    "notice_to_removal_p90": _duration(row.notice_to_removal_p90),
                    "removed_within_24h": _share(row.removed_within_24h),
                    "removed_within_72h": _share(row.removed_within_72h),
                    "removed_within_7d": _share(row.removed_within_7d),
                }
                for row in selectors.takedown_metrics(by=by)
            ]

        context = {
            **(extra_context or {}),
            "metrics": [(_("Per leverantör"), rows("provider")), (_("Per land"), rows("country"))]
            if self.has_view_permission(request)
            else [],
        }
        return super().changelist_view(request, context)

    def _each(self, request: HttpRequest, queryset: QuerySet[TakedownNotice], service: Callable[..., Any]) -> int:
        done = 0
        for notice_id in queryset.values_list("pk", flat=True):
            try:
                service(notice_id=notice_id, actor=acting_staff(request))
                done += 1
            except services.TransitionError:
                pass
        if done < queryset.count():
            messages.error(request, _("Några begäranden ändrades inte: de har redan ett annat läge."))
        return done

    @admin.action(description=_("Leverantören har bekräftat begäran"), permissions=["send"])
    def acknowledged(self, request: HttpRequest, queryset: QuerySet[TakedownNotice]) -> None:
        done = self._each(request, queryset, services.notice_acknowledge)
        text = _("%(count)d begäranden markerades som bekräftade av leverantören.") % {"count": done}
        messages.success(request, text)

    @admin.action(description=_("Materialet är borttaget (kontrollerat)"), permissions=["send"])
    def removed(self, request: HttpRequest, queryset: QuerySet[TakedownNotice]) -> None:
        done = self._each(request, queryset, services.notice_record_removed)
        text = _("%(count)d begäranden stängdes som borttagna; adresserna lämnade partnerflödet.") % {"count": done}
        messages.success(request, text)

    @admin.action(description=_("Leverantören nekade"), permissions=["send"])
    def refused(self, request: HttpRequest, queryset: QuerySet[TakedownNotice]) -> None:
        done = self._each(request, queryset, services.notice_record_refused)
        messages.success(request, _("%(count)d begäranden registrerades som nekade.") % {"count": done})

    @admin.action(description=_("Inget svar från leverantören"), permissions=["send"])
    def no_answer(self, request: HttpRequest, queryset: QuerySet[TakedownNotice]) -> None:
        done = self._each(request, queryset, services.notice_record_no_answer)
        messages.success(request, _("%(count)d begäranden registrerades som obesvarade.") % {"count": done})
