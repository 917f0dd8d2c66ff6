"""The one role check for feature admins: only verified members of the named roles get in."""

from typing import Any, ClassVar

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from audit.admin_mixins import ModelAdminBase
from staff.access import has_verified_role
from staff.roles import Role


class RoleRequiredAdmin(ModelAdminBase):
    """Defense in depth: whatever permissions a user holds, only a verified member of ``roles`` gets in.

    ``class TipAdmin(RoleRequiredAdmin): roles = (Role.ANALYST,)``. Every
    permission check (module, view, add, change, delete) needs the role
    first and the model permission (from ``role_permissions``) second, so a
    permission granted by mistake to another role still opens nothing.
    Custom views of the admin call ``in_role(request)`` themselves.
    """

    roles: ClassVar[tuple[Role, ...]] = ()

    def __init__(self, model: Any, admin_site: admin.AdminSite) -> None:
        if not self.roles:
            raise ImproperlyConfigured(f"{type(self).__name__} names no roles")
        super().__init__(model, admin_site)

    def in_role(self, request: HttpRequest) -> bool:
        return has_verified_role(request, *self.roles)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.in_role(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.in_role(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.in_role(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.in_role(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.in_role(request) and super().has_delete_permission(request, obj)
