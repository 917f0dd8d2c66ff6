from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _


class PasswordStepForm(AdminAuthenticationForm):
    """Username and password: the first of two steps. Only staff members pass."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _("Fel användarnamn eller lösenord. Tänk på att stora och små bokstäver spelar roll."),
    }


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Kod"),
        max_length=16,
        help_text=_("Den sexsiffriga koden från din autentiseringsapp, eller en av dina reservkoder."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class EnrolmentForm(forms.Form):
    token = forms.CharField(
        label=_("Kod från appen"),
        min_length=6,
        max_length=6,
        help_text=_("Skriv de sex siffror som appen visar just nu."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}),
    )
