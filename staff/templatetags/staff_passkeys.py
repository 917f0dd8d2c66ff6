"""The passkey parts of the staff login pages, kept apart from the TOTP views."""

from typing import Any

from django import template
from django.middleware import csrf
from django.urls import reverse

from staff import login
from staff.selectors import has_passkey

register = template.Library()


def _configuration(request: Any) -> dict[str, Any]:
    # Read by the library's script from a JSON block: no inline script, so the strict CSP holds.
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        "beginRegistrationUrl": reverse("admin:staff_passkey_register_begin"),
        "completeRegistrationUrl": reverse("admin:staff_passkey_register_complete"),
        "beginAuthenticationUrl": reverse("admin:staff_passkey_verify_begin"),
        "completeAuthenticationUrl": reverse("admin:staff_passkey_verify_complete"),
    }


@register.inclusion_tag("staff/passkey_register.html", takes_context=True)
def passkey_registration(context: dict[str, Any]) -> dict[str, Any]:
    """The button that registers a passkey (first enrolment, or a verified staff member adding one)."""
    return {"configuration": _configuration(context["request"])}


@register.inclusion_tag("staff/passkey_verify.html", takes_context=True)
def passkey_verification(context: dict[str, Any]) -> dict[str, Any]:
    """The passkey button of the second step, for someone who holds a passkey."""
    request = context["request"]
    user = login.pending_user(request)
    if user is None or not has_passkey(user):
        return {"show": False}
    return {"show": True, "configuration": _configuration(request)}
