"""Forms of the contract page: recording a payment or a provider's repayment, and editing terms to try them.

The forms only translate input. What makes terms valid is checked once, by the ``payments`` dataclasses:
``TryTermsForm`` builds ``payments.Terms`` and turns their ``TermsError`` into an error on the field it
names. What makes a payment acceptable (an approved tranche, at most what is left to pay of it) or a repayment
(exactly what the provider owes) is the services'.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from financing import payments
from financing.models import OutcomeMetric
from lamp.currencies import get_currency, quantize
from lamp.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


def _money_field(*, label: str, required: bool = False, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class DisbursementForm(forms.Form):
    """A payment by the payer of an approved tranche: amount (what is left to pay, or a part of it), date and
    bank reference."""

    amount = _money_field(label=_("Amount paid"), required=True)
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=120,
        help_text=_("The bank transfer or payment reference."),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. WIRE-2026-0412"), "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = _("Amount paid (%(currency)s)") % {"currency": currency}
        self.fields["amount"].widget.attrs["step"] = str(get_currency(currency).quantum)

    def clean_reference(self) -> str:
        reference = self.cleaned_data["reference"].strip()
        if not reference:
            raise forms.ValidationError(_("Give the payment reference."))
        return reference


class RefundSettleForm(forms.Form):
    """The provider's repayment of what it owes back: the amount (all of it), date and bank reference."""

    amount = _money_field(label=_("Amount repaid"), required=True)
    settled_on = forms.DateField(label=_("Repaid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(
        label=_("Repayment reference"),
        max_length=120,
        help_text=_("The bank transfer or payment reference of the repayment."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = _("Amount repaid (%(currency)s)") % {"currency": currency}
        self.fields["amount"].widget.attrs["step"] = str(get_currency(currency).quantum)

    def clean_reference(self) -> str:
        reference = self.cleaned_data["reference"].strip()
        if not reference:
            raise forms.ValidationError(_("Give the repayment's reference."))
        return reference


# --- Try terms -----------------------------------------------------------------------------------------

METRIC_FIELDS = ("price", "tiers", "max_units_per_worker", "cap_units", "cap_amount", "threshold_rate", "denominator")
FIELD_LABELS = {
    "price": _("The price"),
    "tiers": _("The tiers"),
    "max_units_per_worker": _("The most units per worker"),
    "cap_units": _("The unit cap"),
    "cap_amount": _("The amount cap"),
    "threshold_rate": _("The threshold rate"),
    "denominator": _("The metric the threshold is measured over"),
}
TIERS_HELP = _("One tier per line, “UNITS at PRICE”, the last one “rest at PRICE”: e.g. “370 at 1100.00”.")


def _tier_words() -> tuple[str, str]:
    """The words of a tier line in the page's language: ``rest`` (the last tier's units) and ``at``."""
    return pgettext("price tiers: the last tier's units", "rest"), pgettext("price tiers: units at a price", "at")


def _tier_line() -> re.Pattern[str]:
    """A tier line, ``370 at 1100.00`` or ``rest at 1350.00``: in English, or in the page's language's words
    (``resto a 1350.00``); the price always with a decimal point."""
    rest, at = _tier_words()
    rests = "|".join(re.escape(word) for word in sorted({"rest", rest.strip()}, key=len, reverse=True) if word)
    ats = "|".join(re.escape(word) for word in sorted({"at", at.strip()}, key=len, reverse=True) if word)
    return re.compile(
        rf"^\s*(?P<units>\d+|{rests}|\*)\s*(?:{ats}|@|x|×)?\s*(?P<price>\d+(?:\.\d+)?)\s*$", re.IGNORECASE
    )


def _amount(amount: Decimal | None, currency: str) -> Decimal | None:
    """An amount as the form shows it: with the currency's decimals (``800.00``, not ``800.000``)."""
    return None if amount is None else quantize(amount, currency)


def _rate(rate: Decimal | None) -> Decimal | None:
    """``0.8000`` -> ``0.8``."""
    return None if rate is None else rate.normalize()


def tiers_as_text(tiers: object) -> str:
    """A metric's ``tiers`` JSON as the form's lines: ``370 at 1100.00`` … ``rest at 1350.00``."""
    if not isinstance(tiers, list):
        return ""
    rest, at = _tier_words()
    lines = []
    for tier in tiers:
        units = tier.get("units") if isinstance(tier, dict) else None
        price = tier.get("price") if isinstance(tier, dict) else ""
        lines.append(f"{rest if units is None else units} {at} {price}")
    return "\n".join(lines)


def _parse_tiers(text: str) -> tuple[payments.Tier, ...] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    tiers = []
    pattern = _tier_line()
    for number, line in enumerate(lines, start=1):
        match = pattern.match(line)
        if match is None:
            raise forms.ValidationError(
                _(
                    "Line %(number)s (“%(line)s”): write “UNITS at PRICE”, e.g. “370 at 1100.00”, "
                    "or “rest at 1350.00” for the last tier."
                )
                % {"number": number, "line": line.strip()}
            )
        units = match["units"].lower()
        tiers.append(payments.Tier(units=None if not units.isdigit() else int(units), price=Decimal(match["price"])))
    return tuple(tiers)


class TryTermsForm(forms.Form):
    """A contract's cap and its metrics' prices, limits and thresholds, prefilled with the terms in force.

    Valid, it holds ``terms``: the contract's ``payments.Terms`` with the edited values (same currency,
    period and tranches), ready for ``payments.compute_schedule``.
    """

    cap_total = _money_field(label=_("Contract cap"), help_text=_("The most the contract pays in all; empty for none."))

    def __init__(self, *args: Any, terms: payments.Terms, metrics: Sequence[OutcomeMetric], **kwargs: Any) -> None:
        self.base_terms = terms
        self.metrics = list(metrics)
        self.terms: payments.Terms | None = None
        initial: dict[str, Any] = {"cap_total": _amount(terms.cap_total, terms.currency)}
        codes = [metric.code for metric in self.metrics]
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["cap_total"].label = _("Contract cap (%(currency)s)") % {"currency": terms.currency}
        for index, metric in enumerate(self.metrics):
            name = self.field_name
            code = {"metric": metric.code, "currency": terms.currency}
            self.fields[name(index, "price")] = _money_field(label=_("%(metric)s: price per unit") % code)
            self.fields[name(index, "tiers")] = forms.CharField(
                label=_("%(metric)s: price tiers") % code, required=False, help_text=TIERS_HELP,
                widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("none")}),
            )  # fmt: skip
            self.fields[name(index, "max_units_per_worker")] = forms.IntegerField(
                label=_("%(metric)s: most units per worker") % code, min_value=1
            )
            self.fields[name(index, "cap_units")] = forms.IntegerField(
                label=_("%(metric)s: cap in units") % code, min_value=0, required=False
            )
            self.fields[name(index, "cap_amount")] = _money_field(label=_("%(metric)s: cap in %(currency)s") % code)
            self.fields[name(index, "threshold_rate")] = forms.DecimalField(
                label=_("%(metric)s: threshold rate (0–1)") % code, required=False, min_value=Decimal(0),
                max_value=Decimal(1), max_digits=5, decimal_places=4,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )  # fmt: skip
            self.fields[name(index, "denominator")] = forms.ChoiceField(
                label=_("%(metric)s: threshold over") % code,
                required=False,
                choices=[("", "—")] + [(code, code) for code in codes if code != metric.code],
            )
            self.initial.update(
                {
                    name(index, "price"): _amount(metric.price, terms.currency),
                    name(index, "tiers"): tiers_as_text(metric.tiers),
                    name(index, "max_units_per_worker"): metric.max_units_per_worker,
                    name(index, "cap_units"): metric.cap_units,
                    name(index, "cap_amount"): _amount(metric.cap_amount, terms.currency),
                    name(index, "threshold_rate"): _rate(metric.threshold_rate),
                    name(index, "denominator"): metric.denominator_metric.code if metric.denominator_metric_id else "",
                }
            )

    @staticmethod
    def field_name(index: int, field: str) -> str:
        return f"m{index}_{field}"

    def metric_rows(self) -> list[tuple[OutcomeMetric, list[forms.BoundField]]]:
        """Each metric with its bound fields in ``METRIC_FIELDS`` order, for a table of inputs."""
        return [
            (metric, [self[self.field_name(index, field)] for field in METRIC_FIELDS])
            for index, metric in enumerate(self.metrics)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        metrics = []
        for index, metric in enumerate(self.metrics):
            if any(self.field_name(index, field) in self.errors for field in METRIC_FIELDS):
                continue  # its fields say what is wrong already
            values = {field: cleaned.get(self.field_name(index, field)) for field in METRIC_FIELDS}
            try:
                tiers = _parse_tiers(values["tiers"] or "")
            except forms.ValidationError as error:
                self.add_error(self.field_name(index, "tiers"), error)
                continue
            try:
                metrics.append(
                    payments.Metric(
                        code=metric.code,
                        price=values["price"],
                        tiers=tiers,
                        max_units_per_worker=values["max_units_per_worker"],
                        cap_units=values["cap_units"],
                        cap_amount=values["cap_amount"],
                        threshold_rate=values["threshold_rate"],
                        denominator=values["denominator"] or None,
                    )
                )
            except payments.TermsError as error:
                self._terms_error(error, index=index)
        if self.errors:
            return cleaned
        try:
            self.terms = dataclasses.replace(
                self.base_terms, cap_total=cleaned.get("cap_total"), metrics=tuple(metrics)
            )
        except payments.TermsError as error:
            match = re.match(r"metrics\[(\d+)\]\.(.+)", error.field)
            if match:
                self._terms_error(payments.TermsError(match[2], error.message), index=int(match[1]))
            elif error.field == "cap_total":
                self.add_error("cap_total", error.message)
            else:
                self.add_error(None, f"{error.field}: {error.message}")
        return cleaned

    def _terms_error(self, error: payments.TermsError, *, index: int) -> None:
        """A ``TermsError`` of metric ``index`` on the form field it names (``tiers[1].price`` -> tiers)."""
        field = re.split(r"[\[.]", error.field)[0]
        if field in METRIC_FIELDS:
            line = re.match(r"tiers\[(\d+)\]", error.field)
            where = f", line {int(line[1]) + 1}" if line else ""
            message = error.message.replace("threshold_rate", "threshold rate").replace("units null", "“rest at …”")
            if message.startswith(("is ", "must ")):
                message = f"{FIELD_LABELS[field]}{where} {message}."
            else:
                message = f"{message[0].upper()}{message[1:]}{where}."
            self.add_error(self.field_name(index, field), message)
        else:
            self.add_error(None, f"{self.metrics[index].code}: {error.field} {error.message}.")
