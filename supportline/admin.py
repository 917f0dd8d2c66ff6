"""The staff side of the support line, inside the admin.

The console (``/admin/supportline/conversation/console/``) is where
counsellors chat; the model pages hold what staff maintain: opening hours,
holidays, other help, canned responses, aliases, and blocks to review.
No admin page shows message text.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from staff.access import acting_staff
from staff.admin_mixins import RoleRequiredAdmin
from staff.roles import Role
from supportline import selectors, services
from supportline.models import (
    CannedResponse,
    Classification,
    Conversation,
    CounsellorProfile,
    Feedback,
    OpeningHours,
    OtherHelp,
    SpecialDay,
    VisitorBlock,
)

# Those who chat see conversations and what belongs to them; the opening
# hours and other help are kept up by supervisors and administrators.
CHAT_STAFF = (Role.COUNSELLOR, Role.SUPERVISOR)
SERVICE_KEEPERS = (Role.SUPERVISOR, Role.ADMINISTRATOR)


def _console_strings() -> dict[str, str]:
    return {
        "new_chat_title": _("Ny chatt väntar"),
        "risk_alert": _("Akut risk markerad i chatt #%(id)s."),
        "reconnecting": _("Anslutningen bröts. Ansluter igen …"),
        "logged_out": _("Du har loggats ut eftersom du varit inaktiv. Ladda om sidan och logga in igen."),
        "access_revoked": _(
            "Din åtkomst till konsolen har dragits in: kontot är avstängt, rollen ändrad, du har loggats ut "
            "eller lösenordet är bytt. Ladda om sidan."
        ),
        "connected": _("Ansluten."),
        "queue_empty": _("Ingen väntar just nu."),
        "queue_more": _("Här visas de %(shown)s första. %(more)s till väntar."),
        "claim": _("Ta chatten"),
        "monitor": _("Läs (tyst)"),
        "take_over": _("Ta över"),
        "risk": _("Risk"),
        "waited": _("%(minutes)s min"),
        "visitor": _("Den unga"),
        "counsellor": _("Rådgivare"),
        "you": _("Du"),
        "sending": _("Skickar …"),
        "sent": _("Skickat"),
        "retrying": _("Inte skickat, försöker igen"),
        "typing": _("Den unga skriver …"),
        "status_queued": _("i kö"),
        "status_active": _("pågår"),
        "status_ended": _("avslutad"),
        # How a chat ended, instead of only "avslutad" (Conversation.EndReason).
        "end_visitor_ended": _("Den unga avslutade"),
        "end_left": _("Den unga lämnade snabbt"),
        "end_counsellor_ended": _("Rådgivaren avslutade"),
        "end_blocked": _("Blockerad"),
        "end_abandoned": _("Den unga lämnade kön"),
        "reopen": _("Öppna igen"),
        "offline": _("den unga är inte ansluten"),
        "monitoring": _("Du läser tyst. Den unga ser inte att du är här."),
        "confirm_end": _("Avsluta chatten?"),
        "confirm_delete": _("Radera hela samtalet nu? Det går inte att ångra."),
        "transcript_deleted": _("Samtalet är raderat."),
        "classified": _("Klassificeringen är sparad."),
        "blocked": _("Den unga är blockerad och chatten är avslutad."),
        "closed": _("Chatten har flyttats från dig."),
        "error": _("Det gick inte: %(code)s"),
        "chat_title": _("Chatt #%(id)s"),
    }


@admin.register(Conversation)
class ConversationAdmin(RoleRequiredAdmin):
    roles = CHAT_STAFF
    list_display = ["__str__", "status", "end_reason", "age_band", "topic", "counsellor", "imminent_risk", "created_at"]
    list_filter = ["status", "end_reason", "imminent_risk", "topic", "age_band"]
    readonly_fields = [
        "status",
        "end_reason",
        "age_band",
        "topic",
        "counsellor",
        "created_at",
        "queued_at",
        "claimed_at",
        "ended_at",
        "imminent_risk",
        "risk_marked_at",
        "escalation_steps",
        "transcript_deleted_at",
    ]
    fields = tuple(readonly_fields)
    actions = ["delete_transcripts_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        console = path("console/", self.admin_site.admin_view(self.console_view), name="supportline_console")
        return [console, *super().get_urls()]

    def console_view(self, request: HttpRequest) -> HttpResponse:
        if not self.in_role(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Chattkonsol"),
            "strings": _console_strings(),
            "canned": [{"title": c.title, "text": c.text} for c in selectors.canned_responses()],
            "counsellors": selectors.counsellors_on_duty(),
            "categories": Classification.Category.choices,
            "outcomes": Classification.Outcome.choices,
            "escalation_steps": Conversation.EscalationStep.choices,
            "min_block_hours": settings.SUPPORTLINE_MIN_BLOCK_HOURS,
            "max_length": settings.SUPPORTLINE_MAX_MESSAGE_LENGTH,
            "user_id": request.user.pk,
        }
        return TemplateResponse(request, "admin/supportline/console.html", context)

    @admin.action(description=gettext_lazy("Radera samtalet nu (avslutade chattar)"))
    def delete_transcripts_now(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        if not self.in_role(request):
            raise PermissionDenied
        deleted = 0
        for conversation in queryset.filter(status=Conversation.Status.ENDED):
            try:
                deleted += services.transcript_delete_now(conversation_id=conversation.pk, actor=acting_staff(request))
            except services.ChatError:
                continue
        self.message_user(
            request,
            ngettext("%(count)s meddelande raderades.", "%(count)s meddelanden raderades.", deleted)
            % {"count": deleted},
            messages.SUCCESS,
        )


@admin.register(OpeningHours)
class OpeningHoursAdmin(RoleRequiredAdmin):
    roles = SERVICE_KEEPERS
    list_display = ["weekday", "opens", "closes"]


@admin.register(SpecialDay)
class SpecialDayAdmin(RoleRequiredAdmin):
    roles = SERVICE_KEEPERS
    list_display = ["date", "label", "opens", "closes"]


@admin.register(OtherHelp)
class OtherHelpAdmin(RoleRequiredAdmin):
    roles = SERVICE_KEEPERS
    list_display = ["name", "phone", "url", "position"]


@admin.register(CannedResponse)
class CannedResponseAdmin(RoleRequiredAdmin):
    roles = CHAT_STAFF
    list_display = ["title", "active", "position"]
    list_filter = ["active"]


@admin.register(CounsellorProfile)
class CounsellorProfileAdmin(RoleRequiredAdmin):
    roles = (*CHAT_STAFF, Role.ADMINISTRATOR)
    list_display = ["alias", "user", "max_chats"]


@admin.register(VisitorBlock)
class VisitorBlockAdmin(RoleRequiredAdmin):
    roles = CHAT_STAFF
    list_display = ["__str__", "reason", "blocked_by", "created_at", "expires_at", "reviewed_at"]
    readonly_fields = ["conversation", "reason", "blocked_by", "created_at", "expires_at", "reviewed_at", "reviewed_by"]
    fields = [*readonly_fields, "review_note"]
    actions = ["mark_reviewed", "lift"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: VisitorBlock, form: Any, change: bool) -> None:
        services.block_review(block_id=obj.pk, reviewer=acting_staff(request), note=obj.review_note, lift=False)

    @admin.action(description=gettext_lazy("Markera som granskad"), permissions=["change"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[VisitorBlock]) -> None:
        for block in queryset:
            services.block_review(block_id=block.pk, reviewer=acting_staff(request), note=block.review_note, lift=False)

    @admin.action(description=gettext_lazy("Häv blockeringen"), permissions=["change"])
    def lift(self, request: HttpRequest, queryset: QuerySet[VisitorBlock]) -> None:
        for block in queryset:
            services.block_review(block_id=block.pk, reviewer=acting_staff(request), note=block.review_note, lift=True)


@admin.register(Classification)
class ClassificationAdmin(RoleRequiredAdmin):
    roles = CHAT_STAFF
    list_display = ["conversation", "outcome", "created_at"]
    list_filter = ["outcome"]
    readonly_fields = ["conversation", "categories", "outcome", "classified_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(RoleRequiredAdmin):
    roles = (Role.SUPERVISOR,)
    list_display = ["answer", "created_at"]
    list_filter = ["answer"]
    readonly_fields = ["answer", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- Letters (Brevlådan) ---------------------------------------------------------------
# Registered from their own module; imported here so the admin's autodiscovery finds them.
from supportline.letters import admin as letters_admin  # noqa: E402, F401
