from django import forms
from django.utils.translation import gettext_lazy as _

from prevention.search import MAX_QUERY_LENGTH


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Sök bland texterna"),
        max_length=MAX_QUERY_LENGTH,
        strip=True,
        error_messages={
            "required": _("Skriv ett eller flera ord att söka efter."),
            "max_length": _("Skriv högst %(limit_value)d tecken."),
        },
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}),
    )
