"""The staff user list: roles, second factors, lockouts and deactivation."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnAttestation, WebAuthnCredential, WebAuthnUserHandle

from audit.admin_mixins import AuditedChangesMixin, AuditedViewMixin
from staff.services import deactivate_account, reset_second_factor, unlock_account
from staff.types import StaffUser

User = get_user_model()

if TYPE_CHECKING:
    UserAdminBase = UserAdmin[StaffUser]
else:
    # UserAdmin is generic only in django-stubs; at runtime it cannot be subscripted.
    UserAdminBase = UserAdmin


# Devices are managed through the user list (reset), never edited directly:
# their admin would show keys to anyone allowed to view them.
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
        totp = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        passkey = WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True)
        backup = StaticDevice.objects.filter(user=OuterRef("pk"), confirmed=True, token_set__isnull=False)
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
        return readonly

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
        for user in queryset:
            reset_second_factor(actor=request.user, user=user)
        self.message_user(request, _("Tvåstegsverifieringen är återställd."), messages.SUCCESS)

    @admin.action(permissions=["change"], description=_("Lås upp efter för många inloggningsförsök"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[StaffUser]) -> None:
        for user in queryset:
            unlock_account(actor=request.user, user=user)
        self.message_user(request, _("Kontona är upplåsta."), messages.SUCCESS)

    @admin.action(permissions=["change"], description=_("Inaktivera kontona"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[StaffUser]) -> None:
        # Never the acting administrator's own account.
        for user in queryset.exclude(username=request.user.get_username()):
            deactivate_account(actor=request.user, user=user)
        self.message_user(request, _("Kontona är inaktiverade."), messages.SUCCESS)
