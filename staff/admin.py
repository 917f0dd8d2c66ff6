"""The staff user list: roles, second factors, lockouts and deactivation."""

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnAttestation, WebAuthnCredential, WebAuthnUserHandle

from audit.admin_mixins import AuditedChangesMixin, AuditedViewMixin
from staff.access import acting_staff
from staff.models import BackupCodeDevice, StaffTOTPDevice
from staff.selectors import account_state
from staff.services import (
    AccountChangeRefused,
    check_account_change,
    deactivate_account,
    record_account_changes,
    record_password_changed,
    reset_second_factor,
    unlock_account,
)
from staff.types import StaffUser

User = get_user_model()


if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    UserAdminBase = UserAdmin[StaffUser]
else:
    # UserAdmin is generic only in django-stubs; at runtime it cannot be subscripted.
    UserAdminBase = UserAdmin


# Devices are managed through the user list (reset), never edited directly:
# their admin would show keys to anyone allowed to view them. django-otp's
# own device tables stay empty (staff.models holds the devices).
for model in (TOTPDevice, StaticDevice, WebAuthnCredential, WebAuthnAttestation, WebAuthnUserHandle):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(AuditedViewMixin, AuditedChangesMixin, UserAdminBase):
    list_display = ("username", "first_name", "last_name", "roles", "second_factor", "is_active", "last_login")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "email")
    date_hierarchy = "date_joined"
    actions = ("reset_second_factor", "unlock", "deactivate")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffUser]:
        totp = StaffTOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        passkey = WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True)
        backup = BackupCodeDevice.objects.filter(user=OuterRef("pk"), confirmed=True, token_set__isnull=False)
        users: QuerySet[StaffUser] = super().get_queryset(request)
        return users.prefetch_related("groups").annotate(
            has_totp=Exists(totp), has_passkey=Exists(passkey), has_backup_codes=Exists(backup)
        )

    def get_readonly_fields(self, request: HttpRequest, obj: StaffUser | None = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not getattr(request.user, "is_superuser", False):
            # Roles are groups; nobody but a superuser grants single
            # permissions or superuser status.
            readonly += ("is_superuser", "user_permissions", "last_login", "date_joined")
        if obj is not None and obj.pk == request.user.pk:
            # Nobody gives themselves a role (or takes their own away).
            readonly += ("groups",)
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: StaffUser | None = None) -> bool:
        # A superuser's account (its password, factors, flags) is changed by superusers only.
        if obj is not None and obj.is_superuser and not getattr(request.user, "is_superuser", False):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: StaffUser, form: Any, change: bool) -> None:
        stored = User.objects.filter(pk=obj.pk).first() if change else None
        before = account_state(stored) if stored is not None else None
        if before is not None:
            groups = form.cleaned_data.get("groups")
            after = replace(
                account_state(obj),
                groups=frozenset(g.name for g in groups) if groups is not None else before.groups,
            )
            # Defence in depth: the read-only fields already keep these out of the form.
            check_account_change(actor=acting_staff(request), user=obj, before=before, after=after)
        super().save_model(request, obj, form, change)
        obj._account_before = before  # type: ignore[attr-defined]  # carried from save_model to save_related

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        before = getattr(form.instance, "_account_before", None)
        if before is not None:
            record_account_changes(
                actor=acting_staff(request), user=form.instance, before=before, after=account_state(form.instance)
            )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            changed = self.get_object(request, unquote(id))
            if changed is not None:
                record_password_changed(actor=acting_staff(request), user=changed)
        return response

    @admin.display(description=_("Roller"))
    def roles(self, obj: StaffUser) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all()))

    @admin.display(description=_("Tvåstegsverifiering"))
    def second_factor(self, obj: Any) -> str:
        """Which factors the account holds: an administrator sees who still has none."""
        factors = [
            str(label)
            for held, label in (
                (obj.has_totp, _("app")),
                (obj.has_passkey, _("nyckel")),
                (obj.has_backup_codes, _("reservkoder")),
            )
            if held
        ]
        return ", ".join(factors) if factors else str(_("ingen"))

    @admin.action(
        permissions=["change"], description=_("Återställ tvåstegsverifiering (ny registrering vid nästa inloggning)")
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[StaffUser]) -> None:
        self._each(request, queryset, reset_second_factor, _("Tvåstegsverifieringen är återställd."))

    @admin.action(permissions=["change"], description=_("Lås upp efter för många inloggningsförsök"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[StaffUser]) -> None:
        self._each(request, queryset, unlock_account, _("Kontona är upplåsta."))

    @admin.action(permissions=["change"], description=_("Inaktivera kontona"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[StaffUser]) -> None:
        # Never the acting administrator's own account.
        queryset = queryset.exclude(pk=acting_staff(request).pk)
        self._each(request, queryset, deactivate_account, _("Kontona är inaktiverade."))

    def _each(
        self, request: HttpRequest, queryset: QuerySet[StaffUser], service: Callable[..., None], done: "StrOrPromise"
    ) -> None:
        refused = 0
        for user in queryset:
            try:
                service(actor=acting_staff(request), user=user)
            except AccountChangeRefused:
                refused += 1
        if refused:
            self.message_user(request, _("Bara en superanvändare kan ändra en superanvändares konto."), messages.ERROR)
        if refused < len(queryset):
            self.message_user(request, done, messages.SUCCESS)
