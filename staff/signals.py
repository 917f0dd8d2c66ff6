"""Receivers that turn account changes into revocations of open staff sockets (staff.revocation).

Thin on purpose: each one only decides whether a change can take access away
and hands the user id to the revocation service, after commit.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from staff.revocation import revoke_on_commit

# What a user row held before a save, for post_save to compare.
_BEFORE = "_staff_revocation_before"


def remember_before_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"is_active", "is_staff", "is_superuser", "password"} & set(update_fields):
        return  # e.g. last_login at every login: nothing that can take access away
    before = sender.objects.filter(pk=instance.pk).values("is_active", "is_staff", "is_superuser", "password").first()
    setattr(instance, _BEFORE, before)


def revoke_after_save(sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    if raw or created or before is None:
        return
    lost = (
        (before["is_active"] and not instance.is_active)
        or (before["is_staff"] and not instance.is_staff)
        or (before["is_superuser"] and not instance.is_superuser)
        or before["password"] != instance.password
    )
    if lost:
        revoke_on_commit(instance.pk)


def revoke_after_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    revoke_on_commit(instance.pk)


def revoke_after_group_change(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    # Any change re-checks: adding a role never closes a socket that still qualifies.
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if not reverse:  # user.groups.<action>(...)
        revoke_on_commit(instance.pk)
        return
    if action == "pre_clear":  # group.user_set.clear(): pk_set is None, so read who is leaving
        pk_set = set(instance.user_set.values_list("pk", flat=True))
    for user_id in pk_set or ():
        revoke_on_commit(user_id)


def revoke_before_group_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Deleting a group drops its memberships without an m2m_changed signal.
    for user_id in instance.user_set.values_list("pk", flat=True):
        revoke_on_commit(user_id)


def revoke_after_logout(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    if user is None or request is None:
        return
    # The session is flushed right after this signal: the event names it, so
    # the socket on it closes without waiting to see it gone from the store.
    revoke_on_commit(user.pk, session_key=request.session.session_key)


def connect() -> None:
    from django.contrib.auth.models import Group
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

    user_model = get_user_model()
    pre_save.connect(remember_before_save, sender=user_model, dispatch_uid="staff.revocation.pre_save")
    post_save.connect(revoke_after_save, sender=user_model, dispatch_uid="staff.revocation.post_save")
    post_delete.connect(revoke_after_delete, sender=user_model, dispatch_uid="staff.revocation.post_delete")
    m2m_changed.connect(
        revoke_after_group_change, sender=user_model.groups.through, dispatch_uid="staff.revocation.groups"
    )
    pre_delete.connect(revoke_before_group_delete, sender=Group, dispatch_uid="staff.revocation.group_delete")
    user_logged_out.connect(revoke_after_logout, dispatch_uid="staff.revocation.logout")
