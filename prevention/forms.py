from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from prevention.search import MAX_QUERY_LENGTH


class SearchWordsField(forms.CharField):
    """The search words: a ``CharField`` that every form shares instead of copying.

    A form deep-copies its fields (and their widgets, validators and messages) so
    that one form can change its own; nothing changes this one per form, and the
    copy cost more CPU per search than validating the words.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> "SearchWordsField":
        return self


class SearchForm(forms.Form):
    q = SearchWordsField(
        label=_("Sök bland texterna"),
        max_length=MAX_QUERY_LENGTH,
        strip=True,
        error_messages={
            "required": _("Skriv ett eller flera ord att söka efter."),
            "max_length": _("Skriv högst %(limit_value)d tecken."),
        },
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}),
    )
