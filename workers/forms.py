"""The worker list's filters, as a form that validates the query string before anything is read; and the forms
of staff's actions on a worker's page (journey, employment, evidence, fees)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from lamp.currencies import CURRENCY_CHOICES
from lamp.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from pilots.models import JobOpening, Pilot
from pilots.stages import Stage
from recruitment.models import Recruiter
from workers.models import EvidenceKind, FeeCategory, FeeSource, Gender, SeparationReason
from workers.selectors import Cursor, WorkerFilters
from workers.services import EVIDENCE_SIGNATURES, evidence_file_check
from workers.value_rules import MAX_FEE_AMOUNT

#: The largest fee a form takes: the services' bound (``workers.value_rules``), which say the rest (the currency's
#: minor unit, the day paid within the worker's journey).
MAX_FEE = MAX_FEE_AMOUNT

ANY = ""
FEE_CHOICES = [(ANY, _("Any")), ("yes", _("Reported a fee")), ("no", _("No fee reported"))]


class QuickSelect(forms.Select):
    """A ``<select>`` built in Python. Django renders each option through a template, which costs more
    than all of the list's queries for the 250 countries; this one builds the same markup directly."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = "" if value is None else str(value).upper()
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, mark_safe(" selected") if str(key).upper() == chosen else "", label) for key, label in self.choices),
        )
        final_attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, final_attrs, options)


class CountryCodeField(forms.ChoiceField):
    """An ISO 3166 code among ``django_countries``' list; ``gt`` is read as ``GT``."""

    def to_python(self, value: Any) -> str:
        return super().to_python(value).strip().upper()


class WorkerFilterForm(forms.Form):
    """``GET`` filters of ``workers:list``. Bound to ``request.GET``; each bad value is an error naming
    its field, never a 500. Pilots and recruiters are offered (and checked) among those the user sees,
    with one query each."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        strip=True,
        help_text=_("A name, or an exact identity document number (optionally with its country: GT:P12345678)."),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or document number")}),
    )
    pilot = forms.TypedChoiceField(
        widget=QuickSelect,
        label=_("Pilot"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("There is no pilot with id %(value)s.")},
    )
    recruiter = forms.TypedChoiceField(
        widget=QuickSelect,
        label=_("Recruiter"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("There is no recruiter with id %(value)s.")},
    )
    stage = forms.ChoiceField(
        widget=QuickSelect,
        label=_("Stage"),
        required=False,
        choices=[(ANY, _("Any stage")), *Stage.choices],
        error_messages={"invalid_choice": _("“%(value)s” is not a stage of the journey.")},
    )
    nationality = CountryCodeField(
        widget=QuickSelect,
        label=_("Nationality"),
        required=False,
        # The countries are listed (and sorted) in the active language by ``__init__``, not at import.
        choices=[(ANY, _("Any nationality"))],
        error_messages={"invalid_choice": _("“%(value)s” is not an ISO 3166 country code (e.g. GT, MX, PH).")},
    )
    gender = forms.ChoiceField(
        widget=QuickSelect,
        label=_("Gender"),
        required=False,
        choices=[(ANY, _("Any gender")), *Gender.choices],
        error_messages={"invalid_choice": _("“%(value)s” is not one of the genders recorded.")},
    )
    fee_reported = forms.ChoiceField(
        widget=QuickSelect,
        label=_("Fee reported"),
        required=False,
        choices=FEE_CHOICES,
        error_messages={"invalid_choice": _("Fee reported is “yes” or “no”, not “%(value)s”.")},
    )
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pilots = Pilot.objects.visible_to(user).order_by("name").values_list("pk", "name")
        recruiters = (
            Recruiter.objects.visible_to(user)
            .order_by("organisation__name", "pk")
            .values_list("pk", "organisation__name")
        )
        self.fields["pilot"].choices = [(ANY, _("Any pilot")), *pilots]
        self.fields["recruiter"].choices = [(ANY, _("Any recruiter")), *recruiters]
        self.fields["nationality"].choices = [(ANY, _("Any nationality")), *countries]

    def clean_cursor(self) -> Cursor | None:
        value = self.cleaned_data.get("cursor", "")
        if not value:
            return None
        try:
            return Cursor.parse(value)
        except ValueError:
            raise forms.ValidationError(
                _("This page link is damaged: start again from the first page."), code="invalid"
            ) from None

    def filters(self) -> WorkerFilters:
        """The valid form's filters for ``workers.selectors.worker_list_page``."""
        data = self.cleaned_data
        return WorkerFilters(
            pilot=data["pilot"],
            recruiter=data["recruiter"],
            stage=data["stage"],
            nationality=data["nationality"],
            gender=data["gender"],
            fee_reported={"yes": True, "no": False}.get(data["fee_reported"]),
            q=data["q"],
        )


# --- Staff's actions on a worker's page -------------------------------------------------------------------
#
# Each form checks the shape of what was sent (types, lengths, dates in range); the rules are the services'
# (``workers.services``), whose refusals the views put back on the form, under the field they name.

#: The earliest and latest day a form accepts: what the services refuse beyond is said by them.
EARLIEST_DAY = datetime.date(2000, 1, 1)


def _day_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Give a date as YYYY-MM-DD.")},
    )


def _not_before_2000(day: datetime.date | None) -> datetime.date | None:
    if day is not None and day < EARLIEST_DAY:
        raise forms.ValidationError(_("No pilot fact is dated before 2000: check the year."), code="min_value")
    return day


def _not_in_future(day: datetime.date | None) -> datetime.date | None:
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError(_("This date is in the future."), code="max_value")
    return _not_before_2000(day)


class _ActionForm(forms.Form):
    """One of the page's action forms: its fields' ids start with ``id_prefix``, so that the page's forms,
    which share field names (``note``), never share an id."""

    id_prefix = "action"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class JourneyMoveForm(_ActionForm):
    """Move a worker to a stage. The stages the journey allows from here come first; any other is refused by
    the service unless an override reason is given (program staff only)."""

    id_prefix = "move"

    stage = forms.ChoiceField(label=_("Move to"))
    occurred_on = _day_field(_("On"))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        max_length=2000,
        strip=True,
        help_text=_("Only for a move the journey refuses (a skip, a step back, an ended season); kept on the event."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, next_stages: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        labels = dict(Stage.choices)
        others = [value for value in Stage.values if value not in next_stages]
        allowed = [(value, labels[value]) for value in next_stages]
        self.fields["stage"].choices = [
            *([(_("Allowed from here"), allowed)] if allowed else []),
            (_("Only with an override"), [(value, labels[value]) for value in others]),
        ]

    def clean_occurred_on(self) -> datetime.date | None:
        return _not_before_2000(self.cleaned_data.get("occurred_on"))


class EmploymentForm(_ActionForm):
    """Record that the worker started a job in one of the pilot's openings (and, if it is over, its end)."""

    id_prefix = "employment"

    job_opening = forms.TypedChoiceField(
        label=_("Job opening"),
        coerce=int,
        error_messages={"invalid_choice": _("No job opening with id %(value)s in the worker's pilot.")},
    )
    start_date = _day_field(_("Started on"))
    end_date = _day_field(_("Ended on"), required=False)
    separation_reason = forms.ChoiceField(
        label=_("Separation reason"), required=False, choices=[("", "—"), *SeparationReason.choices]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, openings: list[JobOpening], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.openings = {opening.pk: opening for opening in openings}
        self.fields["job_opening"].choices = [
            (opening.pk, f"{opening.employer.name} — {opening.title}, {opening.location}") for opening in openings
        ]

    def clean_start_date(self) -> datetime.date | None:
        return _not_before_2000(self.cleaned_data.get("start_date"))

    def clean_end_date(self) -> datetime.date | None:
        return _not_before_2000(self.cleaned_data.get("end_date"))


class SeparationForm(_ActionForm):
    """The end of an employment: the day it ended and why."""

    id_prefix = "separation"

    end_date = _day_field(_("Ended on"))
    separation_reason = forms.ChoiceField(label=_("Why"), choices=SeparationReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def clean_end_date(self) -> datetime.date | None:
        return _not_before_2000(self.cleaned_data.get("end_date"))


class EvidenceForm(_ActionForm):
    """A document about the worker: a file (the API's checks: PDF, PNG, JPEG or WebP up to 10 MiB, its content
    what it says it is) or a reference to where it is kept. Its source is derived from the uploader: staff."""

    id_prefix = "evidence"

    kind = forms.ChoiceField(label=_("Kind"), choices=EvidenceKind.choices)
    file = forms.FileField(
        label=_("File"),
        required=False,
        allow_empty_file=False,
        help_text=_("PDF, PNG, JPEG or WebP, at most 10 MiB."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EVIDENCE_SIGNATURES)}),
    )
    reference = forms.CharField(
        label=_("Or a reference"), required=False, max_length=300, help_text=_("Where it is kept, if not uploaded.")
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=300)

    def clean_file(self) -> Any:
        file = self.cleaned_data.get("file")
        if not file:
            return None
        try:
            return evidence_file_check(file)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["file"]) from error

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "file" not in self.errors and not data.get("file") and not data.get("reference", "").strip():
            self.add_error("file", _("Upload a file or give a reference to where it is kept."))
        return data


class FeeReportForm(_ActionForm):
    """A fee the worker paid to be recruited, in an ILO category: any amount above zero is a finding."""

    id_prefix = "fee"

    category = forms.ChoiceField(label=_("ILO category"), choices=FeeCategory.choices)
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=0,
        max_value=MAX_FEE,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    #: The worker's own link is the worker's channel, never staff's: a fee the worker told staff is a survey.
    source = forms.ChoiceField(
        label=_("Reported by"),
        choices=[choice for choice in FeeSource.choices if choice[0] != FeeSource.WORKER],
        initial=FeeSource.STAFF,
    )
    paid_to = forms.CharField(label=_("Paid to"), required=False, max_length=200)
    paid_on = _day_field(_("Paid on"), required=False)
    recovered_by_wage_deduction = forms.BooleanField(label=_("Recovered by a wage deduction"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if not amount.is_finite():
            raise forms.ValidationError(_("Enter a number."), code="invalid")
        return amount

    def clean_paid_on(self) -> datetime.date | None:
        return _not_in_future(self.cleaned_data.get("paid_on"))


class ConfirmEvidenceForm(_ActionForm):
    """Staff confirm a document someone else supplied: an optional note of how it was checked."""

    id_prefix = "confirm"

    note = forms.CharField(label=_("How it was checked"), required=False, max_length=300)
