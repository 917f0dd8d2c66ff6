"""The five staff roles, as groups, and the permissions each one holds.

Least privilege: an editor sees no chats and no tips, a counsellor sees no
tips, an analyst sees no chats. Each app declares what its roles may do with
its own models as ``role_permissions`` on its AppConfig; after every
``migrate``, ``sync_role_permissions`` makes the groups hold exactly that.
"""

from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    EDITOR = "editor"
    ADMINISTRATOR = "administrator"


# "app_label.codename" per role, for models that belong to no app of ours.
BASE_ROLE_PERMISSIONS: dict[Role, set[str]] = {
    Role.COUNSELLOR: set(),
    Role.SUPERVISOR: set(),
    Role.ANALYST: set(),
    Role.EDITOR: set(),
    Role.ADMINISTRATOR: {
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
    },
}


def has_role(user: AbstractBaseUser | AnonymousUser, role: Role) -> bool:
    """True for an active staff member in ``role``; superusers hold every role."""
    # Roles are groups, which only a PermissionsMixin user (the site's User) has.
    if not (isinstance(user, PermissionsMixin) and user.is_authenticated and user.is_active):
        return False
    if not getattr(user, "is_staff", False):
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=role.value).exists()


def role_permissions() -> dict[Role, set[str]]:
    """The base mapping merged with every app's ``AppConfig.role_permissions``."""
    from django.apps import apps

    merged = {role: set(perms) for role, perms in BASE_ROLE_PERMISSIONS.items()}
    for config in apps.get_app_configs():
        for role, perms in getattr(config, "role_permissions", {}).items():
            merged[Role(role)] |= set(perms)
    return merged


def sync_role_permissions(sender: Any = None, **kwargs: Any) -> None:
    """Makes each role group hold exactly the permissions from ``role_permissions()``.

    Connected to ``post_migrate``, which is sent once per app (and after every
    ``flush``, so once per transactional test): only the last app's signal
    acts, when every app's permissions exist, and it reads them in one query.
    """
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is not None and with_models and sender is not with_models[-1]:
        return
    using = kwargs.get("using", "default")
    wanted = role_permissions()
    codenames = {dotted.split(".", 1)[1] for dotted_names in wanted.values() for dotted in dotted_names}
    existing = {
        f"{permission.content_type.app_label}.{permission.codename}": permission
        for permission in Permission.objects.using(using).select_related("content_type").filter(codename__in=codenames)
    }
    for role, dotted_names in wanted.items():
        group, _ = Group.objects.using(using).get_or_create(name=role.value)
        # A permission not yet created is skipped: its app's own migrate creates it.
        group.permissions.set([existing[dotted] for dotted in sorted(dotted_names) if dotted in existing])
