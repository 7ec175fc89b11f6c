"""What a check-in asks a worker, in their language, and how the answers are read.

The questions depend on the moment: before departure (money paid to anyone for the job, by the ILO's
categories in plain words; documents held by someone else; a contract in a language they read; the wage
promised) or after arrival (still working for the employer on record; wage received; hours; deductions;
passport in their own hands). Every check-in asks about money paid: a fee may surface at any moment.

Words a worker reads go through Django's translation functions; ``locale/`` holds Spanish and Tagalog.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lamp.currencies import CURRENCIES
from workers.models import CheckInLanguage, CheckInMoment, FeeCategory, Worker

#: The ten ILO categories of recruitment fees and related costs, as a worker would say them.
FEE_WORDS: dict[str, Any] = {
    FeeCategory.RECRUITMENT_FEE: _("A fee to a recruiter or an agent for the job"),
    FeeCategory.MEDICAL: _("A medical exam"),
    FeeCategory.INSURANCE: _("Insurance"),
    FeeCategory.SKILLS_TESTS: _("A skills or language test"),
    FeeCategory.TRAINING: _("Training or orientation"),
    FeeCategory.EQUIPMENT: _("Tools, a uniform or equipment"),
    FeeCategory.TRAVEL_LODGING: _("Travel or a place to stay"),
    FeeCategory.ADMINISTRATIVE: _("A passport, visa, permit or other papers"),
    FeeCategory.ILLEGITIMATE: _("A bribe, a deposit or a bond"),
    FeeCategory.OTHER: _("Something else"),
}

#: What a worker's concern is about, in plain words (the categories of a grievance).
CONCERN_WORDS: dict[str, Any] = {
    "fees_demanded": _("Someone asked me for money"),
    "documents_held": _("Someone keeps my passport or papers"),
    "contract_substitution": _("The job, wage or hours are not what was promised"),
    "wages_unpaid": _("I was not paid, or paid less"),
    "deductions": _("Money is taken from my pay"),
    "housing": _("Where I live"),
    "health_safety": _("Health or safety at work"),
    "harassment_violence": _("Harassment or violence"),
    "retaliation": _("I am threatened for speaking up"),
    "other": _("Something else"),
}

#: The currency a worker from each country is most likely to have paid in; the others follow in the list.
HOME_CURRENCY: dict[str, str] = {
    "GT": "GTQ",
    "HN": "HNL",
    "MX": "MXN",
    "NI": "NIO",
    "SV": "USD",
    "PH": "PHP",
    "CO": "COP",
    "PE": "PEN",
    "DO": "DOP",
    "JM": "JMD",
    "HT": "HTG",
}
#: The language a worker from each country is first asked in, before choosing.
HOME_LANGUAGE: dict[str, str] = {"PH": CheckInLanguage.TAGALOG, "JM": CheckInLanguage.ENGLISH}
AFTER_ARRIVAL = frozenset({CheckInMoment.DAY_30, CheckInMoment.DAY_90, CheckInMoment.DAY_180})
MAX_AMOUNT = Decimal("1000000")

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def home_language(worker: Worker) -> str:
    """The language a worker's check-in opens in until they choose: Tagalog from the Philippines, English from
    the English-speaking Caribbean, Spanish for everyone else the pilots recruit."""
    return HOME_LANGUAGE.get(str(worker.nationality), CheckInLanguage.SPANISH)


def _yes_no(label: Any, *, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect, required=required)


def _amount(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


class CheckInForm(forms.Form):
    """A check-in's questions for ``moment``; ``worker`` chooses the currency offered first."""

    fee_paid = _yes_no(_("Did you pay any money to anyone to get this job, or for anything needed for it?"))
    fee_category = forms.ChoiceField(
        label=_("What was it for?"),
        choices=[("", "—"), *FEE_WORDS.items()],
        required=False,
    )
    fee_amount = _amount(_("How much?"))
    fee_currency = forms.ChoiceField(label=_("Currency"), required=False)
    fee_paid_to = forms.CharField(label=_("To whom? (optional)"), required=False, max_length=200)

    def __init__(self, *args: Any, moment: str, worker: Worker, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.moment = moment
        home = HOME_CURRENCY.get(str(worker.nationality), "USD")
        codes = [home, *(code for code in ("USD",) if code != home), *sorted(set(CURRENCIES) - {home, "USD"})]
        self.fields["fee_currency"].choices = [(code, code) for code in codes]
        self.fields["fee_currency"].initial = home
        if moment == CheckInMoment.PRE_DEPARTURE:
            self.fields["documents_held"] = _yes_no(_("Does someone else keep your passport or other documents?"))
            self.fields["contract_in_language"] = _yes_no(_("Did you receive your contract in a language you read?"))
            self.fields["wage_promised"] = _amount(_("What wage were you promised per hour? (optional)"))
        elif moment in AFTER_ARRIVAL:
            self.fields["still_working"] = _yes_no(_("Are you still working for the employer who hired you?"))
            self.fields["wage_received"] = _amount(_("What did you receive per hour, in the last pay? (optional)"))
            self.fields["hours_per_week"] = forms.IntegerField(
                label=_("How many hours a week do you work? (optional)"), required=False, min_value=0, max_value=168
            )
            self.fields["deductions"] = forms.CharField(
                label=_("Was anything taken from your pay? What for? (optional)"), required=False, max_length=500
            )
            self.fields["passport_own"] = _yes_no(_("Do you keep your passport yourself?"))
        self.fields["concern"] = forms.ChoiceField(
            label=_("Is something wrong? What is it about? (optional)"),
            choices=[("", "—"), *CONCERN_WORDS.items()],
            required=False,
        )
        self.fields["anything_else"] = forms.CharField(
            label=_("Anything else you want to tell us? (optional)"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )

    def clean_fee_paid_to(self) -> str:
        return _no_nul(self.cleaned_data["fee_paid_to"])

    def clean_deductions(self) -> str:
        return _no_nul(self.cleaned_data.get("deductions", ""))

    def clean_anything_else(self) -> str:
        return _no_nul(self.cleaned_data["anything_else"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("fee_paid") == "yes":
            if not data.get("fee_category"):
                self.add_error("fee_category", _("Say what the money was for."))
            if not data.get("fee_amount"):
                self.add_error("fee_amount", _("Say how much you paid, even if only roughly."))
        return data

    def answers(self) -> dict[str, Any]:
        """The answers given, as JSON values keyed by question (amounts as strings); only those given."""
        answers = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            if name.startswith("fee_") and name != "fee_paid" and self.cleaned_data.get("fee_paid") != "yes":
                continue  # details of a fee the worker says they did not pay
            answers[name] = str(value) if isinstance(value, Decimal) else value
        return answers


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise forms.ValidationError(_("This text holds a character that cannot be kept."))
    return text.strip()
