"""The young person's letter forms: a letter, a code, and a reply."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from supportline.models import Conversation


def _text_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 8, "autocomplete": "off", "data-letter-text": ""}),
        error_messages={
            "required": _("Skriv något först."),
            "max_length": _("Brevet är för långt. Det får vara högst %(limit_value)d tecken."),
        },
    )


class LetterForm(forms.Form):
    text = _text_field(_("Ditt brev"))
    age_band = forms.ChoiceField(
        label=_("Hur gammal är du? (frivilligt)"),
        choices=Conversation.AgeBand.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    topic = forms.ChoiceField(
        label=_("Vad vill du skriva om? (frivilligt)"),
        choices=Conversation.Topic.choices,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self.fields["text"])


class LetterReplyForm(forms.Form):
    text = _text_field(_("Ditt svar"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self.fields["text"])


def _limit(field: forms.Field) -> None:
    """The length limit is a setting: read it per form, never at import time."""
    limit = settings.SUPPORTLINE_LETTER_MAX_LENGTH
    field.validators.append(MaxLengthValidator(limit))
    field.widget.attrs["maxlength"] = str(limit)


class LetterCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Din kod"),
        help_text=_("Koden du fick när du skickade brevet, till exempel ABCD-EFGH-JKMN-PQRS-TVWX."),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Skriv din kod.")},
    )
