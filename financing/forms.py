"""Forms of the verification queue and the claims list: their filters, and the decisions on a claim (verify,
reject, reverse, reopen).

The filters' choices are built from rows the page has already read (one query each), so validating a
filter costs no query of its own. A value that is not one of the choices is an error naming the filter,
shown on the page; it never widens or silently drops the filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from financing.models import ClaimStatus, OutcomeMetric, RbfContract
from financing.selectors import AUTOMATIC_DECISIONS, IN_REVIEW
from pilots.models import Pilot
from recruitment.models import Recruiter


def _id_field(label: str, invalid: str) -> forms.TypedChoiceField:
    """A filter by id; ``invalid`` is the error for an id the viewer cannot see (with ``%(value)s``)."""
    return forms.TypedChoiceField(
        label=label, required=False, coerce=int, empty_value=None, error_messages={"invalid_choice": invalid}
    )


def _contract_field() -> forms.TypedChoiceField:
    return _id_field(_("Contract"), _("There is no contract %(value)s among those you can see."))


def _pilot_field() -> forms.TypedChoiceField:
    return _id_field(_("Pilot"), _("There is no pilot %(value)s among those you can see."))


class _FilterForm(forms.Form):
    """A GET filter form: an empty value is no filter; ``filters`` are the cleaned, non-empty values."""

    @property
    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

    @property
    def error_lines(self) -> list[str]:
        """Each error as one line that names its filter: ``Contract: there is no contract 99 …``."""
        return [
            _("%(field)s: %(message)s") % {"field": self.fields[name].label, "message": message}
            for name, messages in self.errors.items()
            for message in messages
        ]


def _contract_choices(contracts: Iterable[RbfContract]) -> list[tuple[str, str]]:
    return [("", _("All contracts"))] + [(str(c.pk), f"{c.reference} — {c.name}") for c in contracts]


def _pilot_choices(pilots: Iterable[Pilot]) -> list[tuple[str, str]]:
    return [("", _("All pilots"))] + [(str(p.pk), p.name) for p in pilots]


class QueueFilterForm(_FilterForm):
    """The verification queue's filters: a contract, a pilot."""

    contract = _contract_field()
    pilot = _pilot_field()

    def __init__(self, data: Any, *, contracts: Iterable[RbfContract], pilots: Iterable[Pilot]) -> None:
        super().__init__(data)
        contracts = list(contracts)
        self.fields["contract"].choices = [("", _("All contracts"))] + [
            (
                str(c.pk),
                _("%(reference)s — %(waiting)s waiting") % {"reference": c.reference, "waiting": f"{c.waiting:,}"},
            )
            for c in contracts
        ]
        self.fields["pilot"].choices = _pilot_choices(pilots)


class DecisionFilterForm(_FilterForm):
    """The automatic decisions' filters: a contract, what was decided, the first day shown."""

    contract = _contract_field()
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", _("Any decision")), *[(d.value, d.label) for d in AUTOMATIC_DECISIONS]],
        error_messages={"invalid_choice": _("%(value)s is not a decision an automatic rule makes.")},
    )
    since = forms.DateField(
        label=_("Decided since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Give a date as YYYY-MM-DD.")},
    )

    def __init__(self, data: Any, *, contracts: Iterable[RbfContract]) -> None:
        super().__init__(data)
        self.fields["contract"].choices = _contract_choices(contracts)

    @property
    def filters(self) -> dict[str, Any]:
        """Keyword arguments of ``selectors.automatic_decisions``."""
        filters = super().filters
        return {
            "contract_id": filters.get("contract"),
            "decision": filters.get("decision", ""),
            "since": filters.get("since"),
        }


class ClaimFilterForm(_FilterForm):
    """The claims list's filters. ``metric`` is a metric's id (one contract's metric) or its code (that
    metric in every contract, e.g. ``PLACED``); ``recruiter`` is a ``Recruiter`` id."""

    contract = _contract_field()
    metric = forms.ChoiceField(
        label=_("Metric"),
        required=False,
        error_messages={"invalid_choice": _("There is no metric %(value)s among those you can see.")},
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any status")),
            *ClaimStatus.choices[:1],
            (IN_REVIEW, _("Claimed, in staff review")),
            *ClaimStatus.choices[1:],
        ],
        error_messages={"invalid_choice": _("%(value)s is not a claim status.")},
    )
    recruiter = _id_field(_("Recruiter"), _("There is no recruiter %(value)s among those you can see."))
    pilot = _pilot_field()

    def __init__(
        self,
        data: Any,
        *,
        contracts: Iterable[RbfContract],
        metrics: Iterable[OutcomeMetric],
        recruiters: Iterable[Recruiter],
        pilots: Iterable[Pilot],
    ) -> None:
        super().__init__(data)
        metrics = list(metrics)
        codes = sorted({m.code for m in metrics})
        self.fields["contract"].choices = _contract_choices(contracts)
        self.fields["metric"].choices = [
            ("", _("All metrics")),
            (_("In every contract"), [(code, code) for code in codes]),
            (_("In one contract"), [(str(m.pk), f"{m.code} · {m.contract.reference}") for m in metrics]),
        ]
        self.fields["recruiter"].choices = [("", _("All recruiters"))] + [(str(r.pk), r.name) for r in recruiters]
        self.fields["pilot"].choices = _pilot_choices(pilots)

    def clean_metric(self) -> dict[str, Any]:
        """``{"metric_id": 12}`` for an id, ``{"metric_code": "PLACED"}`` for a code, ``{}`` for none."""
        value = self.cleaned_data["metric"]
        if not value:
            return {}
        return {"metric_id": int(value)} if value.isdigit() else {"metric_code": value}

    @property
    def filters(self) -> dict[str, Any]:
        """Keyword arguments of ``selectors.claims_listed``."""
        filters = super().filters
        metric = filters.pop("metric", {})
        renamed = {"contract_id": "contract", "recruiter_id": "recruiter", "pilot_id": "pilot", "status": "status"}
        return {arg: filters[name] for arg, name in renamed.items() if name in filters} | metric


class DecisionForm(forms.Form):
    """Verify a claim: nothing to say but where to go back to."""

    next = forms.CharField(required=False)

    def __init__(self, *args: Any, host: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host = host

    def clean_next(self) -> str:
        """The queue page (with its filters) to go back to; anything off this site is dropped."""
        url = self.cleaned_data["next"]
        ok = url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts={self.host})
        return url if ok else ""


class RejectForm(DecisionForm):
    """Reject a claim: the reason is required, and the provider will read it."""

    reason = forms.CharField(
        max_length=2000,
        strip=True,
        error_messages={"required": _("Say why the claim is rejected: the provider will read the reason.")},
    )


class ReverseForm(forms.Form):
    """Reverse a verified claim: the reason is required; the provider reads it, and the schedule claws back."""

    reason = forms.CharField(
        label=_("Why the claim is reversed"),
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the claim is reversed: the provider will read the reason.")},
    )


class ReopenForm(forms.Form):
    """Reopen one's own decision within the undo window: a reason is optional (a slip needs none)."""

    reason = forms.CharField(label=_("Why (optional)"), required=False, max_length=2000, strip=True)
