"""The reporter's forms. No file inputs anywhere: the hotline never takes images."""

import base64
import html
import re
from typing import Any
from urllib.parse import unquote

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hotline.models import Tip
from hotline.reported_urls import InvalidReportedURL, normalise_url

MAX_URLS = 20
CONTACT_MAX_LENGTH = 500
ANSWER_MAX_LENGTH = 3000

_DATA_URI = re.compile(r"\bdata:[a-z0-9.+-]*/?[a-z0-9.+-]*[;,]", re.IGNORECASE)
# A run of the base64 or base64url alphabet, with its padding.
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# One run this long is an encoded file whatever it starts with (a small thumbnail is thousands of
# characters). base64url runs get more room: tracking tokens in reported links (Facebook's
# __cft__) are base64url and a couple of hundred characters long.
_LONG_RUN = 200
_LONG_URLSAFE_RUN = 512
# Lines of a wrapped blob: MIME wraps at 76, PEM and many tools at 64.
_MIN_WRAPPED_LINE = 40
# Enough encoded bytes to recognise a file by its first bytes.
_MIN_SIGNATURE_TOKEN = 16
_UNQUOTE_ROUNDS = 3


def _is_media(head: bytes) -> bool:
    """True when the bytes start an image, a video or a PDF."""
    return (
        head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"%PDF-", b"\x1a\x45\xdf\xa3"))
        or head.startswith((b"II*\x00", b"MM\x00*"))
        or (head.startswith(b"RIFF") and head[8:12] in {b"WEBP", b"AVI ", b"WAVE"})
        or (head.startswith(b"BM") and head[6:10] == b"\x00\x00\x00\x00")
        or head[4:8] == b"ftyp"  # MP4, MOV, HEIC, AVIF
    )


def _decoded_head(token: str) -> bytes:
    """The first bytes ``token`` decodes to, read as base64 or base64url; b"" when it does not decode."""
    head = token.rstrip("=")[:64].translate(str.maketrans("-_", "+/"))
    head = head[: len(head) - len(head) % 4]
    try:
        return base64.b64decode(head, validate=True)
    except ValueError:
        return b""


def _is_encoded(token: str) -> bool:
    """Looks like encoded binary: long, and mixing upper case, lower case and digits (hex never does)."""
    return (
        len(token) >= _MIN_WRAPPED_LINE
        and any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )


def _encoded_runs(text: str) -> list[str]:
    """Base64 runs in ``text``, with the lines of a wrapped blob joined into one run.

    Lines join only when they are separated by nothing but whitespace and all
    but the last have the same length, as an encoder wraps them; a list of
    long user names does not.
    """
    runs: list[str] = []
    lines: list[str] = []
    end = -1
    for match in _BASE64_TOKEN.finditer(text):
        token = match.group()
        continues = (
            lines
            and text[end : match.start()].isspace()
            and _is_encoded(token)
            and len(lines[-1]) == len(lines[0])
            and len(token) <= len(lines[0])
            and "=" not in lines[-1]
        )
        if continues:
            lines.append(token)
        else:
            if lines:
                runs.append("".join(lines))
            lines = [token]
        end = match.end()
    if lines:
        runs.append("".join(lines))
    return runs


def _readings(value: str) -> list[str]:
    """``value`` as written, and as a browser or server would read it after percent- and entity-decoding."""
    readings = [value]
    current = value
    for _round in range(_UNQUOTE_ROUNDS):
        decoded = html.unescape(unquote(current))
        if decoded == current:
            break
        readings.append(decoded)
        current = decoded
    return readings


DATA_URI_ERROR = _(
    "Det här ser ut som en inklistrad bild eller fil (en data:-adress). Skicka aldrig bilder eller filmer till oss. "
    "Ta bort den och skriv i stället var du såg det."
)
BASE64_ERROR = _(
    "Det här ser ut som en inklistrad bild eller fil i kodad form. Skicka aldrig bilder eller filmer till oss. "
    "Ta bort den och beskriv med ord i stället."
)


def refuse_pasted_images(value: str) -> None:
    """Raises when text carries a pasted image or file: a data: URI or an encoded blob.

    Looks through percent-encoding and HTML entities (a ``data:`` URI inside
    a URL), joins base64 wrapped over lines, and reads base64url as well as
    base64, so re-encoding a picture does not get it past the form.
    """
    for reading in _readings(value):
        if _DATA_URI.search(reading):
            raise ValidationError(DATA_URI_ERROR, code="data_uri")
    for reading in _readings(value):
        for run in _encoded_runs(reading):
            limit = _LONG_URLSAFE_RUN if ("-" in run or "_" in run) else _LONG_RUN
            if len(run) >= limit and _is_encoded(run):
                raise ValidationError(BASE64_ERROR, code="base64")
            if len(run) >= _MIN_SIGNATURE_TOKEN and _is_media(_decoded_head(run)):
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
    found_via = forms.ChoiceField(
        label=_("Hur hittade du det? (frivilligt)"),
        help_text=_(
            "Du behöver inte svara. Svaret hjälper oss att se var sådant här sprids, "
            "och räknas bara ihop med andras svar."
        ),
        choices=Tip.FoundVia.choices,
        required=False,
        widget=forms.RadioSelect,
        # Never echo the posted value back: only a tampered form can send one that is not in the list.
        error_messages={"invalid_choice": _("Välj ett av svaren i listan, eller hoppa över frågan.")},
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

    # The form's steps, in order: the step's legend and its fields (for the error summary).
    STEPS = (
        (_("Steg 1 av 4: Var såg du det?"), ("urls", "place", "found_via")),
        (_("Steg 2 av 4: Vad handlar det om?"), ("category", "urgent")),
        (_("Steg 3 av 4: När och vad?"), ("occurred", "description")),
        (_("Steg 4 av 4: Vill du att vi kan fråga dig något?"), ("contact",)),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # No maxlength attribute: a browser would cut pasted text short without a word. The
        # counter (static/hotline/tip-form.js) reads the limit here and the server says how long.
        description = self.fields["description"]
        description.widget.attrs["data-max-length"] = str(settings.HOTLINE_DESCRIPTION_MAX_LENGTH)

    def steps_with_errors(self) -> list[dict[str, Any]]:
        """Each step that has an error: its legend, the id of its first field in error, and the messages."""
        steps = []
        for legend, names in self.STEPS:
            errored = [name for name in names if self.errors.get(name)]
            if errored:
                messages = [f"{self[name].label}: {message}" for name in errored for message in self.errors[name]]
                first = self[errored[0]]
                # A radio group has no single label target: lead to its first choice.
                anchor = first.id_for_label or f"{first.auto_id}_0"
                steps.append({"legend": legend, "anchor": anchor, "messages": messages})
        return steps

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
        # A browser sends each line break as CR LF but counts it as one character, as the counter does.
        value: str = self.cleaned_data["description"].replace("\r\n", "\n").strip()
        limit = settings.HOTLINE_DESCRIPTION_MAX_LENGTH
        if len(value) > limit:
            raise ValidationError(
                ngettext(
                    "Texten är för lång: högst %(limit)s tecken. Du har skrivit %(count)s.",
                    "Texten är för lång: högst %(limit)s tecken. Du har skrivit %(count)s.",
                    limit,
                )
                % {
                    "limit": number_format(limit, force_grouping=True),
                    "count": number_format(len(value), force_grouping=True),
                },
                code="max_length",
            )
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
