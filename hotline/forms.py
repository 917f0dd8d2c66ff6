"""The reporter's forms. No file inputs anywhere: the hotline never takes images."""

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from hotline.models import Tip
from hotline.reported_urls import InvalidReportedURL, normalise_url

MAX_URLS = 20
CONTACT_MAX_LENGTH = 500
ANSWER_MAX_LENGTH = 3000

_DATA_URI = re.compile(r"data:[a-z0-9.+-]*/?[a-z0-9.+-]*[;,]", re.IGNORECASE)
# Base64 starts of PNG, JPEG, GIF, WebP, BMP and MP4/MOV files.
_IMAGE_BASE64_START = re.compile(r"(iVBORw0KGgo|/9j/|R0lGOD|UklGR|Qk[0-9A-Za-z+/]{2}AAAA|AAAA[A-Za-z0-9+/]{2}ZnR5c)")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")

DATA_URI_ERROR = _(
    "Det här ser ut som en inklistrad bild eller fil (en data:-adress). Skicka aldrig bilder eller filmer till oss. "
    "Ta bort den och skriv i stället var du såg det."
)
BASE64_ERROR = _(
    "Det här ser ut som en inklistrad bild eller fil i kodad form. Skicka aldrig bilder eller filmer till oss. "
    "Ta bort den och beskriv med ord i stället."
)


def refuse_pasted_images(value: str) -> None:
    """Raises when text carries a pasted image: a data: URI or a base64 blob."""
    if _DATA_URI.search(value):
        raise ValidationError(DATA_URI_ERROR, code="data_uri")
    if _BASE64_RUN.search(value):
        raise ValidationError(BASE64_ERROR, code="base64")
    for word in value.split():
        if len(word) >= 40 and _IMAGE_BASE64_START.match(word):
            raise ValidationError(BASE64_ERROR, code="base64")


class TipForm(forms.Form):
    urls = forms.CharField(
        label=_("Adresser (länkar)"),
        help_text=_("En adress per rad. Kopiera adressen från webbläsaren, inte bilden."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false", "inputmode": "url"}),
    )
    place = forms.CharField(
        label=_("Eller beskriv platsen"),
        help_text=_(
            "Till exempel vilken app eller vilket spel, användarnamnet där, eller var det hände utanför nätet."
        ),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    category = forms.ChoiceField(
        label=_("Vad handlar det om?"),
        choices=Tip.Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj det som passar bäst. Välj ”Något annat” om du är osäker.")},
    )
    occurred = forms.CharField(
        label=_("När hände det, eller när såg du det?"),
        help_text=_("Ungefär räcker, till exempel ”i går kväll”."),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Berätta vad du såg"),
        help_text=_("Skriv med egna ord. Beskriv inte bilderna i detalj."),
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off"}),
        error_messages={"required": _("Skriv några ord om vad du såg.")},
    )
    urgent = forms.BooleanField(
        label=_("Ett barn är i fara just nu"),
        help_text=_("Då skickar vi tipset till polisen direkt. Ring också 112."),
        required=False,
    )
    contact = forms.CharField(
        label=_("Kontaktuppgifter (frivilligt)"),
        help_text=_(
            "Du behöver inte lämna några. Om du gör det använder vi dem bara för att fråga dig om tipset. "
            "Vi ger dem aldrig till någon annan, inte heller till polisen, och raderar dem efter 90 dagar."
        ),
        required=False,
        max_length=CONTACT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )
    # A honeypot: hidden from people (and screen readers), filled in by bots.
    website = forms.CharField(
        label=_("Lämna det här fältet tomt"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        limit = settings.HOTLINE_DESCRIPTION_MAX_LENGTH
        description = self.fields["description"]
        if isinstance(description, forms.CharField):
            description.max_length = limit
        description.widget.attrs["maxlength"] = str(limit)
        description.validators.append(MaxLengthValidator(limit))

    def clean_urls(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["urls"].splitlines() if line.strip()]
        if len(lines) > MAX_URLS:
            raise ValidationError(_("Skriv högst %(max)s adresser."), params={"max": MAX_URLS})
        normalised: list[str] = []
        for line in lines:
            if line.lower().startswith("data:"):
                raise ValidationError(DATA_URI_ERROR, code="data_uri")
            refuse_pasted_images(line)
            try:
                url = normalise_url(line)
            except InvalidReportedURL:
                raise ValidationError(
                    _(
                        "”%(line)s” är ingen webbadress. "
                        "Skriv den som den står i webbläsaren, till exempel example.com/sida."
                    ),
                    params={"line": line[:80]},
                    code="invalid_url",
                ) from None
            if url not in normalised:
                normalised.append(url)
        return normalised

    def clean_place(self) -> str:
        value: str = self.cleaned_data["place"].strip()
        refuse_pasted_images(value)
        return value

    def clean_occurred(self) -> str:
        value: str = self.cleaned_data["occurred"].strip()
        refuse_pasted_images(value)
        return value

    def clean_description(self) -> str:
        value: str = self.cleaned_data["description"].strip()
        refuse_pasted_images(value)
        return value

    def clean_contact(self) -> str:
        value: str = self.cleaned_data["contact"].strip()
        refuse_pasted_images(value)
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        no_field_errors = not self.errors.get("urls") and not self.errors.get("place")
        if no_field_errors and not cleaned.get("urls") and not cleaned.get("place"):
            self.add_error("urls", _("Skriv minst en adress, eller beskriv platsen i fältet under."))
        return cleaned

    @property
    def is_honeypot_filled(self) -> bool:
        return bool(self.data.get("website"))


class ReceiptCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Din kod"),
        help_text=_("Koden du fick när du skickade tipset, till exempel ABCD-EFGH-JKMN-PQRS-TVWX."),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Skriv din kod.")},
    )


class ReporterAnswerForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)
    answer = forms.CharField(
        label=_("Ditt svar"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        error_messages={"required": _("Skriv ditt svar först.")},
    )

    def clean_answer(self) -> str:
        value: str = self.cleaned_data["answer"].strip()
        refuse_pasted_images(value)
        return value


class AnalystQuestionForm(forms.Form):
    body = forms.CharField(label=_("Fråga till den som tipsade"), max_length=ANSWER_MAX_LENGTH, widget=forms.Textarea)


class TakedownNoticeForm(forms.Form):
    host_provider = forms.CharField(label=_("Värd eller leverantör"), max_length=200)
