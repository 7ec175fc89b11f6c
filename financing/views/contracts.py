"""Contracts: the list, the contract page with its payment schedule, the schedule as CSV, "try terms", and
the staff actions on a tranche (approve it, record its disbursement).

Reads go through ``financing.selectors`` (aggregated in the database: a page runs the same queries for
ten lines or ten thousand), writes through ``financing.services`` (maker-checker, frozen tranches,
history), and "try terms" through ``payments.compute_schedule``, the rules the live recompute applies.
What is here turns their results into sentences and tables. Funders read the contracts they pay, with
counts per metric and never a worker; only staff act.
"""

from __future__ import annotations

import csv
import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from financing import list_selectors, payments, selectors, services
from financing.contract_forms import DisbursementForm, RefundSettleForm, TryTermsForm
from financing.models import (
    CapReason,
    ContractStatus,
    Disbursement,
    LineKind,
    MetricKind,
    OutcomeMetric,
    PaymentLine,
    ProviderRefund,
    RbfContract,
    Tranche,
    TrancheStatus,
)
from financing.presenters import price_in_words, units_in_words
from financing.querysets import sees_workers_of
from lamp.access import FUNDER, RECRUITER, dashboard_page
from lamp.currencies import format_money, quantize
from lamp.listing import csv_response
from lamp.templatetags.dashboard import day as day_words
from pilots.models import Pilot
from workers.models import Source

PAGE_SIZE = 25
#: Lines shown per tranche on the contract page; the rest are in the CSV and the claims list.
LINES_PER_TRANCHE = 25


def _money(amount: Decimal | None, currency: str) -> str:
    return format_money(amount, currency)


def _day(day: datetime.date | None) -> str:
    return day_words(day)  # ``02 Dec 2026``, ``02 dic 2026`` in Spanish: the pages' one way to write a day


def _count(n: int) -> str:
    return f"{n:,}"


#: Each source as a list of who confirms an outcome names it (``Source``'s labels, in lower case, translated).
SOURCE_NAMES: dict[str, Any] = {
    Source.WORKER: gettext_lazy("the worker (own link)"),
    Source.EMPLOYER: gettext_lazy("employer"),
    Source.RECRUITER: gettext_lazy("recruiter"),
    Source.TRAINING_PROVIDER: gettext_lazy("training provider"),
    Source.STAFF: gettext_lazy("program staff"),
    Source.VERIFIER: gettext_lazy("independent verifier"),
    Source.PARTNER: gettext_lazy("another partner organisation"),
    Source.UNRECORDED: gettext_lazy("not recorded"),
}


def _status_words(contract: RbfContract) -> str:
    return str(contract.get_status_display())


def _period_words(contract: RbfContract) -> str:
    return str(contract.get_tranche_period_display())


# --- The list ------------------------------------------------------------------------------------------


@require_GET
@dashboard_page(FUNDER)
def contract_list(request: HttpRequest) -> HttpResponse:
    """Every contract the viewer may see, with what it has earned, approved and paid against its cap; by
    pilot, or sorted by a column (``?sort=verified`` / ``-verified``: a bad one is a 400 naming it)."""
    user = request.user
    pilots = list(Pilot.objects.visible_to(user).order_by("name").values_list("pk", "name"))
    pilot_id = _listed_pilot(request, pilots)
    sort, refused = list_selectors.CONTRACT_SORTING.from_request(request.GET)
    contracts = _listed_contracts(user, pilot_id).order_by(*sort.order_by())
    if refused:
        contracts = contracts.none()
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    next_totals = selectors.tranche_totals(tranche_ids=[c.next_tranche_id for c in rows if c.next_tranche_id])
    today = timezone.localdate()
    amounts = selectors.contract_amounts(contracts=rows)
    for contract in rows:
        _add_bar(contract, amounts[contract.pk])
        contract.status_label = _status_words(contract)
        contract.period_label = _period_words(contract)
        contract.next_tranche_total = next_totals.get(contract.next_tranche_id)
        contract.next_tranche_ended = bool(contract.next_tranche_end and contract.next_tranche_end < today)
    context = {
        "nav": "contracts",
        "page": page,
        "contracts": rows,
        "pilots": pilots,
        "pilot_id": pilot_id,
        "sort": sort,
        "sort_error": refused,
    }
    return render(request, "dashboard/financing/contract_list.html", context, status=400 if refused else 200)


def _listed_pilot(request: HttpRequest, pilots: list[tuple[int, str]]) -> int | None:
    """The list's ``pilot`` filter: one of the pilots the viewer sees, else none."""
    pilot_id = _int(request.GET.get("pilot"))
    return pilot_id if pilot_id in {pk for pk, _ in pilots} else None


def _listed_contracts(user: Any, pilot_id: int | None) -> Any:
    contracts = RbfContract.objects.visible_to(user).select_related("pilot", "payer", "provider")
    if pilot_id is not None:
        contracts = contracts.filter(pilot_id=pilot_id)
    return selectors.contracts_with_amounts(
        contracts=contracts.annotate(provider_recruiter_id=F("provider__recruiter__id"))
    )


@require_GET
@dashboard_page(FUNDER)
def contract_list_csv(request: HttpRequest) -> HttpResponse:
    """The contracts list as filtered and sorted, as a streamed CSV file: the money the list shows."""
    pilots = list(Pilot.objects.visible_to(request.user).order_by("name").values_list("pk", "name"))
    sort, refused = list_selectors.CONTRACT_SORTING.from_request(request.GET)
    if refused:
        return HttpResponse(refused, status=400, content_type="text/plain; charset=utf-8")
    contracts = _listed_contracts(request.user, _listed_pilot(request, pilots))
    return csv_response(
        filename="contracts.csv",
        header=list_selectors.CONTRACT_CSV_HEADER,
        rows=list_selectors.contract_csv_rows(contracts=contracts, sort=sort),
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _add_bar(contract: Any, amounts: selectors.ScheduleAmounts) -> None:
    """The contract's money, in the one vocabulary, and the share of its cap it has used."""
    contract.amounts = amounts
    contract.cap_used = amounts.verified / contract.cap_total if contract.cap_total else None


# --- The contract page ---------------------------------------------------------------------------------


@dataclass
class MetricRow:
    """One metric's lines in one tranche."""

    code: str
    metric_id: int | None
    lines: int = 0  # payment lines: one per verified claim the tranche took
    unpaid: int = 0  # payment lines paying nothing (a limit stopped them)
    partly: int = 0  # payment lines cut by an amount cap
    amount: Decimal = Decimal(0)
    capped: Decimal = Decimal(0)
    adjustment_lines: int = 0
    adjustment_amount: Decimal = Decimal(0)

    @property
    def paid_lines(self) -> int:
        return self.lines - self.unpaid

    @property
    def total(self) -> Decimal:
        return self.amount + self.adjustment_amount


@dataclass
class TrancheView:
    tranche: Tranche
    metrics: list[MetricRow] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False
    blocked: bool = False  # maker-checker: the viewer verified claims it pays
    waits_for: str = ""  # an earlier tranche still open: tranches are approved in order
    overdue: bool = False  # due date passed, not paid
    held: list[selectors.HeldBack] = field(default_factory=list)  # units held back in (or waiting for) it
    form: DisbursementForm | None = None
    refund_form: RefundSettleForm | None = None

    @property
    def payments(self) -> list[Disbursement]:
        """The payer's payments of the tranche, oldest first (prefetched with the tranches)."""
        return list(self.tranche.disbursements.all())

    @property
    def paid(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), Decimal(0))

    @property
    def left_to_pay(self) -> Decimal:
        return self.tranche.total - self.paid  # type: ignore[attr-defined]

    @property
    def partly_paid(self) -> bool:
        return self.tranche.status == TrancheStatus.APPROVED and bool(self.payments) and self.left_to_pay > 0

    @property
    def carried(self) -> list[PaymentLine]:
        """Its carried-forward lines: a balance below zero it carried to, or took from, another tranche."""
        return self.tranche.carried_lines  # type: ignore[attr-defined]

    @property
    def refund(self) -> ProviderRefund | None:
        return getattr(self.tranche, "refund", None)

    @property
    def line_count(self) -> int:
        return sum(row.lines + row.adjustment_lines for row in self.metrics)

    @property
    def capped(self) -> Decimal:
        return sum((row.capped for row in self.metrics), Decimal(0))

    @property
    def units(self) -> int:
        return sum(row.paid_lines for row in self.metrics)

    @property
    def adjustment_lines(self) -> int:
        return sum(row.adjustment_lines for row in self.metrics)

    @property
    def more_lines(self) -> int:
        return max(self.line_count - len(self.lines), 0)

    @property
    def held_amount(self) -> Decimal:
        """Everything held back in this tranche: by the caps, and (the earliest open one) by thresholds."""
        return sum((item.amount for item in self.held), Decimal(0))

    @property
    def held_units(self) -> int:
        return sum(item.units for item in self.held)

    @property
    def shown(self) -> bool:
        """Whether the tranche gets its own section: it has lines, or something to do or show."""
        status = self.tranche.status
        return bool(self.metrics) or status != TrancheStatus.OPEN or self.ended


@require_GET
@dashboard_page(FUNDER, RECRUITER)  # a recruiter: the contracts it provides (visible_to), read-only
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A contract's terms, metrics in words, payment schedule by tranche, and what its caps held back."""
    contract = _visible_contract(request, pk)
    return render(request, "dashboard/financing/contract_detail.html", _detail_context(request, contract))


def _visible_contract(request: HttpRequest, pk: int) -> RbfContract:
    contracts = RbfContract.objects.visible_to(request.user).select_related("pilot", "payer", "provider")
    return get_object_or_404(contracts.annotate(provider_recruiter_id=F("provider__recruiter__id")), pk=pk)


def _metrics(contract: RbfContract) -> list[OutcomeMetric]:
    metrics = OutcomeMetric.objects.filter(contract=contract).select_related("denominator_metric")
    metrics = list(metrics.order_by("position", "code"))
    for metric in metrics:
        metric.contract = contract  # its price_display reads the currency: no query per metric
    return metrics


def _detail_context(request: HttpRequest, contract: RbfContract) -> dict[str, Any]:
    staff = request.tenancy.staff
    currency = contract.currency
    today = timezone.localdate()
    metrics = _metrics(contract)
    tranches = list(
        Tranche.objects.filter(contract=contract)
        .select_related("approved_by", "refund__recorded_by")
        .prefetch_related(
            Prefetch("disbursements", Disbursement.objects.select_related("recorded_by").order_by("paid_on", "id")),
            Prefetch(
                "lines",
                PaymentLine.objects.filter(kind=LineKind.CARRIED_FORWARD).select_related("carried_with"),
                to_attr="carried_lines",
            ),
        )
        .order_by("start_date")
    )
    codes = {metric.pk: metric.code for metric in metrics}
    summary = selectors.schedule_summary(contract=contract)
    tranche_totals: defaultdict[int, Decimal] = defaultdict(lambda: Decimal(0))
    for row in summary:
        row["metric"] = codes.get(row["metric_id"], "?")
        tranche_totals[row["tranche_id"]] += row["amount"]
    for tranche in tranches:
        tranche.total = tranche_totals[tranche.pk]  # the sum of its lines, as ``with_totals`` gives it
    counts = selectors.claim_counts_by_metric(contract=contract)
    first_lines = (
        selectors.schedule_first_lines(contract=contract, per_tranche=LINES_PER_TRANCHE, with_workers=True)
        if staff
        else []
    )
    blocked = selectors.tranches_verified_by(contract=contract, user=request.user) if staff else set()

    views = {
        t.pk: TrancheView(
            tranche=t,
            ended=t.end_date < today,
            blocked=t.pk in blocked,
            overdue=selectors.is_overdue(status=t.status, due_date=t.due_date, today=today),
        )
        for t in tranches
    }
    first_open = _next_open(tranches)
    for t in tranches:
        if first_open is not None and t.status == TrancheStatus.OPEN and t.start_date > first_open.start_date:
            views[t.pk].waits_for = first_open.code
    rows: dict[tuple[int, str], MetricRow] = {}
    for row in summary:
        if row["kind"] == LineKind.CARRIED_FORWARD:
            continue  # a balance moved between tranches, for no metric: the tranche's section says so
        key = (row["tranche_id"], row["metric"])
        metric_row = rows.get(key)
        if metric_row is None:
            metric_row = rows[key] = MetricRow(code=row["metric"], metric_id=row["metric_id"])
            views[row["tranche_id"]].metrics.append(metric_row)
        if row["kind"] == LineKind.ADJUSTMENT:
            metric_row.adjustment_lines += row["lines"]
            metric_row.adjustment_amount += row["amount"]
        else:
            metric_row.lines += row["lines"]
            metric_row.unpaid += row["unpaid"]
            metric_row.amount += row["amount"]
            metric_row.capped += row["capped"]
            if row["reason"] in (CapReason.CAP_AMOUNT, CapReason.CAP_TOTAL):
                metric_row.partly += row["lines"] - row["unpaid"]
    position = {metric.pk: index for index, metric in enumerate(metrics)}
    for view in views.values():
        view.metrics.sort(key=lambda row: position.get(row.metric_id, len(position)))
    reasons = dict(CapReason.choices)
    for line in first_lines:
        if line["kind"] == LineKind.CARRIED_FORWARD:
            continue  # no claim, no worker: shown with the tranche's payments
        line["reason_label"] = reasons.get(line["reason"], line["reason"])
        line["worker_id"] = line.pop("claim__worker_id")
        line["worker_name"] = f"{line.pop('claim__worker__given_names')} {line.pop('claim__worker__family_names')}"
        views[line["tranche_id"]].lines.append(line)
    for view in views.values():
        if staff and view.tranche.status == TrancheStatus.APPROVED and view.left_to_pay > 0:
            view.form = _disbursement_form(view.tranche, currency=currency, paid=view.paid)
        if staff and view.refund is not None and not view.refund.is_settled:
            view.refund_form = _refund_form(view.refund)

    totals = selectors.contract_amounts(contracts=[contract])[contract.pk]
    next_open = _next_open(tranches)
    held = selectors.held_back(
        contract=contract,
        metrics=metrics,
        summary=summary,
        counts=counts,
        waiting_tranche_id=next_open.pk if next_open else None,
    )
    for item in held:
        if item.tranche_id in views:
            views[item.tranche_id].held.append(item)
    schedule = [views[t.pk] for t in tranches]
    return {
        "nav": "contracts",
        "contract": contract,
        "status_label": _status_words(contract),
        "period_label": _period_words(contract),
        "staff": staff,
        "today": today,
        "metrics": [_metric_terms(metric, counts.get(metric.pk, {}), currency=currency) for metric in metrics],
        "schedule": schedule,
        "detailed": [view for view in schedule if view.shown],
        "totals": totals,
        "next_open": next_open,
        "held_back": held,
        "held_back_reasons": selectors.HELD_BACK_REASONS,
        "overdue": [view for view in schedule if view.overdue],
        "explanations": _explanations(
            contract=contract, metrics=metrics, summary=summary, counts=counts, tranches=tranches
        ),
        "lines_per_tranche": LINES_PER_TRANCHE,
        "line_count": sum(view.line_count for view in schedule),
    }


def _disbursement_form(tranche: Tranche, *, currency: str, paid: Decimal, data: Any = None) -> DisbursementForm:
    """The payment form of an approved tranche, proposing what is left to pay (``tranche.total`` less ``paid``)."""
    initial = {"amount": quantize(tranche.total - paid, currency), "paid_on": timezone.localdate()}
    return DisbursementForm(data, currency=currency, prefix=f"t{tranche.pk}", initial=initial)


def _refund_form(refund: ProviderRefund, data: Any = None) -> RefundSettleForm:
    """The form recording the provider's repayment of ``refund``, proposing the amount it owes."""
    initial = {"amount": quantize(refund.amount, refund.currency), "settled_on": timezone.localdate()}
    return RefundSettleForm(data, currency=refund.currency, prefix=f"r{refund.pk}", initial=initial)


def _next_open(tranches: Sequence[Tranche]) -> Tranche | None:
    return min((t for t in tranches if t.status == TrancheStatus.OPEN), key=lambda t: t.start_date, default=None)


def _metric_terms(metric: OutcomeMetric, counts: dict[str, int], *, currency: str) -> dict[str, Any]:
    """A metric with its terms as sentences and its claims counted by status."""
    terms = [price_in_words(price=metric.price, tiers=metric.tiers, currency=currency) + "."]
    most = metric.max_units_per_worker
    terms.append(
        ngettext("At most %(n)s unit per worker.", "At most %(n)s units per worker.", most) % {"n": _count(most)}
    )
    if metric.cap_units is not None:
        terms.append(
            ngettext("Pays at most %(n)s unit in all.", "Pays at most %(n)s units in all.", metric.cap_units)
            % {"n": _count(metric.cap_units)}
        )
    if metric.cap_amount is not None:
        terms.append(_("Pays at most %(amount)s in all.") % {"amount": _money(metric.cap_amount, currency)})
    if metric.threshold_rate is not None and metric.denominator_metric_id:
        terms.append(
            _(
                "Pays only in a tranche at whose end verified %(metric)s units are at least %(rate)s of verified "
                "%(over)s units, both counted from the contract's start; units held back wait for the first "
                "tranche where it holds, and lapse if the contract closes first."
            )
            % {"metric": metric.code, "rate": _rate(metric.threshold_rate), "over": metric.denominator_metric.code}
        )
    rule = str(metric.get_kind_display())
    if metric.retention_days:
        rule = _("%(rule)s (N = %(days)s)") % {"rule": rule, "days": metric.retention_days}
    return {"metric": metric, "terms": terms, "rule": rule, "sources": sources_in_words(metric), "counts": counts}


def sources_in_words(metric: OutcomeMetric) -> str:
    """Who confirms the metric's outcomes, as the contract page says it: one of them, or (zero fee) all."""
    names = [str(SOURCE_NAMES.get(source, Source(source).label.lower())) for source in metric.required_sources]
    if not names:
        return ""
    if metric.kind == MetricKind.ZERO_FEE:
        return _("Every one of: %(names)s, agreeing. Never the payee alone.") % {"names": _all_of(names)}
    return _("Confirmed by %(names)s; never by the payee.") % {"names": _one_of(names)}


def _all_of(names: list[str]) -> str:
    """``a, b and c``, in the page's language."""
    if len(names) <= 1:
        return "".join(names)
    return _("%(names)s and %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


def _one_of(names: list[str]) -> str:
    """``a, b or c``, in the page's language."""
    if len(names) <= 1:
        return "".join(names)
    return _("%(names)s or %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


def _rate(rate: Decimal) -> str:
    """``0.8`` -> ``80 %``, ``0.4594`` -> ``45.9 %``."""
    percent = f"{rate * 100:.1f}"
    return f"{percent.removesuffix('.0')} %"


def _explanations(
    *,
    contract: RbfContract,
    metrics: Sequence[OutcomeMetric],
    summary: Iterable[dict[str, Any]],
    counts: dict[int, dict[str, int]],
    tranches: Sequence[Tranche],
) -> list[str]:
    """Caps reached, units held back, claims not (yet) in the schedule and adjustments, in sentences."""
    currency = contract.currency
    codes = {t.pk: t.code for t in tranches}
    by_metric = {metric.code: metric for metric in metrics}
    # (reason, metric) -> [lines, unpaid, capped, first verified_on, its tranche]
    limited: dict[tuple[str, str], list[Any]] = {}
    adjustments: defaultdict[int, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for row in summary:
        if row["kind"] == LineKind.ADJUSTMENT:
            adjustments[row["tranche_id"]][0] += row["lines"]
            adjustments[row["tranche_id"]][1] += row["amount"]
            continue
        if not row["reason"]:
            continue
        entry = limited.setdefault((row["reason"], row["metric"]), [0, 0, Decimal(0), None, None])
        entry[0] += row["lines"]
        entry[1] += row["unpaid"]
        entry[2] += row["capped"]
        if entry[3] is None or row["first_verified_on"] < entry[3]:
            entry[3], entry[4] = row["first_verified_on"], codes.get(row["tranche_id"])

    sentences = []
    cap_total = [(code, entry) for (reason, code), entry in limited.items() if reason == CapReason.CAP_TOTAL]
    if cap_total:
        lines = sum(entry[0] for _, entry in cap_total)
        unpaid = sum(entry[1] for _, entry in cap_total)
        capped = sum((entry[2] for _, entry in cap_total), Decimal(0))
        first = min(cap_total, key=lambda item: item[1][3])[1]
        per_metric = ", ".join(f"{code} {entry[0]:,}" for code, entry in sorted(cap_total))
        sentences.append(
            _(
                "The contract cap of %(cap)s was reached on %(day)s (tranche %(tranche)s): %(cut)s, %(amount)s held "
                "back in all (units cut: %(per_metric)s)."
            )
            % {
                "cap": _money(contract.cap_total, currency),
                "day": _day(first[3]),
                "tranche": first[4],
                "cut": _units_cut(lines, unpaid),
                "amount": _money(capped, currency),
                "per_metric": per_metric,
            }
        )
    for (reason, code), (lines, unpaid, capped, first_day, tranche_code) in sorted(limited.items()):
        metric = by_metric.get(code)
        where = {"metric": code, "day": _day(first_day), "tranche": tranche_code, "amount": _money(capped, currency)}
        if reason == CapReason.CAP_AMOUNT:
            cap = _money(metric.cap_amount, currency) if metric and metric.cap_amount is not None else _("its cap")
            sentences.append(
                _(
                    "%(metric)s's amount cap of %(cap)s was reached on %(day)s (tranche %(tranche)s): %(cut)s, "
                    "%(amount)s held back in all."
                )
                % {**where, "cap": cap, "cut": _units_cut(lines, unpaid)}
            )
        elif reason == CapReason.CAP_UNITS:
            cap = units_in_words(metric.cap_units) if metric and metric.cap_units is not None else _("units")
            sentences.append(
                ngettext(
                    "%(metric)s's cap of %(cap)s was reached on %(day)s (tranche %(tranche)s): %(n)s further "
                    "verified unit is not paid (%(amount)s).",
                    "%(metric)s's cap of %(cap)s was reached on %(day)s (tranche %(tranche)s): %(n)s further "
                    "verified units are not paid (%(amount)s).",
                    lines,
                )
                % {**where, "cap": cap, "n": _count(lines)}
            )
        elif reason == CapReason.MAX_UNITS_PER_WORKER:
            most = metric.max_units_per_worker if metric else 1
            sentences.append(
                ngettext(
                    "%(n)s verified %(metric)s claim is for workers who already have the %(most)s per worker the "
                    "metric pays: not paid (%(amount)s), first on %(day)s.",
                    "%(n)s verified %(metric)s claims are for workers who already have the %(most)s per worker the "
                    "metric pays: not paid (%(amount)s), first on %(day)s.",
                    lines,
                )
                % {**where, "n": _count(lines), "most": units_in_words(most)}
            )

    for metric in metrics:
        count = counts.get(metric.pk, {})
        unscheduled = count.get("unscheduled", 0)
        outside = count.get("outside_period", 0)
        if outside:
            sentences.append(
                ngettext(
                    "%(n)s %(metric)s claim was verified outside the contract's period (%(start)s – %(end)s) and "
                    "is not payable.",
                    "%(n)s %(metric)s claims were verified outside the contract's period (%(start)s – %(end)s) and "
                    "are not payable.",
                    outside,
                )
                % {
                    "n": _count(outside),
                    "metric": metric.code,
                    "start": _day(contract.start_date),
                    "end": _day(contract.end_date),
                }
            )
        waiting = unscheduled - outside
        if waiting <= 0:
            continue
        held = False
        if metric.threshold_rate is not None and metric.denominator_metric_id:
            numerator = count.get("verified", 0) - outside
            denominator_counts = counts.get(metric.denominator_metric_id, {})
            denominator = denominator_counts.get("verified", 0) - denominator_counts.get("outside_period", 0)
            if denominator:
                now = _("%(n)s of %(of)s (%(rate)s)") % {
                    "n": _count(numerator),
                    "of": _count(denominator),
                    "rate": _rate(Decimal(numerator) / Decimal(denominator)),
                }
            else:
                now = _("%(n)s of %(of)s") % {"n": _count(numerator), "of": _count(denominator)}
            held = not denominator or Decimal(numerator) / Decimal(denominator) < metric.threshold_rate
            if held:
                if contract.status == ContractStatus.CLOSED:
                    fate = ngettext(
                        "%(n)s verified unit is held back and lapsed: the contract is closed.",
                        "%(n)s verified units are held back and lapsed: the contract is closed.",
                        waiting,
                    )
                else:
                    fate = ngettext(
                        "%(n)s verified unit is held back and wait for the first tranche at whose end the threshold "
                        "holds, and lapse if the contract closes first.",
                        "%(n)s verified units are held back and wait for the first tranche at whose end the threshold "
                        "holds, and lapse if the contract closes first.",
                        waiting,
                    )
                reach = _(
                    "%(metric)s pays only while its verified units reach %(rate)s of %(over)s's; they stand at %(now)s."
                )
                words = {"metric": metric.code, "rate": _rate(metric.threshold_rate), "now": now}
                words["over"] = metric.denominator_metric.code
                sentences.append(f"{reach % words} {fate % {'n': _count(waiting)}}")
        if not held:
            sentences.append(
                ngettext(
                    "%(n)s verified %(metric)s claim is not in the schedule yet: the schedule job adds them at its "
                    "next recompute.",
                    "%(n)s verified %(metric)s claims are not in the schedule yet: the schedule job adds them at its "
                    "next recompute.",
                    waiting,
                )
                % {"n": _count(waiting), "metric": metric.code}
            )

    for tranche in tranches:
        if tranche.pk in adjustments:
            lines, net = adjustments[tranche.pk]
            sentences.append(
                ngettext(
                    "Tranche %(tranche)s holds %(n)s adjustment line (net %(net)s): an approved or paid tranche is "
                    "frozen, so when the rules now give a different amount for a claim it paid (a claim reversed, a "
                    "cap moved), the difference is settled here.",
                    "Tranche %(tranche)s holds %(n)s adjustment lines (net %(net)s): an approved or paid tranche is "
                    "frozen, so when the rules now give a different amount for a claim it paid (a claim reversed, a "
                    "cap moved), the difference is settled here.",
                    lines,
                )
                % {"tranche": tranche.code, "n": _count(lines), "net": _money(net, currency)}
            )
    return sentences


def _units_cut(lines: int, unpaid: int) -> str:
    partly = lines - unpaid
    parts = []
    if unpaid:
        parts.append(
            ngettext("%(n)s verified unit is not paid", "%(n)s verified units are not paid", unpaid)
            % {"n": _count(unpaid)}
        )
    if partly:
        parts.append(ngettext("%(n)s is paid in part", "%(n)s are paid in part", partly) % {"n": _count(partly)})
    if len(parts) == 2:
        return _("%(first)s and %(second)s") % {"first": parts[0], "second": parts[1]}
    return parts[0] if parts else _("no unit is cut")


# --- Actions on a tranche (staff) -----------------------------------------------------------------------


def _tranche_url(tranche: Tranche) -> str:
    return reverse("financing:contract", args=[tranche.contract_id]) + f"#tranche-{tranche.pk}"


def _refusal(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("You may not do this.")


@require_POST
@dashboard_page()
def tranche_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a tranche for payment, at the total the page showed (maker-checker and period rules: the service's)."""
    tranche = get_object_or_404(Tranche.objects.visible_to(request.user).select_related("contract"), pk=pk)
    currency = tranche.contract.currency
    try:
        expected = Decimal(request.POST.get("expected_total", ""))
        if not expected.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        messages.error(
            request,
            _("Tranche %(code)s was not approved: the total you saw is missing. Reload the page.")
            % {"code": tranche.code},
        )
        return redirect(_tranche_url(tranche))
    try:
        approved = services.tranche_approve(tranche=tranche, user=request.user, expected_total=expected)
    except (ValidationError, PermissionDenied) as error:
        messages.error(
            request,
            _("Tranche %(code)s was not approved. %(why)s") % {"code": tranche.code, "why": _refusal(error)},
        )
    else:
        total = services.tranche_total(tranche=approved)
        messages.success(
            request,
            _(
                "Tranche %(code)s approved for %(total)s. It is frozen: later changes land in the next open tranche. "
                "Record the disbursement once the payer has paid."
            )
            % {"code": approved.code, "total": _money(total, currency)},
        )
    return redirect(_tranche_url(tranche))


@require_POST
@dashboard_page()
def tranche_disburse(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a payment by the payer of an approved tranche: all that is left to pay or a part of it (the
    service's rules: positive, never above what is left, a reference once)."""
    tranche = get_object_or_404(
        Tranche.objects.visible_to(request.user).with_totals().select_related("contract"), pk=pk
    )
    currency = tranche.contract.currency
    paid = services.tranche_paid(tranche=tranche)
    form = _disbursement_form(tranche, currency=currency, paid=paid, data=request.POST)
    if form.is_valid():
        try:
            disbursement = services.disbursement_record(
                tranche=tranche,
                user=request.user,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        except PermissionDenied as error:
            form.add_error(None, _refusal(error))
        else:
            left = tranche.total - paid - disbursement.amount
            done = (
                _("The tranche is paid.")
                if left <= 0
                else _("The tranche is partly paid: %(left)s left to pay.") % {"left": _money(left, currency)}
            )
            messages.success(
                request,
                _("Payment of %(amount)s for tranche %(code)s recorded (paid %(day)s, reference %(reference)s).")
                % {
                    "amount": _money(disbursement.amount, currency),
                    "code": tranche.code,
                    "day": _day(disbursement.paid_on),
                    "reference": disbursement.reference,
                }
                + " "
                + done,
            )
            return _go(request, _tranche_url(tranche))
    if request.headers.get("HX-Request"):
        # htmx swaps the form in place with its errors; a 200 so that htmx swaps it.
        return render(
            request,
            "dashboard/financing/tranche_disburse_form.html",
            {"tranche": tranche, "form": form, "contract": tranche.contract, "paid": paid},
        )
    messages.error(
        request,
        _("Payment for tranche %(code)s not recorded.") % {"code": tranche.code} + " " + _form_problems(form),
    )
    return redirect(_tranche_url(tranche))


@require_POST
@dashboard_page()
def refund_settle(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the provider's repayment of what it owes back (exactly the amount: the service's rule)."""
    refund = get_object_or_404(
        ProviderRefund.objects.visible_to(request.user).select_related("tranche__contract"), pk=pk
    )
    tranche = refund.tranche
    form = _refund_form(refund, data=request.POST)
    if form.is_valid():
        try:
            services.refund_settle(refund=refund, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        except PermissionDenied as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(
                request,
                _("Repayment of %(amount)s by the provider recorded for tranche %(code)s: the refund is settled.")
                % {"amount": _money(refund.amount, refund.currency), "code": tranche.code},
            )
            return _go(request, _tranche_url(tranche))
    if request.headers.get("HX-Request"):
        return render(
            request,
            "dashboard/financing/tranche_refund_form.html",
            {"refund": refund, "tranche": tranche, "form": form, "contract": tranche.contract},
        )
    messages.error(
        request,
        _("Repayment for tranche %(code)s not recorded.") % {"code": tranche.code} + " " + _form_problems(form),
    )
    return redirect(_tranche_url(tranche))


def _form_problems(form: Any) -> str:
    """A form's errors as one sentence per field, each naming its field."""
    problems = [f"{form.fields[name].label if name in form.fields else ''}: {' '.join(e)}".lstrip(": ")
                for name, e in form.errors.items()]  # fmt: skip
    return " ".join(problems)


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect; when htmx asked (the payment form, on the contract page itself), reload the page instead:
    ``HX-Redirect`` to the same page with only a ``#fragment`` changed would not reload it, and the page
    would go on showing the tranche as unpaid."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(url)


# --- The schedule as CSV ---------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose ``write`` returns the line: ``csv.writer`` then yields rows to stream."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    """Text as a spreadsheet will not run it as a formula (names come from partners' input)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


CSV_COLUMNS = (
    "tranche", "period_start", "period_end", "due_date", "tranche_status", "metric", "claim_id",
)  # fmt: skip
CSV_WORKER_COLUMNS = ("worker_id", "worker_name")
CSV_LINE_COLUMNS = ("kind", "verified_on", "units", "amount", "capped", "reason", "note", "currency")
UNIT_LIMITS = (CapReason.MAX_UNITS_PER_WORKER, CapReason.CAP_UNITS)


@require_GET
@dashboard_page(FUNDER, RECRUITER)
def schedule_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every line of the schedule, streamed from a server-side cursor. Worker columns for staff and the
    contract's provider (``sees_workers_of``, as the API's schedule), never for the payer.

    ``units`` is 1 when the line is one counted unit of its metric, 0 when a unit limit stopped it
    (``max_units_per_worker``, ``cap_units``) or it is an adjustment of a frozen tranche. After the lines, the
    verified claims a rule holds back with no line (kind ``held_back``: a threshold not met, or verified
    outside the contract's period), ``capped`` what each would pay.
    """
    contract = get_object_or_404(RbfContract.objects.visible_to(request.user), pk=pk)
    staff = sees_workers_of(request.user, provider_id=contract.provider_id)  # staff, or the provider
    rows = itertools.chain(
        selectors.schedule_csv_rows(contract=contract, with_workers=staff),
        selectors.held_back_csv_rows(contract=contract, with_workers=staff),
    )
    currency = contract.currency
    header = (*CSV_COLUMNS, *(CSV_WORKER_COLUMNS if staff else ()), *CSV_LINE_COLUMNS)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for row in rows:
            code, start, end, due, status, metric, claim_id, kind, verified_on, amount, capped, reason, note = row[:13]
            counted = 1 if kind == LineKind.PAYMENT and reason not in UNIT_LIMITS else 0
            # A carried-forward line pays for no claim: no worker.
            worker = (row[13], _cell(f"{row[14]} {row[15]}") if row[13] is not None else "") if staff else ()
            yield writer.writerow(
                (
                    code,
                    start,
                    end,
                    due,
                    status,
                    metric,
                    claim_id,
                    *worker,
                    kind,
                    verified_on,
                    counted,
                    f"{quantize(amount, currency):f}",
                    f"{quantize(capped, currency):f}",
                    reason,
                    note,
                    currency,
                )  # fmt: skip
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{contract.reference}-schedule.csv"'
    return response


# --- Try terms ---------------------------------------------------------------------------------------------


@dataclass
class Compared:
    """One row of the comparison: what the rules give on the terms in force, and on the edited terms."""

    label: str
    current: Decimal = Decimal(0)
    simulated: Decimal = Decimal(0)
    current_units: int = 0
    simulated_units: int = 0
    current_capped: Decimal = Decimal(0)
    simulated_capped: Decimal = Decimal(0)
    due: datetime.date | None = None

    @property
    def difference(self) -> Decimal:
        return self.simulated - self.current

    @property
    def abs_difference(self) -> Decimal:
        return abs(self.difference)


def _compare(current: payments.Schedule, simulated: payments.Schedule) -> dict[str, Any]:
    by_tranche: dict[str, Compared] = {}
    by_metric: dict[str, Compared] = {}
    total = Compared(label=_("Total"))
    for side, schedule in (("current", current), ("simulated", simulated)):
        for result in schedule.tranches:
            row = by_tranche.setdefault(result.period.code, Compared(label=result.period.code, due=result.period.due))
            setattr(row, side, getattr(row, side) + result.total)
            for line in result.lines:
                metric = by_metric.setdefault(line.metric, Compared(label=line.metric))
                counted = line.reason not in (payments.Reason.MAX_UNITS_PER_WORKER, payments.Reason.CAP_UNITS)
                for target in (row, metric, total):
                    if target is not row:
                        setattr(target, side, getattr(target, side) + line.amount)
                    setattr(target, f"{side}_units", getattr(target, f"{side}_units") + counted)
                    setattr(target, f"{side}_capped", getattr(target, f"{side}_capped") + line.capped)
    return {
        "tranches": list(by_tranche.values()),
        "metrics": list(by_metric.values()),
        "total": total,
        "lapsed": (len(current.lapsed), len(simulated.lapsed)),
        "not_payable": (len(current.not_payable), len(simulated.not_payable)),
    }


@require_http_methods(["GET", "POST"])
@dashboard_page()
def try_terms(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the payment rules on the contract's real verified claims with edited terms; nothing is written."""
    contract = get_object_or_404(RbfContract.objects.select_related("pilot", "payer", "provider"), pk=pk)
    metrics = _metrics(contract)
    for metric in metrics:  # terms of verification, not of price: shown beside the prices being tried
        metric.sources_words = sources_in_words(metric)
    context: dict[str, Any] = {"nav": "contracts", "contract": contract, "metrics": metrics}
    try:
        terms = selectors.contract_terms(contract=contract)
    except payments.TermsError as error:
        context["terms_error"] = f"{error.field}: {error.message}"
        return render(request, "dashboard/financing/contract_try.html", context, status=409)
    form = TryTermsForm(request.POST if request.method == "POST" else None, terms=terms, metrics=metrics)
    context["form"] = form
    status = 200
    if request.method == "POST":
        if form.is_valid():
            claims = selectors.verified_claims(contract=contract)
            current = payments.compute_schedule(terms=terms, claims=claims)
            simulated = payments.compute_schedule(terms=form.terms, claims=claims)
            context.update(
                comparison=_compare(current, simulated),
                claims=len(claims),
                live_total=selectors.schedule_total(contract=contract),
                changes=_changes(terms, form.terms),
            )
        else:
            status = 400
    return render(request, "dashboard/financing/contract_try.html", context, status=status)


def _changes(before: payments.Terms, after: payments.Terms) -> list[str]:
    """The edited terms in words: what differs from the terms in force."""
    currency = before.currency
    changes = []
    if before.cap_total != after.cap_total:
        changes.append(
            _("Contract cap: %(was)s → %(now)s")
            % {
                "was": _show("cap_total", before.cap_total, currency),
                "now": _show("cap_total", after.cap_total, currency),
            }
        )
    labels = {
        "price": _("price"),
        "tiers": _("tiers"),
        "max_units_per_worker": _("most units per worker"),
        "cap_units": _("unit cap"),
        "cap_amount": _("amount cap"),
        "threshold_rate": _("threshold rate"),
        "denominator": _("threshold over"),
    }
    for old, new in zip(before.metrics, after.metrics, strict=True):
        for name, label in labels.items():
            was, now = getattr(old, name), getattr(new, name)
            if was != now:
                changes.append(
                    _("%(metric)s %(field)s: %(was)s → %(now)s")
                    % {
                        "metric": old.code,
                        "field": label,
                        "was": _show(name, was, currency),
                        "now": _show(name, now, currency),
                    }
                )
    return changes


def _show(name: str, value: Any, currency: str) -> str:
    if value is None:
        return _("none")
    if name == "tiers":
        return "; ".join(
            _("rest at %(price)s") % {"price": _money(t.price, currency)}
            if t.units is None
            else _("%(units)s at %(price)s") % {"units": t.units, "price": _money(t.price, currency)}
            for t in value
        )
    if name in ("price", "cap_amount", "cap_total"):
        return _money(value, currency)
    if name == "threshold_rate":
        return _rate(value)
    return f"{value:,}" if isinstance(value, int) else str(value)
