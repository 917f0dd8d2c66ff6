"""Every admin URL, for every role: exactly what role_permissions() grants, 403 elsewhere.

Generic on purpose: it walks every ModelAdmin registered on the admin site
and every URL the site has, and derives each role's expectation from
``staff.roles.role_permissions()``, so models added by any app are covered
the moment they are registered. An admin URL it does not understand fails
the test until it is given an expectation in ``EXTRA_URLS``.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, reverse

from staff.roles import Role, role_permissions
from tests.factories import login_verified
from tests.staff.admin_objects import object_of, version_of
from tests.staff.helpers import staff_member

pytestmark = pytest.mark.django_db

MODEL_VIEWS = ("changelist", "add", "change", "history", "delete")

# Site-wide pages every verified staff member reaches (they show only what
# the role may see), and pages that hold no data at all.
# staff_passkeys: each staff member's own passkeys and the button to add one.
OPEN_TO_STAFF = {"index", "password_change", "password_change_done", "jsi18n", "staff_passkeys"}
NOT_DATA = {
    "login": "redirects a logged-in member to the index",
    "logout": "POST only",
    "staff_verify": "a login step; without a pending login it redirects to the login page",
    "staff_enrol": "a login step; without a pending login it redirects to the login page",
    "view_on_site": "a redirect to the object's public page, which checks access itself",
    "autocomplete": "checked per ModelAdmin below, where autocomplete_fields exist",
    # Passkeys: each ceremony runs only for the session's own pending or verified user (tests/staff/test_passkeys.py).
    "staff_passkey_register_begin": "a login step's JSON ceremony, POST only",
    "staff_passkey_register_complete": "a login step's JSON ceremony, POST only",
    "staff_passkey_verify_begin": "a login step's JSON ceremony, POST only",
    "staff_passkey_verify_complete": "a login step's JSON ceremony, POST only",
    "staff_passkey_jsi18n": "the passkey script's texts, no data",
    "staff_passkey_backup_codes": "once after a first passkey enrolment; otherwise it redirects to the index",
}


# name -> (path builder, predicate on the role's permission set) for custom
# admin URLs that are neither site-wide nor one of a ModelAdmin's five.
def _revision_urls(label: str) -> dict[str, tuple[Callable[[], str], Callable[[set[str]], bool]]]:
    """django-reversion's pages for one model: recovery needs add and change, a revision needs change."""
    app_label, model_name = label.split(".")
    model = apps.get_model(label)
    name = f"{app_label}_{model_name.lower()}"

    def revision_path() -> str:
        version = version_of(model)
        return reverse(f"admin:{name}_revision", args=[version.object_id, version.pk])

    def may(*actions: str) -> Callable[[set[str]], bool]:
        return lambda granted: all(f"{app_label}.{a}_{model_name.lower()}" in granted for a in actions)

    return {
        f"{name}_recoverlist": (lambda: reverse(f"admin:{name}_recoverlist"), may("add", "change")),
        f"{name}_recover": (
            lambda: reverse(f"admin:{name}_recover", args=[version_of(model, deleted=True).pk]),
            may("add", "change"),
        ),
        f"{name}_revision": (revision_path, may("change")),
    }


EXTRA_URLS: dict[str, tuple[Callable[[], str], Callable[[set[str]], bool]]] = {
    "auth_user_password_change": (
        lambda: reverse("admin:auth_user_password_change", args=[object_of(get_user_model()).pk]),
        lambda granted: "auth.change_user" in granted,
    ),
    "prevention_article_preview": (
        lambda: reverse("admin:prevention_article_preview", args=[object_of(apps.get_model("prevention.Article")).pk]),
        lambda granted: "prevention.view_article" in granted,
    ),
    **_revision_urls("prevention.Article"),
    **_revision_urls("prevention.Topic"),
    # The counsellor console: counsellors and supervisors (who see conversations).
    "supportline_console": (
        lambda: reverse("admin:supportline_console"),
        lambda granted: "supportline.view_conversation" in granted,
    ),
    # The console's Brev tab (JSON): the same roles, who also see letters.
    "supportline_letters_board": (
        lambda: reverse("admin:supportline_letters_board"),
        lambda granted: "supportline.view_letter" in granted,
    ),
    "supportline_letters_letter": (
        lambda: reverse("admin:supportline_letters_letter", args=[object_of(apps.get_model("supportline.Letter")).pk]),
        lambda granted: "supportline.view_letter" in granted,
    ),
}


def url_names(patterns: list[Any]) -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            names |= url_names(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(entry.name)
    return names


def model_url_name(model: Any, view: str) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}_{view}"


def expected_model_views(model: Any, granted: set[str]) -> dict[str, bool]:
    opts = model._meta

    def has(action: str) -> bool:
        return f"{opts.app_label}.{action}_{opts.model_name}" in granted

    sees = has("view") or has("change")
    return {"changelist": sees, "add": has("add"), "change": sees, "history": sees, "delete": has("delete")}


def app_reachable(app_label: str, granted: set[str]) -> bool:
    return any(
        any(perm.startswith(f"{app_label}.") and perm.endswith(f"_{model._meta.model_name}") for perm in granted)
        for model in admin.site._registry
        if model._meta.app_label == app_label
    )


def test_every_admin_url_has_an_expectation():
    understood = OPEN_TO_STAFF | set(NOT_DATA) | set(EXTRA_URLS) | {"app_list"}
    for model in admin.site._registry:
        understood |= {model_url_name(model, view) for view in MODEL_VIEWS}
    unknown = url_names(admin.site.get_urls()) - understood
    assert not unknown, f"admin URLs without an expectation, add them to EXTRA_URLS: {sorted(unknown)}"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_what_it_should(client, role):
    granted = role_permissions()[role]
    user = staff_member(role=role)
    login_verified(client, user)
    wrong: list[str] = []

    def check(path: str, allowed: bool, *, denied_status: int = 403) -> None:
        status = client.get(path).status_code
        if (allowed and status != 200) or (not allowed and status != denied_status):
            wrong.append(f"{path}: got {status}, expected {200 if allowed else denied_status}")

    for name in sorted(OPEN_TO_STAFF):
        check(reverse(f"admin:{name}"), True)

    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        obj = object_of(model)
        expected = expected_model_views(model, granted)
        for view, allowed in expected.items():
            args = [quote(obj.pk)] if view in ("change", "history", "delete") else []
            check(reverse(f"admin:{model_url_name(model, view)}", args=args), allowed)
        for field_name in model_admin.get_autocomplete_fields(None):  # type: ignore[arg-type]
            remote = model._meta.get_field(field_name).related_model
            query = f"?app_label={model._meta.app_label}&model_name={model._meta.model_name}&field_name={field_name}"
            remote_admin_sees = expected_model_views(remote, granted)["changelist"]
            check(reverse("admin:autocomplete") + query, expected["changelist"] and remote_admin_sees)

    for app_label in sorted({model._meta.app_label for model in admin.site._registry}):
        check(reverse("admin:app_list", args=[app_label]), app_reachable(app_label, granted))

    for _name, (path, predicate) in sorted(EXTRA_URLS.items()):
        check(path(), predicate(granted))

    # The index lists exactly the models the role may see or change.
    listed = {
        model["model"]._meta.label
        for app in client.get(reverse("admin:index")).context["app_list"]
        for model in app["models"]
    }
    visible = {
        model._meta.label for model in admin.site._registry if any(expected_model_views(model, granted).values())
    }
    if listed != visible:
        wrong.append(f"index lists {sorted(listed)}, expected {sorted(visible)}")

    assert not wrong, f"{role}: " + "; ".join(wrong)


def test_least_privilege_between_the_roles():
    """The issue's rules, stated once: editors see no chats or tips, counsellors no tips, analysts no chats."""
    perms = role_permissions()

    def apps_of(role: Role) -> set[str]:
        return {perm.split(".", 1)[0] for perm in perms[role]}

    assert not apps_of(Role.EDITOR) & {"supportline", "hotline"}
    assert "hotline" not in apps_of(Role.COUNSELLOR)
    assert "hotline" not in apps_of(Role.SUPERVISOR)
    assert "supportline" not in apps_of(Role.ANALYST)
    # Nobody, not even an administrator, may delete audit records or tips.
    for role in Role:
        assert not {p for p in perms[role] if p.startswith(("audit.delete_", "audit.change_", "hotline.delete_tip"))}


def every_admin_path() -> list[str]:
    paths = [reverse(f"admin:{name}") for name in sorted(OPEN_TO_STAFF)]
    for model in admin.site._registry:
        obj = object_of(model)
        for view in MODEL_VIEWS:
            args = [quote(obj.pk)] if view in ("change", "history", "delete") else []
            paths.append(reverse(f"admin:{model_url_name(model, view)}", args=args))
        paths.append(reverse("admin:app_list", args=[model._meta.app_label]))
    paths += [path() for path, _ in EXTRA_URLS.values()]
    return paths


@pytest.mark.parametrize("superuser", [False, True], ids=["administrator", "superuser"])
def test_a_login_without_the_second_factor_reaches_no_data(client, superuser):
    """A password-only session (here forced, as a stolen password would give) gets only the login page."""
    user = staff_member(role=Role.ADMINISTRATOR, is_superuser=superuser)
    client.force_login(user)
    for path in every_admin_path():
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 302, path
            assert response["Location"].startswith(reverse("admin:login")), path
            assert not response.content, path


def test_every_declared_permission_exists():
    """A typo in an app's role_permissions would silently grant nothing; catch it here."""
    from django.contrib.auth.models import Group, Permission

    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    for role, granted in role_permissions().items():
        assert granted <= existing, f"{role}: unknown permissions {sorted(granted - existing)}"
        group_perms = {
            f"{app_label}.{codename}"
            for app_label, codename in Group.objects.get(name=role.value).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert group_perms == granted, role


# Escalation through the user admin (issue 10, item 5): an administrator
# holds auth.change_user, and must not turn it into any other power.


def change_form_data(client, user) -> dict[str, Any]:
    """What the browser would send back from ``user``'s change page, unchanged."""
    page = client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if name in ("last_login", "date_joined"):
            if value:
                data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().strftime("%H:%M:%S")
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif value is not None and name != "password":
            data[name] = value
    return data


def role_pk(role: Role) -> int:
    from django.contrib.auth.models import Group

    return Group.objects.get(name=role.value).pk


def test_an_administrator_cannot_give_itself_a_role(client):
    admin_user = staff_member(role=Role.ADMINISTRATOR)
    login_verified(client, admin_user)
    data = change_form_data(client, admin_user)
    data["groups"] = [role_pk(Role.ADMINISTRATOR), role_pk(Role.ANALYST)]
    client.post(reverse("admin:auth_user_change", args=[admin_user.pk]), data)
    assert set(admin_user.groups.values_list("name", flat=True)) == {Role.ADMINISTRATOR.value}
    assert client.get(reverse("admin:hotline_tip_changelist")).status_code == 403


def test_a_superuser_cannot_edit_its_own_groups_either(client):
    root = staff_member(is_superuser=True)
    login_verified(client, root)
    data = change_form_data(client, root)
    data["groups"] = [role_pk(Role.ANALYST)]
    client.post(reverse("admin:auth_user_change", args=[root.pk]), data)
    assert not root.groups.exists()


def test_an_administrator_cannot_take_over_a_superuser(client):
    from staff.models import StaffTOTPDevice
    from tests.factories import confirmed_totp_device

    admin_user = staff_member(role=Role.ADMINISTRATOR)
    root = staff_member(is_superuser=True)
    confirmed_totp_device(root)
    login_verified(client, admin_user)
    password_page = reverse("admin:auth_user_password_change", args=[root.pk])
    assert client.get(password_page).status_code == 403
    new = "a-new-password-for-root-42"
    assert client.post(password_page, {"password1": new, "password2": new}).status_code == 403
    root.refresh_from_db()
    assert not root.check_password(new)

    for action in ("reset_second_factor", "deactivate"):
        client.post(
            reverse("admin:auth_user_changelist"), {"action": action, "_selected_action": [root.pk], "index": 0}
        )
    root.refresh_from_db()
    assert root.is_active
    assert StaffTOTPDevice.objects.filter(user=root, confirmed=True).exists()

    data = change_form_data(client, root)  # the page itself is view-only for an administrator
    data["is_active"] = ""
    assert client.post(reverse("admin:auth_user_change", args=[root.pk]), data).status_code == 403


def test_an_administrator_cannot_grant_superuser(client):
    admin_user = staff_member(role=Role.ADMINISTRATOR)
    colleague = staff_member(role=Role.COUNSELLOR)
    login_verified(client, admin_user)
    data = change_form_data(client, colleague)
    data["is_superuser"] = "on"
    client.post(reverse("admin:auth_user_change", args=[colleague.pk]), data)
    colleague.refresh_from_db()
    assert not colleague.is_superuser


def test_a_superuser_may_change_a_superuser_and_grant_superuser(client):
    root = staff_member(is_superuser=True)
    other_root = staff_member(is_superuser=True)
    colleague = staff_member(role=Role.EDITOR)
    login_verified(client, root)
    data = change_form_data(client, colleague)
    data["is_superuser"] = "on"
    assert client.post(reverse("admin:auth_user_change", args=[colleague.pk]), data).status_code == 302
    colleague.refresh_from_db()
    assert colleague.is_superuser
    new = "a-new-password-for-root-42"
    password_page = reverse("admin:auth_user_password_change", args=[other_root.pk])
    assert client.post(password_page, {"password1": new, "password2": new}).status_code == 302


def test_every_change_of_power_is_audited_before_and_after(client):
    from audit.models import AuditEvent
    from tests.factories import confirmed_totp_device

    admin_user = staff_member(role=Role.ADMINISTRATOR)
    colleague = staff_member(role=Role.COUNSELLOR)
    confirmed_totp_device(colleague)
    login_verified(client, admin_user)
    data = change_form_data(client, colleague)
    data["groups"] = [role_pk(Role.COUNSELLOR), role_pk(Role.SUPERVISOR)]
    data.pop("is_active")
    assert client.post(reverse("admin:auth_user_change", args=[colleague.pk]), data).status_code == 302
    new = "a-new-password-for-them-42"
    password_page = reverse("admin:auth_user_password_change", args=[colleague.pk])
    assert client.post(password_page, {"password1": new, "password2": new}).status_code == 302
    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [colleague.pk], "index": 0},
    )

    actions = set(AuditEvent.objects.filter(object_id=str(colleague.pk)).values_list("action", flat=True))
    assert {
        "staff.account.groups:counsellor->counsellor,supervisor",
        "staff.account.is_active:true->false",
        "staff.account.password:changed",
        "staff.second_factor.reset:totp->none",
    } <= actions
    text = " ".join(AuditEvent.objects.values_list("action", flat=True))
    assert new not in text and "pbkdf2" not in text


def test_changing_ones_own_password_is_audited(client):
    from audit.models import AuditEvent

    user = staff_member(role=Role.EDITOR)
    login_verified(client, user)
    new = "another-long-password-42"
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": "correct-horse-battery-staple", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        actor=user, action="staff.account.password:changed", object_id=str(user.pk)
    ).exists()
