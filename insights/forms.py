"""The period a page shows, chosen in a GET form: last 7/30/90 days, a calendar year or a custom range.

Days are whole days in the site's time zone and end yesterday: today's
aggregates are still being counted, and a half day would read as a drop.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from insights.figures import Period

EARLIEST_YEAR = 2000
# A custom range longer than this is refused: it would be a report of its own.
MAX_DAYS = 3 * 366


class PeriodChoice(models.TextChoices):
    LAST_7 = "7", _("Senaste 7 dagarna")
    LAST_30 = "30", _("Senaste 30 dagarna")
    LAST_90 = "90", _("Senaste 90 dagarna")
    YEAR = "year", _("Ett kalenderår")
    CUSTOM = "custom", _("Egna datum")


class ExportFormat(models.TextChoices):
    HTML = "html", _("Webbsida")
    CSV = "csv", _("CSV")


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PeriodChoice.choices, required=False)
    year = forms.IntegerField(
        label=_("År"),
        required=False,
        error_messages={"invalid": _("Skriv året med fyra siffror, till exempel 2025.")},
    )
    start = forms.DateField(
        label=_("Från och med"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Skriv datumet som ÅÅÅÅ-MM-DD.")},
    )
    end = forms.DateField(
        label=_("Till och med"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Skriv datumet som ÅÅÅÅ-MM-DD.")},
    )
    format = forms.ChoiceField(choices=ExportFormat.choices, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, today: date | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today or timezone.localdate()
        self.fields["period"].error_messages["invalid_choice"] = _("Välj en av perioderna i listan.")
        self.fields["format"].error_messages["invalid_choice"] = _("Statistiken kan bara laddas ner som CSV.")

    @property
    def last_full_day(self) -> date:
        return self.today - timedelta(days=1)

    def clean(self) -> dict[str, object]:
        cleaned: dict[str, object] = super().clean() or {}
        if self.errors:
            return cleaned
        choice = str(cleaned.get("period") or PeriodChoice.LAST_30)
        if choice == PeriodChoice.YEAR:
            cleaned["range"] = self._year(cleaned.get("year"))
        elif choice == PeriodChoice.CUSTOM:
            cleaned["range"] = self._custom(cleaned.get("start"), cleaned.get("end"))
        else:
            days = int(choice)
            cleaned["range"] = Period(start=self.last_full_day - timedelta(days=days - 1), end=self.last_full_day)
        cleaned["period"] = choice
        return cleaned

    def _year(self, year: object) -> Period:
        if not isinstance(year, int):
            raise forms.ValidationError({"year": _("Skriv vilket år du vill se.")})
        if year < EARLIEST_YEAR or year > self.last_full_day.year:
            bounds = {"first": EARLIEST_YEAR, "last": self.last_full_day.year}
            raise forms.ValidationError({"year": _("Välj ett år från %(first)s till %(last)s.") % bounds})
        return Period(start=date(year, 1, 1), end=min(date(year, 12, 31), self.last_full_day))

    def _custom(self, start: object, end: object) -> Period:
        if not isinstance(start, date) or not isinstance(end, date):
            raise forms.ValidationError(_("Fyll i både från och med och till och med."))
        if start > end:
            raise forms.ValidationError({"end": _("Till och med kan inte ligga före från och med.")})
        if end > self.last_full_day:
            raise forms.ValidationError({"end": _("Välj senast i går: dagens siffror räknas fortfarande.")})
        if start.year < EARLIEST_YEAR:
            raise forms.ValidationError({"start": _("Välj ett datum från år %(first)s.") % {"first": EARLIEST_YEAR}})
        period = Period(start=start, end=end)
        if period.days > MAX_DAYS:
            raise forms.ValidationError(_("Välj högst tre år åt gången."))
        return period

    def chosen(self) -> tuple[Period, Period]:
        """The valid form's period and the one it is compared with.

        A calendar year is compared with the same days a year earlier; any
        other period with as many days just before it.
        """
        period: Period = self.cleaned_data["range"]
        if self.cleaned_data["period"] == PeriodChoice.YEAR:
            return period, Period(start=_year_before(period.start), end=_year_before(period.end))
        return period, period.previous()

    @property
    def wants_csv(self) -> bool:
        return self.cleaned_data.get("format") == ExportFormat.CSV


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
