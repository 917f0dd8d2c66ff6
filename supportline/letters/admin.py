"""The staff side of letters: metadata in the admin, and the console's Brev tab over plain HTTP.

No admin page shows letter text; only the console does, one letter at a
time, and every opening is audited. The JSON endpoints sit behind the
two-factor admin site and the chat roles:

* ``GET  letters/``       the board (queue by waiting time, mine, overdue)
* ``GET  letters/<id>/``  one letter (an audited read)
* ``POST letters/<id>/``  one action: claim, draft, send, close, risk, step, reassign
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods, require_safe

from staff.access import acting_staff, has_verified_role
from staff.admin_mixins import RoleRequiredAdmin
from staff.roles import Role
from supportline.letters import selectors, services
from supportline.letters.models import Letter

CHAT_STAFF = (Role.COUNSELLOR, Role.SUPERVISOR)


def index_panel_context(request: HttpRequest) -> dict[str, Any] | None:
    """The admin start page's console link, with what is waiting; for the chat roles only."""
    if not has_verified_role(request, *CHAT_STAFF):
        return None
    return {"counts": selectors.waiting_counts()}


def _detail_response(letter_id: int, request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.letter_detail(letter_id, acting_staff(request)))


def _action(request: HttpRequest, letter_id: int, data: dict[str, Any]) -> None:
    """Runs one console action; raises LetterError when it is refused."""
    user = acting_staff(request)
    action = data.get("action")
    text = data.get("text", "")
    if not isinstance(text, str):
        raise services.LetterError("invalid_text")
    if action == "claim":
        services.letter_claim(letter_id=letter_id, counsellor=user)
    elif action == "draft":
        services.letter_save_draft(letter_id=letter_id, counsellor=user, text=text)
    elif action == "send":
        services.letter_answer(letter_id=letter_id, counsellor=user, text=text)
    elif action == "close":
        services.letter_close_by_staff(letter_id=letter_id, actor=user)
    elif action == "risk":
        services.letter_mark_risk(letter_id=letter_id, actor=user)
    elif action == "step":
        services.letter_escalation_step_done(letter_id=letter_id, actor=user, step=str(data.get("step", "")))
    elif action == "reassign":
        to = data.get("to")
        to_user_id = int(to) if isinstance(to, int | str) and str(to).isdigit() else None
        services.letter_reassign(letter_id=letter_id, supervisor=user, to_user_id=to_user_id)
    else:
        raise services.LetterError("unknown_action")


@admin.register(Letter)
class LetterAdmin(RoleRequiredAdmin):
    roles = CHAT_STAFF
    list_display = [
        "__str__",
        "status",
        "age_band",
        "topic",
        "claimed_by",
        "imminent_risk",
        "waiting_since",
        "closed_at",
    ]
    list_filter = ["status", "imminent_risk", "topic", "age_band"]
    readonly_fields = [
        "status",
        "age_band",
        "topic",
        "claimed_by",
        "claimed_at",
        "created_at",
        "waiting_since",
        "answered_at",
        "closed_at",
        "closed_by",
        "imminent_risk",
        "risk_marked_at",
        "escalation_steps",
    ]
    fields = tuple(readonly_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("console/", wrap(self.board_view), name="supportline_letters_board"),
            path("console/<int:letter_id>/", wrap(self.letter_view), name="supportline_letters_letter"),
            *super().get_urls(),
        ]

    @staticmethod
    def _error(code: str, status: int = 400) -> JsonResponse:
        return JsonResponse({"error": code}, status=status)

    def board_view(self, request: HttpRequest) -> HttpResponse:
        return require_safe(self._board)(request)

    def _board(self, request: HttpRequest) -> HttpResponse:
        if not self.in_role(request):
            raise PermissionDenied
        board = selectors.letters_board(acting_staff(request))
        return JsonResponse(board)

    def letter_view(self, request: HttpRequest, letter_id: int) -> HttpResponse:
        return require_http_methods(["GET", "POST"])(self._letter)(request, letter_id)

    def _letter(self, request: HttpRequest, letter_id: int) -> HttpResponse:
        if not self.in_role(request):
            raise PermissionDenied
        try:
            if request.method == "POST":
                try:
                    data = json.loads(request.body or b"{}")
                except ValueError:
                    return self._error("invalid_json")
                if not isinstance(data, dict):
                    return self._error("invalid_json")
                _action(request, letter_id, data)
            services.letter_opened(letter_id=letter_id, user=acting_staff(request))
        except services.LetterError as error:
            status = {"not_found": 404, "forbidden": 403}.get(error.code, 409)
            return self._error(error.code, status)
        return _detail_response(letter_id, request)
