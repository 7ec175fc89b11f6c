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
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from financing import payments, selectors, services
from financing.contract_forms import DisbursementForm, TryTermsForm
from financing.models import (
    CapReason,
    ContractStatus,
    LineKind,
    MetricKind,
    OutcomeMetric,
    RbfContract,
    Tranche,
    TrancheStatus,
)
from financing.verification import listed
from lamp.access import FUNDER, dashboard_page
from lamp.currencies import format_money, quantize
from pilots.models import Pilot
from workers.models import Source

PAGE_SIZE = 25
#: Lines shown per tranche on the contract page; the rest are in the CSV and the claims list.
LINES_PER_TRANCHE = 25


def _money(amount: Decimal | None, currency: str) -> str:
    return format_money(amount, currency)


def _day(day: datetime.date | None) -> str:
    return day.strftime("%d %b %Y") if day else "—"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# --- The list ------------------------------------------------------------------------------------------


@require_GET
@dashboard_page(FUNDER)
def contract_list(request: HttpRequest) -> HttpResponse:
    """Every contract the viewer may see, with what it has earned, approved and paid against its cap."""
    user = request.user
    pilots = list(Pilot.objects.visible_to(user).order_by("name").values_list("pk", "name"))
    pilot_id = _int(request.GET.get("pilot"))
    if pilot_id is not None and pilot_id not in {pk for pk, _ in pilots}:
        pilot_id = None
    contracts = RbfContract.objects.visible_to(user).select_related("pilot", "payer", "provider")
    if pilot_id is not None:
        contracts = contracts.filter(pilot_id=pilot_id)
    contracts = selectors.contracts_with_amounts(
        contracts=contracts.annotate(provider_recruiter_id=F("provider__recruiter__id")).order_by(
            "pilot__name", "reference"
        )
    )
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    next_totals = selectors.tranche_totals(tranche_ids=[c.next_tranche_id for c in rows if c.next_tranche_id])
    today = timezone.localdate()
    for contract in rows:
        _add_bar(contract)
        contract.next_tranche_total = next_totals.get(contract.next_tranche_id)
        contract.next_tranche_ended = bool(contract.next_tranche_end and contract.next_tranche_end < today)
    context = {
        "nav": "contracts",
        "page": page,
        "contracts": rows,
        "pilots": pilots,
        "pilot_id": pilot_id,
    }
    return render(request, "dashboard/financing/contract_list.html", context)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _add_bar(contract: Any) -> None:
    """The progress bar's parts: paid, approved and not yet paid, due in open tranches; against the cap."""
    contract.awaiting_payment = selectors.awaiting_payment(approved=contract.approved, paid=contract.paid)
    contract.bar_scale = contract.cap_total or max(contract.verified, contract.paid, Decimal(0))
    contract.cap_left = None if contract.cap_total is None else contract.cap_total - contract.verified
    contract.cap_used = contract.verified / contract.cap_total if contract.cap_total else None


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
    form: DisbursementForm | None = None

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
    def shown(self) -> bool:
        """Whether the tranche gets its own section: it has lines, or something to do or show."""
        status = self.tranche.status
        return bool(self.metrics) or status != TrancheStatus.OPEN or self.ended


@require_GET
@dashboard_page(FUNDER)
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
        .select_related("disbursement", "disbursement__recorded_by", "approved_by")
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

    views = {t.pk: TrancheView(tranche=t, ended=t.end_date < today, blocked=t.pk in blocked) for t in tranches}
    first_open = min((t for t in tranches if t.status == TrancheStatus.OPEN), key=lambda t: t.start_date, default=None)
    for t in tranches:
        if first_open is not None and t.status == TrancheStatus.OPEN and t.start_date > first_open.start_date:
            views[t.pk].waits_for = first_open.code
    rows: dict[tuple[int, str], MetricRow] = {}
    for row in summary:
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
        line["reason_label"] = reasons.get(line["reason"], line["reason"])
        line["worker_id"] = line.pop("claim__worker_id")
        line["worker_name"] = f"{line.pop('claim__worker__given_names')} {line.pop('claim__worker__family_names')}"
        views[line["tranche_id"]].lines.append(line)
    for view in views.values():
        if staff and view.tranche.status == TrancheStatus.APPROVED:
            view.form = _disbursement_form(view.tranche, currency=currency)

    totals = _totals(contract, tranches)
    schedule = [views[t.pk] for t in tranches]
    return {
        "nav": "contracts",
        "contract": contract,
        "staff": staff,
        "today": today,
        "metrics": [_metric_terms(metric, counts.get(metric.pk, {}), currency=currency) for metric in metrics],
        "schedule": schedule,
        "detailed": [view for view in schedule if view.shown],
        "totals": totals,
        "explanations": _explanations(
            contract=contract, metrics=metrics, summary=summary, counts=counts, tranches=tranches
        ),
        "lines_per_tranche": LINES_PER_TRANCHE,
        "line_count": sum(view.line_count for view in schedule),
    }


def _disbursement_form(tranche: Tranche, *, currency: str, data: Any = None) -> DisbursementForm:
    initial = {"amount": quantize(tranche.total, currency), "paid_on": timezone.localdate()}
    return DisbursementForm(data, currency=currency, prefix=f"t{tranche.pk}", initial=initial)


@dataclass(kw_only=True)
class Totals(selectors.ScheduleAmounts):
    currency: str
    cap_total: Decimal | None
    next_open: Tranche | None = None

    @property
    def scale(self) -> Decimal:
        return self.cap_total or max(self.verified, self.paid, Decimal(0))

    @property
    def cap_left(self) -> Decimal | None:
        return None if self.cap_total is None else self.cap_total - self.verified


def _totals(contract: RbfContract, tranches: Sequence[Tranche]) -> Totals:
    totals = Totals(currency=contract.currency, cap_total=contract.cap_total)
    for tranche in tranches:
        disbursement = getattr(tranche, "disbursement", None) if tranche.status == TrancheStatus.PAID else None
        is_open = totals.add_tranche(
            status=tranche.status, total=tranche.total, paid=disbursement.amount if disbursement else None
        )
        if is_open and totals.next_open is None:
            totals.next_open = tranche
    return totals


def _metric_terms(metric: OutcomeMetric, counts: dict[str, int], *, currency: str) -> dict[str, Any]:
    """A metric with its terms as sentences and its claims counted by status."""
    terms = []
    if metric.price is not None:
        terms.append(f"{_money(metric.price, currency)} for each verified unit.")
    else:
        tiers = metric.tiers or []
        parts = []
        for index, tier in enumerate(tiers):
            price = _money(Decimal(str(tier["price"])), currency)
            if tier.get("units") is None:
                parts.append(f"{price} for every further unit")
            else:
                which = "the first" if index == 0 else "the next"
                parts.append(f"{price} each for {which} {_plural(tier['units'], 'unit')}")
        terms.append("Priced in tiers: " + ", ".join(parts) + ".")
    terms.append(f"At most {_plural(metric.max_units_per_worker, 'unit')} per worker.")
    if metric.cap_units is not None:
        terms.append(f"Pays at most {_plural(metric.cap_units, 'unit')} in all.")
    if metric.cap_amount is not None:
        terms.append(f"Pays at most {_money(metric.cap_amount, currency)} in all.")
    if metric.threshold_rate is not None and metric.denominator_metric_id:
        terms.append(
            f"Pays only in a tranche at whose end verified {metric.code} units are at least "
            f"{_rate(metric.threshold_rate)} of verified {metric.denominator_metric.code} units, both counted from "
            "the contract's start; units held back wait for the first tranche where it holds, and lapse if the "
            "contract closes first."
        )
    rule = metric.get_kind_display()
    if metric.retention_days:
        rule = f"{rule} (N = {metric.retention_days})"
    return {"metric": metric, "terms": terms, "rule": rule, "sources": sources_in_words(metric), "counts": counts}


def sources_in_words(metric: OutcomeMetric) -> str:
    """Who confirms the metric's outcomes, as the contract page says it: one of them, or (zero fee) all."""
    names = [Source(source).label.lower() for source in metric.required_sources]
    if not names:
        return ""
    if metric.kind == MetricKind.ZERO_FEE:
        return f"Every one of: {listed(names, 'and')}, agreeing. Never the payee alone."
    return f"Confirmed by {listed(names, 'or')}; never by the payee."


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
            f"The contract cap of {_money(contract.cap_total, currency)} was reached on {_day(first[3])} "
            f"(tranche {first[4]}): {_units_cut(lines, unpaid)}, {_money(capped, currency)} held back in all "
            f"(units cut: {per_metric})."
        )
    for (reason, code), (lines, unpaid, capped, first_day, tranche_code) in sorted(limited.items()):
        metric = by_metric.get(code)
        where = f"on {_day(first_day)} (tranche {tranche_code})"
        if reason == CapReason.CAP_AMOUNT:
            cap = _money(metric.cap_amount, currency) if metric and metric.cap_amount is not None else "its cap"
            sentences.append(
                f"{code}'s amount cap of {cap} was reached {where}: {_units_cut(lines, unpaid)}, "
                f"{_money(capped, currency)} held back in all."
            )
        elif reason == CapReason.CAP_UNITS:
            cap = _plural(metric.cap_units, "unit") if metric and metric.cap_units is not None else "units"
            sentences.append(
                f"{code}'s cap of {cap} was reached {where}: {_plural(lines, 'further verified unit is', 'further verified units are')} "  # noqa: E501
                f"not paid ({_money(capped, currency)})."
            )
        elif reason == CapReason.MAX_UNITS_PER_WORKER:
            most = metric.max_units_per_worker if metric else 1
            sentences.append(
                f"{_plural(lines, f'verified {code} claim is', f'verified {code} claims are')} for workers who "
                f"already have the {_plural(most, 'unit')} per worker the metric pays: not paid "
                f"({_money(capped, currency)}), first on {_day(first_day)}."
            )

    for metric in metrics:
        count = counts.get(metric.pk, {})
        unscheduled = count.get("unscheduled", 0)
        outside = count.get("outside_period", 0)
        if outside:
            sentences.append(
                f"{_plural(outside, f'{metric.code} claim was', f'{metric.code} claims were')} verified outside "
                f"the contract's period ({_day(contract.start_date)} – {_day(contract.end_date)}) and "
                f"{'is' if outside == 1 else 'are'} not payable."
            )
        waiting = unscheduled - outside
        if waiting <= 0:
            continue
        held = False
        if metric.threshold_rate is not None and metric.denominator_metric_id:
            numerator = count.get("verified", 0) - outside
            denominator_counts = counts.get(metric.denominator_metric_id, {})
            denominator = denominator_counts.get("verified", 0) - denominator_counts.get("outside_period", 0)
            now = f"{numerator:,} of {denominator:,}"
            if denominator:
                now += f" ({_rate(Decimal(numerator) / Decimal(denominator))})"
            held = not denominator or Decimal(numerator) / Decimal(denominator) < metric.threshold_rate
            if held:
                fate = (
                    "lapsed: the contract is closed"
                    if contract.status == ContractStatus.CLOSED
                    else "wait for the first tranche at whose end the threshold holds, and lapse if the contract "
                    "closes first"
                )
                sentences.append(
                    f"{metric.code} pays only while its verified units reach {_rate(metric.threshold_rate)} of "
                    f"{metric.denominator_metric.code}'s; they stand at {now}. "
                    f"{_plural(waiting, 'verified unit is', 'verified units are')} held back and {fate}."
                )
        if not held:
            sentences.append(
                f"{_plural(waiting, f'verified {metric.code} claim is', f'verified {metric.code} claims are')} "
                "not in the schedule yet: the schedule job adds them at its next recompute."
            )

    for tranche in tranches:
        if tranche.pk in adjustments:
            lines, net = adjustments[tranche.pk]
            sentences.append(
                f"Tranche {tranche.code} holds {_plural(lines, 'adjustment line')} (net {_money(net, currency)}): "
                "an approved or paid tranche is frozen, so when the rules now give a different amount for a claim "
                "it paid (a claim reversed, a cap moved), the difference is settled here."
            )
    return sentences


def _units_cut(lines: int, unpaid: int) -> str:
    partly = lines - unpaid
    parts = []
    if unpaid:
        parts.append(_plural(unpaid, "verified unit is", "verified units are") + " not paid")
    if partly:
        parts.append(f"{partly:,} {'is' if partly == 1 else 'are'} paid in part")
    return " and ".join(parts) or "no unit is cut"


# --- Actions on a tranche (staff) -----------------------------------------------------------------------


def _tranche_url(tranche: Tranche) -> str:
    return reverse("financing:contract", args=[tranche.contract_id]) + f"#tranche-{tranche.pk}"


def _refusal(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not do this."


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
            request, f"Tranche {tranche.code} was not approved: the total you saw is missing. Reload the page."
        )
        return redirect(_tranche_url(tranche))
    try:
        approved = services.tranche_approve(tranche=tranche, user=request.user, expected_total=expected)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, f"Tranche {tranche.code} was not approved. {_refusal(error)}")
    else:
        total = services.tranche_total(tranche=approved)
        messages.success(
            request,
            f"Tranche {approved.code} approved for {_money(total, currency)}. It is frozen: later changes land in "
            "the next open tranche. Record the disbursement once the payer has paid.",
        )
    return redirect(_tranche_url(tranche))


@require_POST
@dashboard_page()
def tranche_disburse(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the payer's payment of an approved tranche (exactly its total, once: the service's rules)."""
    tranche = get_object_or_404(
        Tranche.objects.visible_to(request.user).with_totals().select_related("contract"), pk=pk
    )
    currency = tranche.contract.currency
    form = _disbursement_form(tranche, currency=currency, data=request.POST)
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
            messages.success(
                request,
                f"Payment of {_money(disbursement.amount, currency)} for tranche {tranche.code} recorded "
                f"(paid {_day(disbursement.paid_on)}, reference {disbursement.reference}). The tranche is paid.",
            )
            return _go(request, _tranche_url(tranche))
    if request.headers.get("HX-Request"):
        # htmx swaps the form in place with its errors; a 200 so that htmx swaps it.
        return render(
            request,
            "dashboard/financing/tranche_disburse_form.html",
            {"tranche": tranche, "form": form, "contract": tranche.contract},
        )
    problems = [f"{form.fields[name].label if name in form.fields else ''}: {' '.join(e)}".lstrip(": ")
                for name, e in form.errors.items()]  # fmt: skip
    messages.error(request, f"Payment for tranche {tranche.code} not recorded. " + " ".join(problems))
    return redirect(_tranche_url(tranche))


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
CSV_LINE_COLUMNS = ("kind", "verified_on", "units", "amount", "capped", "cap_reason", "note", "currency")
UNIT_LIMITS = (CapReason.MAX_UNITS_PER_WORKER, CapReason.CAP_UNITS)


@require_GET
@dashboard_page(FUNDER)
def schedule_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every line of the schedule, streamed from a server-side cursor. Worker columns for staff only.

    ``units`` is 1 when the line is one counted unit of its metric, 0 when a unit limit stopped it
    (``max_units_per_worker``, ``cap_units``) or it is an adjustment of a frozen tranche.
    """
    contract = get_object_or_404(RbfContract.objects.visible_to(request.user), pk=pk)
    staff = request.tenancy.staff
    rows = selectors.schedule_csv_rows(contract=contract, with_workers=staff)
    currency = contract.currency
    header = (*CSV_COLUMNS, *(CSV_WORKER_COLUMNS if staff else ()), *CSV_LINE_COLUMNS)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for row in rows:
            code, start, end, due, status, metric, claim_id, kind, verified_on, amount, capped, reason, note = row[:13]
            counted = 1 if kind == LineKind.PAYMENT and reason not in UNIT_LIMITS else 0
            worker = (row[13], _cell(f"{row[14]} {row[15]}")) if staff else ()
            yield writer.writerow(
                (
                    code, start, end, due, status, metric, claim_id, *worker, kind, verified_on, counted,
                    f"{quantize(amount, currency):f}", f"{quantize(capped, currency):f}", reason, note, currency,
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
    total = Compared(label="Total")
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
            f"Contract cap: {_money(before.cap_total, currency) if before.cap_total is not None else 'none'} → "
            f"{_money(after.cap_total, currency) if after.cap_total is not None else 'none'}"
        )
    labels = {
        "price": "price",
        "tiers": "tiers",
        "max_units_per_worker": "most units per worker",
        "cap_units": "unit cap",
        "cap_amount": "amount cap",
        "threshold_rate": "threshold rate",
        "denominator": "threshold over",
    }
    for old, new in zip(before.metrics, after.metrics, strict=True):
        for name, label in labels.items():
            was, now = getattr(old, name), getattr(new, name)
            if was != now:
                changes.append(f"{old.code} {label}: {_show(name, was, currency)} → {_show(name, now, currency)}")
    return changes


def _show(name: str, value: Any, currency: str) -> str:
    if value is None:
        return "none"
    if name == "tiers":
        return "; ".join(f"{'rest' if t.units is None else t.units} at {_money(t.price, currency)}" for t in value)
    if name in ("price", "cap_amount"):
        return _money(value, currency)
    if name == "threshold_rate":
        return _rate(value)
    return f"{value:,}" if isinstance(value, int) else str(value)
