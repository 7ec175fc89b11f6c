"""The worker list's filters, as a form that validates the query string before anything is read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django_countries import countries

from pilots.models import Pilot
from pilots.stages import Stage
from recruitment.models import Recruiter
from workers.models import Gender
from workers.selectors import Cursor, WorkerFilters

ANY = ""
FEE_CHOICES = [(ANY, "Any"), ("yes", "Reported a fee"), ("no", "No fee reported")]


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
        label="Search",
        required=False,
        max_length=100,
        strip=True,
        help_text="A name, or an exact identity document number (optionally with its country: GT:P12345678).",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or document number"}),
    )
    pilot = forms.TypedChoiceField(
        widget=QuickSelect,
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "There is no pilot with id %(value)s."},
    )
    recruiter = forms.TypedChoiceField(
        widget=QuickSelect,
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "There is no recruiter with id %(value)s."},
    )
    stage = forms.ChoiceField(
        widget=QuickSelect,
        required=False,
        choices=[(ANY, "Any stage"), *Stage.choices],
        error_messages={"invalid_choice": "“%(value)s” is not a stage of the journey."},
    )
    nationality = CountryCodeField(
        widget=QuickSelect,
        required=False,
        choices=[(ANY, "Any nationality"), *countries],
        error_messages={"invalid_choice": "“%(value)s” is not an ISO 3166 country code (e.g. GT, MX, PH)."},
    )
    gender = forms.ChoiceField(
        widget=QuickSelect,
        required=False,
        choices=[(ANY, "Any gender"), *Gender.choices],
        error_messages={"invalid_choice": "“%(value)s” is not one of the genders recorded."},
    )
    fee_reported = forms.ChoiceField(
        widget=QuickSelect,
        label="Fee reported",
        required=False,
        choices=FEE_CHOICES,
        error_messages={"invalid_choice": "Fee reported is “yes” or “no”, not “%(value)s”."},
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
        self.fields["pilot"].choices = [(ANY, "Any pilot"), *pilots]
        self.fields["recruiter"].choices = [(ANY, "Any recruiter"), *recruiters]

    def clean_cursor(self) -> Cursor | None:
        value = self.cleaned_data.get("cursor", "")
        if not value:
            return None
        try:
            return Cursor.parse(value)
        except ValueError:
            raise forms.ValidationError(
                "This page link is damaged: start again from the first page.", code="invalid"
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
