"""Reads that turn a live contract into the plain inputs of the payment rules."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    BooleanField,
    Count,
    F,
    Func,
    JSONField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, JSONObject, RowNumber
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from financing import payments
from financing.models import (
    CapReason,
    ClaimStatus,
    Decision,
    LineKind,
    OutcomeClaim,
    OutcomeMetric,
    PaymentLine,
    RbfContract,
    Tranche,
    TranchePeriod,
    TrancheStatus,
    Verification,
    VerificationMethod,
)
from financing.querysets import paid_of
from financing.verification import decide, worker_facts
from lamp.api_base import money as api_money
from lamp.currencies import format_money, quantize
from lamp.fields import MoneyField
from lamp.templatetags.dashboard import day as day_words
from workers.models import Evidence, FeeCategory, SeparationReason

# --- The money vocabulary: one reading of what a schedule holds, for every page, CSV and API answer ------


@dataclass(kw_only=True)
class ScheduleAmounts:
    """The money of one or more schedules, in the platform's one vocabulary (the README's glossary).

    - ``verified``: every line of the schedules (adjustments and carried-forward lines included), what the
      verified outcomes earn under the terms. It is the sum of the parts below, always:
      ``verified == paid + awaiting_payment - owed_by_provider + due``.
    - ``paid``: what the payer disbursed (less what a provider repaid);
    - ``awaiting_payment``: approved (frozen) and not yet paid;
    - ``owed_by_provider``: a frozen tranche's balance below zero, which the provider owes back;
    - ``due``: the lines of open tranches, still moving with the claims.

    Against the cap: ``cap_total`` (the sum of the contracts' caps; ``None`` when one has none) and
    ``left_under_cap``. What the terms withhold is beside it, not part of it: ``held_back`` (``HeldBack``).
    """

    verified: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    awaiting_payment: Decimal = Decimal(0)
    owed_by_provider: Decimal = Decimal(0)
    due: Decimal = Decimal(0)
    cap: Decimal = Decimal(0)
    contracts: int = 0
    uncapped: int = 0  # contracts without a total cap: then the amounts have no cap
    overdue_tranches: int = 0  # due date passed, not paid in full

    def add_contract(self, *, cap_total: Decimal | None) -> None:
        self.contracts += 1
        self.cap += cap_total or Decimal(0)
        self.uncapped += int(cap_total is None)

    @property
    def cap_total(self) -> Decimal | None:
        """The sum of the contracts' caps; ``None`` when a contract has none (or there is no contract)."""
        return None if self.uncapped or not self.contracts else self.cap

    @property
    def left_under_cap(self) -> Decimal | None:
        cap = self.cap_total
        return None if cap is None else cap - self.verified

    @property
    def scale(self) -> Decimal:
        """The full width of a progress bar: the cap, or with no cap the larger of verified and paid."""
        return self.cap_total or max(self.verified, self.paid, Decimal(0))

    def add_tranche(self, *, status: str, total: Decimal, paid: Decimal | None, overdue: bool = False) -> bool:
        """Count one tranche (the sum of its lines and what was paid of it); ``True`` if it is open."""
        paid = paid or Decimal(0)
        self.overdue_tranches += int(overdue)
        self.verified += total
        self.paid += paid
        if status == TrancheStatus.OPEN:
            self.due += total - paid  # an open tranche is never paid: kept exact all the same
            return True
        balance = total - paid
        if balance >= 0:
            self.awaiting_payment += balance
        else:
            self.owed_by_provider -= balance
        return False

    def add(self, other: ScheduleAmounts) -> None:
        for name in (
            "verified", "paid", "awaiting_payment", "owed_by_provider", "due", "cap", "contracts", "uncapped",
            "overdue_tranches",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def adds_up(self) -> bool:
        """The identity every page relies on: the whole is the sum of its parts."""
        return self.verified == self.paid + self.awaiting_payment - self.owed_by_provider + self.due


#: The vocabulary of money, defined once: the glossary page, the API's field descriptions and the README say this.
GLOSSARY: tuple[tuple[str, Any, Any], ...] = (
    (
        "verified",
        _("Verified"),
        _(
            "Everything the verified outcomes earn under the contract's terms: the sum of every line of its "
            "payment schedule, adjustments included. It is always paid + awaiting payment + due, less anything "
            "owed by the provider."
        ),
    ),
    ("paid", _("Paid"), _("What the payer has disbursed, less anything the provider repaid.")),
    (
        "awaiting_payment",
        _("Awaiting payment"),
        _("Approved by staff (frozen: it no longer changes) and not yet paid."),
    ),
    (
        "due",
        _("Due in open tranches"),
        _("The lines of tranches not yet approved: they still move as claims are verified, reversed or recomputed."),
    ),
    (
        "owed_by_provider",
        _("Owed by the provider"),
        _(
            "A frozen balance below zero (claims reversed after they were paid) that no later tranche can absorb: "
            "the provider pays it back."
        ),
    ),
    (
        "held_back",
        _("Held back"),
        _(
            "Verified units the terms do not pay, or not yet, each with its rule: a threshold not met (they wait "
            "for it), a cap (a metric's units or amount, the contract's total, a worker's most units), or a date "
            "outside the contract's period. Beside verified, not part of it."
        ),
    ),
    (
        "left_under_cap",
        _("Left under the cap"),
        _("The contract's total cap less what is verified: what more the contract can still pay."),
    ),
    (
        "overdue",
        _("Overdue"),
        _("A tranche whose due date has passed and that is not yet paid in full (not approved, or approved only)."),
    ),
)
#: The glossary's definitions by term (the OpenAPI schema's field descriptions).
GLOSSARY_HELP: dict[str, Any] = {key: definition for key, _label, definition in GLOSSARY}


def money_figures(amounts: ScheduleAmounts, currency: str) -> dict[str, str | None]:
    """``amounts`` as the API gives them: each part of the vocabulary as a string with the currency's decimals."""
    return {
        "verified": api_money(amounts.verified, currency),
        "paid": api_money(amounts.paid, currency),
        "awaiting_payment": api_money(amounts.awaiting_payment, currency),
        "owed_by_provider": api_money(amounts.owed_by_provider, currency),
        "due": api_money(amounts.due, currency),
    }


@dataclass(frozen=True)
class TrancheRow:
    """A tranche as the money vocabulary reads it: its lines' ``total`` and what was ``paid`` of it."""

    id: int
    contract_id: int
    provider_id: int
    currency: str
    code: str
    start_date: datetime.date
    end_date: datetime.date
    due_date: datetime.date
    status: str
    total: Decimal
    paid: Decimal

    def overdue(self, today: datetime.date) -> bool:
        return is_overdue(status=self.status, due_date=self.due_date, today=today)


def is_overdue(*, status: str, due_date: datetime.date, today: datetime.date) -> bool:
    """A tranche is overdue once its due date has passed and it is not paid (still open, or approved only)."""
    return status != TrancheStatus.PAID and due_date < today


def tranche_rows(*, tranches: QuerySet[Tranche]) -> list[TrancheRow]:
    """``tranches`` in order of contract and start, each with the sum of its lines and of its payments.

    One query: a subquery per tranche for each sum, each reading only that tranche's rows through an index.
    """
    lines = PaymentLine.objects.filter(tranche=OuterRef("pk")).order_by().values("tranche")
    zero = Value(Decimal(0), output_field=MoneyField())
    rows = (
        tranches.annotate(
            line_total=Coalesce(Subquery(lines.annotate(s=Sum("amount")).values("s")), zero),
            paid_total=paid_of(tranche=OuterRef("pk")),
        )
        .order_by("contract_id", "start_date", "id")
        .values_list(
            "pk",
            "contract_id",
            "contract__provider_id",
            "contract__currency",
            "code",
            "start_date",
            "end_date",
            "due_date",
            "status",
            "line_total",
            "paid_total",
        )  # fmt: skip
    )
    return [TrancheRow(*row) for row in rows]


def contract_amounts(*, contracts: Iterable[RbfContract]) -> dict[int, ScheduleAmounts]:
    """Each contract's money in the one vocabulary (``ScheduleAmounts``), from ``tranche_rows``; one query."""
    amounts = {}
    for contract in contracts:
        amounts[contract.pk] = ScheduleAmounts()
        amounts[contract.pk].add_contract(cap_total=contract.cap_total)
    today = timezone.localdate()
    if ids := list(amounts):
        for row in tranche_rows(tranches=Tranche.objects.filter(contract_id__in=ids)):
            amounts[row.contract_id].add_tranche(
                status=row.status, total=row.total, paid=row.paid, overdue=row.overdue(today)
            )
    return amounts


#: Why verified units are held back: a cap's reason (``CapReason``), or one of these.
THRESHOLD = "threshold_not_met"
OUTSIDE_PERIOD = "outside_contract_period"
_UNIT_LIMITS = {CapReason.MAX_UNITS_PER_WORKER, CapReason.CAP_UNITS}
#: Each reason for holding units back, in words.
HELD_BACK_REASONS: dict[str, Any] = {
    THRESHOLD: _("Threshold not met: waiting for it"),
    CapReason.MAX_UNITS_PER_WORKER.value: _("The worker already has the most units this metric pays"),
    CapReason.CAP_UNITS.value: _("The metric's unit cap is reached"),
    CapReason.CAP_AMOUNT.value: _("The metric's amount cap is reached"),
    CapReason.CAP_TOTAL.value: _("The contract's total cap is reached"),
    OUTSIDE_PERIOD: _("Verified outside the contract's period: never payable"),
}


@dataclass(frozen=True)
class HeldBack:
    """Verified units of one metric the terms do not pay (in full), for one reason, and what they would pay.

    ``reason``: a ``CapReason`` (the unit is in the schedule, paid less or nothing), ``THRESHOLD`` (not in the
    schedule until the metric's threshold holds) or ``OUTSIDE_PERIOD`` (verified outside the contract's
    period: never payable). ``tranche_id``: where the units are, or wait (the earliest open tranche).
    """

    metric: str
    reason: str
    units: int
    amount: Decimal
    tranche_id: int | None = None


def held_back(
    *,
    contract: RbfContract,
    metrics: Iterable[OutcomeMetric],
    summary: Iterable[dict[str, Any]],
    counts: dict[int, dict[str, int]],
    waiting_tranche_id: int | None,
) -> list[HeldBack]:
    """Every verified unit held back, by metric and reason, from what the contract page already read.

    ``summary`` is ``schedule_summary``'s rows (their metric codes under ``metric``), ``counts``
    ``claim_counts_by_metric``'s. Units held by a threshold have no line yet: they are priced at the units
    that would come next, as the rules would count them (tiers included).
    """
    codes = {metric.pk: metric for metric in metrics}
    held: dict[tuple[str, str, int | None], list[Any]] = {}
    counted: defaultdict[int, int] = defaultdict(int)
    for row in summary:
        if row["kind"] != LineKind.PAYMENT:
            continue
        if row["reason"] not in _UNIT_LIMITS:
            counted[row["metric_id"]] += row["lines"]
        if row["reason"] and row["capped"]:
            code = codes[row["metric_id"]].code if row["metric_id"] in codes else "?"
            entry = held.setdefault((code, row["reason"], row["tranche_id"]), [0, Decimal(0)])
            entry[0] += row["lines"]
            entry[1] += row["capped"]
    result = [
        HeldBack(metric=code, reason=reason, units=units, amount=amount, tranche_id=tranche_id)
        for (code, reason, tranche_id), (units, amount) in held.items()
    ]
    for metric in codes.values():
        count = counts.get(metric.pk, {})
        outside = count.get("outside_period", 0)
        waiting = count.get("unscheduled", 0) - outside
        try:
            terms = metric.as_terms()
        except payments.TermsError:
            continue
        if outside:
            price = quantize(terms.unit_price(counted[metric.pk] + 1), contract.currency)
            result.append(HeldBack(metric=metric.code, reason=OUTSIDE_PERIOD, units=outside, amount=price * outside))
        if waiting > 0 and threshold_holds_back(metric=metric, counts=counts):
            first = counted[metric.pk] + 1
            amount = sum(
                (quantize(terms.unit_price(unit), contract.currency) for unit in range(first, first + waiting)),
                Decimal(0),
            )
            result.append(
                HeldBack(
                    metric=metric.code, reason=THRESHOLD, units=waiting, amount=amount, tranche_id=waiting_tranche_id
                )
            )
    return sorted(result, key=lambda item: (item.metric, item.reason, item.tranche_id or 0))


def threshold_holds_back(*, metric: OutcomeMetric, counts: dict[int, dict[str, int]]) -> bool:
    """Whether ``metric``'s threshold stops its verified units now: its verified units (in the contract's
    period) over its denominator's are below the rate, or the denominator has none."""
    if metric.threshold_rate is None or not metric.denominator_metric_id:
        return False
    own, of_denominator = counts.get(metric.pk, {}), counts.get(metric.denominator_metric_id, {})
    numerator = own.get("verified", 0) - own.get("outside_period", 0)
    denominator = of_denominator.get("verified", 0) - of_denominator.get("outside_period", 0)
    return not denominator or Decimal(numerator) / Decimal(denominator) < metric.threshold_rate


def contract_terms(*, contract: RbfContract) -> payments.Terms:
    """The contract's terms as ``payments.Terms``: its metrics and its tranche periods.

    Calendar contracts get their periods from the calendar; a contract with listed tranches uses the
    tranches staff entered. Raises ``payments.TermsError`` if the terms cannot be applied.
    """
    metrics = list(
        OutcomeMetric.objects.filter(contract=contract)
        .select_related("denominator_metric")
        .order_by("position", "code")
    )
    return payments.Terms(
        currency=contract.currency,
        start=contract.start_date,
        end=contract.end_date,
        cap_total=contract.cap_total,
        tranches=tranche_periods(contract=contract),
        metrics=tuple(metric.as_terms() for metric in metrics),
    )


def tranche_periods(*, contract: RbfContract) -> tuple[payments.TranchePeriod, ...]:
    if contract.tranche_period == TranchePeriod.EXPLICIT:
        return tuple(
            payments.TranchePeriod(code=t.code, start=t.start_date, end=t.end_date, due=t.due_date)
            for t in Tranche.objects.filter(contract=contract, start_date__lte=contract.end_date).order_by("start_date")
        )
    return payments.calendar_tranches(
        start=contract.start_date, end=contract.end_date, period=contract.tranche_period, due_days=contract.due_days
    )


def verified_claims(*, contract: RbfContract) -> list[payments.Claim]:
    """The contract's verified claims in allocation order: ``verified_on``, then claim id.

    Only verified claims are paid, so only they are read: one query of plain tuples, no model instances.
    """
    rows = (
        OutcomeClaim.objects.filter(metric__contract=contract, status=ClaimStatus.VERIFIED)
        .order_by("verified_on", "id")
        .values_list("id", "metric__code", "worker_id", "achieved_on", "verified_on")
    )
    return [
        payments.Claim(
            id=str(pk), metric=code, worker=str(worker), achieved_on=achieved, verified_on=verified, status="verified"
        )
        for pk, code, worker, achieved, verified in rows.iterator(chunk_size=10_000)
    ]


# --- Dashboard reads: contracts and their schedules (financing/views/contracts.py) ---------------------


def contracts_with_amounts(*, contracts: QuerySet[RbfContract]) -> QuerySet[RbfContract]:
    """``contracts`` annotated, each in one query, with what its schedule holds and its next open tranche.

    For sorting and filtering the list: ``verified``, ``due`` and ``paid`` as the money vocabulary
    (``ScheduleAmounts``) defines them; the figures a page shows come from ``contract_amounts``.
    ``next_tranche_id`` / ``_code`` / ``_due`` /
    ``_end``: the earliest open tranche, or ``None``.
    """
    lines = PaymentLine.objects.filter(tranche__contract=OuterRef("pk")).order_by().values("tranche__contract")
    next_open = Tranche.objects.filter(contract=OuterRef("pk"), status=TrancheStatus.OPEN).order_by("start_date")
    zero = Value(Decimal(0), output_field=MoneyField())
    return contracts.annotate(
        verified=Coalesce(Subquery(lines.annotate(s=Sum("amount")).values("s")), zero),
        due=Coalesce(
            Subquery(lines.filter(tranche__status=TrancheStatus.OPEN).annotate(s=Sum("amount")).values("s")), zero
        ),
        paid=paid_of(contract=OuterRef("pk")),
        next_tranche_id=Subquery(next_open.values("pk")[:1]),
        next_tranche_code=Subquery(next_open.values("code")[:1]),
        next_tranche_due=Subquery(next_open.values("due_date")[:1]),
        next_tranche_end=Subquery(next_open.values("end_date")[:1]),
    )


def tranche_totals(*, tranche_ids: Iterable[int]) -> dict[int, Decimal]:
    """The total of each tranche (the sum of its lines), 0 for one without lines; one query."""
    ids = list(tranche_ids)
    if not ids:
        return {}
    return dict(Tranche.objects.filter(pk__in=ids).with_totals().values_list("pk", "total"))


def schedule_summary(*, contract: RbfContract) -> list[dict[str, Any]]:
    """The contract's lines grouped by tranche, metric, kind and cap reason, computed by the database.

    Each row: ``tranche_id``, ``metric_id``, ``kind``, ``reason``, ``lines``, ``unpaid`` (lines paying
    nothing), ``amount``, ``capped`` and ``first_verified_on`` (the earliest ``verified_on`` of the group).
    A tranche's total is the sum of its rows' ``amount``.
    """
    return list(
        PaymentLine.objects.filter(tranche__contract=contract)
        .order_by()
        .values("tranche_id", "kind", "reason", metric_id=F("claim__metric_id"))
        .annotate(
            lines=Count("id"),
            unpaid=Count("id", filter=Q(amount=0)),
            amount=Sum("amount"),
            capped=Sum("capped"),
            first_verified_on=Min("verified_on"),
        )
        .order_by("tranche_id", "metric_id", "-kind", "reason")
    )


def contract_held_back(*, contract: RbfContract) -> list[HeldBack]:
    """``held_back`` for a contract read on its own (the API's schedule): four queries."""
    metrics = list(OutcomeMetric.objects.filter(contract=contract).select_related("denominator_metric"))
    codes = {metric.pk: metric.code for metric in metrics}
    summary = schedule_summary(contract=contract)
    for row in summary:
        row["metric"] = codes.get(row["metric_id"], "?")
    waiting = (
        Tranche.objects.filter(contract=contract, status=TrancheStatus.OPEN)
        .order_by("start_date")
        .values_list("pk", flat=True)
        .first()
    )
    return held_back(
        contract=contract,
        metrics=metrics,
        summary=summary,
        counts=claim_counts_by_metric(contract=contract),
        waiting_tranche_id=waiting,
    )


def schedule_first_lines(*, contract: RbfContract, per_tranche: int, with_workers: bool) -> list[dict[str, Any]]:
    """The first ``per_tranche`` lines of each tranche in allocation order, as plain rows; one query.

    Worker id and names only ``with_workers`` (staff and the provider: ``querysets.sees_workers_of``).
    """
    fields = ["tranche_id", "claim_id", "kind", "verified_on", "amount", "capped", "reason", "note"]
    if with_workers:
        fields += ["claim__worker_id", "claim__worker__given_names", "claim__worker__family_names"]
    order = [F("kind").desc(), F("verified_on").asc(), F("claim_id").asc()]
    # Number the lines alone, then join the few that are shown to their claims and workers.
    first = (
        PaymentLine.objects.filter(tranche__contract=contract)
        .annotate(row=Window(RowNumber(), partition_by=[F("tranche_id")], order_by=order))
        .filter(row__lte=per_tranche)
        .values("pk")
    )
    return list(
        PaymentLine.objects.filter(pk__in=first)
        .order_by("tranche_id", "-kind", "verified_on", "claim_id")
        .values(*fields, metric=F("claim__metric__code"))
    )


def claim_counts_by_metric(*, contract: RbfContract) -> dict[int, dict[str, int]]:
    """Per metric id: its claims by status, and the verified ones that hold no payment line.

    ``unscheduled``: verified claims with no line (held back by a threshold, outside the contract's
    period, or waiting for the next recompute); ``outside_period``: verified outside start..end.
    """
    # An uncorrelated IN: PostgreSQL hashes the contract's lines once instead of probing per claim.
    has_line = Q(pk__in=PaymentLine.objects.filter(tranche__contract=contract).values("claim_id"))
    verified = Q(status=ClaimStatus.VERIFIED)
    outside = Q(verified_on__lt=contract.start_date) | Q(verified_on__gt=contract.end_date)
    rows = (
        OutcomeClaim.objects.filter(metric__contract=contract)
        .order_by()
        .values("metric_id")
        .annotate(
            claimed=Count("id", filter=Q(status=ClaimStatus.CLAIMED)),
            verified=Count("id", filter=verified),
            rejected=Count("id", filter=Q(status=ClaimStatus.REJECTED)),
            reversed=Count("id", filter=Q(status=ClaimStatus.REVERSED)),
            unscheduled=Count("id", filter=verified & ~has_line),
            outside_period=Count("id", filter=verified & outside),
        )
    )
    return {row.pop("metric_id"): row for row in rows}


def tranches_verified_by(*, contract: RbfContract, user: Any) -> set[int]:
    """The open tranches of the contract that pay a claim ``user`` verified (maker-checker: not theirs to approve)."""
    return set(
        PaymentLine.objects.filter(
            tranche__contract=contract,
            tranche__status=TrancheStatus.OPEN,
            claim__verifications__decided_by=user,
            claim__verifications__decision=Decision.VERIFIED,
        )
        .order_by()
        .values_list("tranche_id", flat=True)
        .distinct()
    )


def schedule_csv_rows(*, contract: RbfContract, with_workers: bool) -> Iterator[tuple[Any, ...]]:
    """Every line of the schedule in allocation order, as tuples streamed from a server-side cursor:
    ``(tranche code, start, end, due, status, metric, claim id, kind, verified_on, amount, capped, reason,
    note[, worker id, given names, family names])``; worker columns only ``with_workers``."""
    fields = [
        "tranche__code", "tranche__start_date", "tranche__end_date", "tranche__due_date", "tranche__status",
        "claim__metric__code", "claim_id", "kind", "verified_on", "amount", "capped", "reason", "note",
    ]  # fmt: skip
    if with_workers:
        fields += ["claim__worker_id", "claim__worker__given_names", "claim__worker__family_names"]
    return (
        PaymentLine.objects.filter(tranche__contract=contract)
        .order_by("tranche__start_date", "tranche_id", "-kind", "verified_on", "claim_id")
        .values_list(*fields)
        .iterator(chunk_size=2000)
    )


def held_back_csv_rows(*, contract: RbfContract, with_workers: bool) -> Iterator[tuple[Any, ...]]:
    """The verified claims the schedule holds no line for because a rule holds them back, as CSV rows shaped
    like ``schedule_csv_rows``' (kind ``held_back``, amount 0, ``capped`` what the unit would pay, the reason
    ``threshold_not_met`` or ``outside_contract_period``), in allocation order; the tranche is the one they
    wait for (the earliest open one), none when they can never be paid."""
    metrics = {m.pk: m for m in OutcomeMetric.objects.filter(contract=contract).select_related("denominator_metric")}
    counts = claim_counts_by_metric(contract=contract)
    counted: defaultdict[int, int] = defaultdict(int)
    for row in schedule_summary(contract=contract):
        if row["kind"] == LineKind.PAYMENT and row["reason"] not in _UNIT_LIMITS:
            counted[row["metric_id"]] += row["lines"]
    waiting = (
        Tranche.objects.filter(contract=contract, status=TrancheStatus.OPEN)
        .order_by("start_date")
        .values_list("code", "start_date", "end_date", "due_date", "status")
        .first()
    ) or ("", None, None, None, "")
    held = {pk for pk, metric in metrics.items() if threshold_holds_back(metric=metric, counts=counts)}
    fields = ["metric_id", "metric__code", "id", "verified_on"]
    if with_workers:
        fields += ["worker_id", "worker__given_names", "worker__family_names"]
    claims = (
        OutcomeClaim.objects.filter(metric__contract=contract, status=ClaimStatus.VERIFIED)
        .exclude(pk__in=PaymentLine.objects.filter(tranche__contract=contract).values("claim_id"))
        .order_by("verified_on", "id")
        .values_list(*fields)
    )
    for metric_id, code, claim_id, verified_on, *worker in claims.iterator(chunk_size=2000):
        metric = metrics[metric_id]
        outside = not contract.start_date <= verified_on <= contract.end_date
        if not outside and metric_id not in held:
            continue  # the next recompute schedules it: not held back
        counted[metric_id] += 0 if outside else 1
        try:
            price = quantize(metric.as_terms().unit_price(max(counted[metric_id], 1)), contract.currency)
        except payments.TermsError:
            price = Decimal(0)
        tranche = ("", None, None, None, "") if outside else waiting
        reason = OUTSIDE_PERIOD if outside else THRESHOLD
        yield (*tranche, code, claim_id, "held_back", verified_on, Decimal(0), price, reason, "", *worker)


# --- The dashboard: the verification queue and the claims list ----------------------------------------

QUEUE_PAGE_SIZE = 25
CLAIMS_PAGE_SIZE = 50
#: The claims list's pseudo-status for claims an automatic rule sent to staff review.
IN_REVIEW = "in_review"
QUEUE_ORDER = ("-in_review", "claimed_at", "id")
#: The claims list's default order: the newest claim first (``financing.list_selectors.CLAIM_SORTING``).
CLAIMS_ORDER = ("-claimed_at", "-id")
#: Personal data a queue or list row never needs: not read, not decrypted.
_WORKER_PRIVATE = ("worker__phone", "worker__identity_document_number", "worker__date_of_birth", "worker__email")


@dataclass(frozen=True)
class FactLines:
    """The facts a verification weighed, in words: those for the claim, those against it, and the rest."""

    facts_for: list[str] = field(default_factory=list)
    facts_against: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueueItem:
    """One claim waiting for a decision, with what bears on it.

    ``summary`` is why it waits: the review's reason, or what the automatic rule says of the evidence
    today for a claim the rule has not settled (``reviewed_at`` is then ``None``).
    """

    claim: OutcomeClaim
    summary: str
    facts: FactLines
    terms: str
    reviewed_at: datetime.datetime | None = None


def claims_waiting(*, user: Any, contract_id: int | None = None, pilot_id: int | None = None) -> QuerySet:
    """Claims that wait for a decision (status *claimed*) that ``user`` may see, optionally of one contract
    or pilot: those an automatic rule sent to review and those it could not settle yet."""
    claims = OutcomeClaim.objects.visible_to(user).filter(status=ClaimStatus.CLAIMED)
    if contract_id is not None:
        claims = claims.filter(metric__contract_id=contract_id)
    if pilot_id is not None:
        claims = claims.filter(metric__contract__pilot_id=pilot_id)
    return claims


def contracts_with_waiting(*, user: Any) -> list[RbfContract]:
    """The contracts ``user`` may see, each with its pilot and ``waiting`` / ``in_review``: how many of its
    claims wait for a decision, and how many of those are in review.

    Two queries: the contracts, and the waiting claims counted by contract in one pass (a count per
    contract would read every waiting claim once per contract).
    """
    waiting = (
        OutcomeClaim.objects.visible_to(user)
        .filter(status=ClaimStatus.CLAIMED)
        .order_by()
        .values_list("metric__contract_id")
        .annotate(waiting=Count("pk"), in_review=Count("pk", filter=Q(in_review=True)))
    )
    counts = {contract_id: (n, in_review) for contract_id, n, in_review in waiting}
    contracts = list(RbfContract.objects.visible_to(user).select_related("pilot").order_by("reference"))
    for contract in contracts:
        contract.waiting, contract.in_review = counts.get(contract.pk, (0, 0))
    return contracts


def queue_items(
    *, claims: QuerySet, offset: int = 0, limit: int | None = None, today: datetime.date | None = None
) -> list[QueueItem]:
    """The given claims as queue items, in the queue's order (in review first, then the oldest claimed),
    ``limit`` of them from ``offset``.

    One query for the claims with their worker, recruiter, metric, contract, pilot, evidence count and
    latest review; where some are not in review, the automatic rules' facts of their workers as of
    ``today`` (five more queries, whatever the number of claims).
    """
    rows = list(_queue_rows(_page_of(claims, order=QUEUE_ORDER, offset=offset, limit=limit)))
    unsettled = [claim for claim in rows if claim.review is None]
    today = today or timezone.localdate()
    live = worker_facts(worker_ids={claim.worker_id for claim in unsettled}, today=today) if unsettled else {}
    items = []
    for claim in rows:
        metric = claim.metric
        if claim.review is not None:
            review = claim.review
            summary = review.get("reason") or gettext("An automatic rule found evidence for and against.")
            facts = facts_in_words(review.get("facts") or {})
            reviewed_at = parse_datetime(review["decided_at"]) if review.get("decided_at") else None
        else:
            verdict = decide(claim, live[claim.worker_id], today=today, language=None)  # shown, not recorded
            summary = str(_UNSETTLED.get(verdict.answer, "%(reason)s")) % {"reason": verdict.reason}
            facts = facts_in_words(verdict.facts)
            reviewed_at = None
        items.append(
            QueueItem(claim=claim, summary=summary, facts=facts, terms=metric_terms(metric), reviewed_at=reviewed_at)
        )
    return items


_UNSETTLED = {
    "verify": _("The evidence on file now meets the automatic rule: %(reason)s The rule has not run on it yet."),
    "wait": _("%(reason)s The automatic rule has not settled it."),
    "review": _("The evidence on file disagrees: %(reason)s"),
}


class _AnyOf(Func):
    """``expression = ANY(ARRAY(subquery))``: PostgreSQL runs the subquery once, before the rest (an
    InitPlan), where ``IN (subquery)`` may be planned as a semi-join against the whole joined table."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _page_of(claims: QuerySet, *, order: tuple[str, ...], offset: int, limit: int | None) -> QuerySet:
    """The claims of one page, in ``order``: picked by a narrow query of the claims alone (a subquery),
    so that whatever the caller joins is joined to that page's rows only, not to every claim."""
    stop = None if limit is None else offset + limit
    page = ArraySubquery(claims.order_by(*order).values("pk")[offset:stop])
    return OutcomeClaim.objects.filter(_AnyOf(F("pk"), page)).order_by(*order)


def _queue_rows(claims: QuerySet) -> QuerySet:
    latest_review = (
        Verification.objects.filter(claim_id=OuterRef("pk"), decision=Decision.NEEDS_REVIEW)
        .order_by("-decided_at", "-id")
        .values(json=JSONObject(reason="reason", facts="facts", rule="rule", decided_at="decided_at"))[:1]
    )
    return (
        claims.select_related(
            "worker__recruiter__organisation", "metric__contract__pilot", "metric__denominator_metric"
        )
        .defer(*_WORKER_PRIVATE)
        .annotate(
            evidence_count=Coalesce(
                Subquery(
                    Evidence.objects.filter(worker_id=OuterRef("worker_id"))
                    .order_by()
                    .values("worker_id")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            ),
            review=Subquery(latest_review, output_field=JSONField()),
        )
    )


def claims_listed(
    *,
    user: Any,
    contract_id: int | None = None,
    metric_id: int | None = None,
    metric_code: str | None = None,
    status: str | None = None,
    recruiter_id: int | None = None,
    pilot_id: int | None = None,
) -> QuerySet:
    """The claims ``user`` may see, filtered, the newest claim first: count them, and read a page of them
    in the order asked with ``financing.list_selectors.claim_page``.

    ``status`` is a claim status or ``"in_review"`` (claimed, and sent to staff review by a rule);
    ``metric_code`` matches that metric in every contract; ``recruiter_id`` is a ``Recruiter`` id.
    """
    claims = OutcomeClaim.objects.visible_to(user)
    if contract_id is not None:
        claims = claims.filter(metric__contract_id=contract_id)
    if metric_id is not None:
        claims = claims.filter(metric_id=metric_id)
    if metric_code:
        claims = claims.filter(metric__code=metric_code)
    if status == IN_REVIEW:
        claims = claims.filter(status=ClaimStatus.CLAIMED, in_review=True)
    elif status:
        claims = claims.filter(status=status)
    if recruiter_id is not None:
        claims = claims.filter(worker__recruiter_id=recruiter_id)
    if pilot_id is not None:
        claims = claims.filter(metric__contract__pilot_id=pilot_id)
    return claims.order_by(*CLAIMS_ORDER)


def metric_terms(metric: OutcomeMetric) -> str:
    """A metric's terms in words: ``USD 500.00 per unit, at most 1 per worker, up to 3 units``.

    Needs the metric's contract (and denominator, if any) loaded.
    """
    most = metric.max_units_per_worker
    # The price and the most per worker as one sentence, so that a language can order it as it needs.
    parts = [
        ngettext("%(price)s, at most %(n)s per worker", "%(price)s, at most %(n)s per worker", most)
        % {"price": metric.price_display, "n": most}
    ]
    if metric.cap_units is not None:
        parts.append(
            ngettext("up to %(n)s units", "up to %(n)s units", metric.cap_units) % {"n": f"{metric.cap_units:,}"}
        )
    if metric.cap_amount is not None:
        parts.append(
            gettext("up to %(amount)s") % {"amount": format_money(metric.cap_amount, metric.contract.currency)}
        )
    if metric.threshold_rate is not None and metric.denominator_metric_id:
        rate = f"{(metric.threshold_rate * 100).normalize():f} %"
        parts.append(
            gettext("paid while verified units reach %(rate)s of %(metric)s")
            % {"rate": rate, "metric": metric.denominator_metric.code}
        )
    return ", ".join(parts)


#: The facts a reversal by a fee finding records: read together, as one fee.
_FEE_FINDING = frozenset({"fee_report", "category", "amount", "currency"})


def facts_in_words(facts: dict[str, Any]) -> FactLines:
    """The facts a rule weighed (``Verification.facts``, or a rule's verdict) as lines a person reads.

    Knows the facts the automatic rules record (``financing.verification``) and the demo's; any other
    fact is shown as it is, under its name. Explicit ``for`` / ``against`` lists are taken as they are.
    """
    lines = FactLines()
    if not isinstance(facts, dict):
        lines.other.append(str(facts))
        return lines
    days = facts.get("retention_days") or facts.get("days")
    if "fee_report" in facts and "category" in facts:  # a reversal by a fee finding (``fee_findings_apply``)
        lines.facts_against.append(gettext("Fee reported after verification: %(fee)s") % {"fee": _fee(facts)})
        facts = {key: value for key, value in facts.items() if key not in _FEE_FINDING}
    for key, value in facts.items():
        reader = _FACT_READERS.get(key)
        if reader is not None:
            reader(lines, value, days)
        elif isinstance(value, bool):
            answer = gettext("yes") if value else gettext("no")
            (lines.facts_for if value else lines.facts_against).append(_named(key, answer))
        elif value not in (None, "", [], {}):
            lines.other.append(_named(key, _plain(value)))
    return lines


def _named(key: str, value: str) -> str:
    """``Site visit: 02 May 2026``: a fact without a reader, under its name."""
    return gettext("%(name)s: %(value)s") % {"name": _label(key), "value": value}


#: The names of the facts the automatic rules record that have no reader of their own.
_FACT_NAMES = {
    "payee_only": _("Payee only"),
    "supported_by_the_payee": _("Supported by the payee"),
    "waiting_for": _("Waiting for"),
}


def _label(key: str) -> str:
    if key in _FACT_NAMES:
        return str(_FACT_NAMES[key])
    return key.replace("_", " ").strip().capitalize()


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_label(k).lower()} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    return _day(value) if isinstance(value, str) else str(value)


def _day(value: Any) -> str:
    """An ISO date as ``06 Apr 2026`` (the pages' ``d M Y``, ``06 abr 2026`` in Spanish); anything else as it is."""
    try:
        return day_words(datetime.date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _fee(fee: Any) -> str:
    if not isinstance(fee, dict):
        return str(fee)
    category = fee.get("category", "")
    label = str(FeeCategory(category).label) if category in FeeCategory.values else _label(str(category))
    try:
        amount = format_money(Decimal(str(fee.get("amount"))), str(fee.get("currency", "")))
    except InvalidOperation:
        amount = str(fee.get("amount"))
    return f"{label}, {amount}"


def _read_started(lines: FactLines, value: Any, days: Any) -> None:
    started = value if isinstance(value, list) else [value] if value else []
    for day in started:
        lines.facts_for.append(gettext("Employment started on %(day)s") % {"day": _day(day)})
    if not started:
        lines.facts_against.append(gettext("No employment has started"))


def _read_attestation(lines: FactLines, value: Any, days: Any) -> None:
    if value:
        lines.facts_for.append(gettext("Employer attestation on file"))
    else:
        lines.facts_against.append(gettext("No employer attestation on file"))


def _separation(code: Any) -> str:
    """`` (resigned)``: a separation reason in words, after a date; empty for none."""
    if not code:
        return ""
    words = SeparationReason(code).label if code in SeparationReason.values else _label(str(code))
    return f" ({str(words).lower()})"


def _read_employments(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_against.append(gettext("No employment recorded"))
        return
    for job in value if isinstance(value, list) else [value]:
        if not isinstance(job, dict) or not job.get("start"):
            lines.other.append(gettext("Employment: %(job)s") % {"job": _plain(job)})
            continue
        start = datetime.date.fromisoformat(job["start"])
        end = datetime.date.fromisoformat(job["end"]) if job.get("end") else None
        values = {"start": _day(start), "separation": _separation(job.get("separation")), "days": days}
        if end is None and days:
            values["day"] = _day(start + datetime.timedelta(days=int(days)))
            words = gettext("Employed since %(start)s, no separation recorded; day %(days)s falls on %(day)s")
            lines.facts_for.append(words % values)
        elif end is None:
            lines.facts_for.append(gettext("Employed since %(start)s, no separation recorded") % values)
        elif days and (end - start).days < int(days):
            values.update(end=_day(end), worked=(end - start).days)
            words = gettext(
                "Employment from %(start)s ended on %(end)s%(separation)s, "
                "after %(worked)s days of the %(days)s required"
            )
            lines.facts_against.append(words % values)
        else:
            values["end"] = _day(end)
            lines.facts_for.append(gettext("Employed from %(start)s to %(end)s%(separation)s") % values)


def _read_days(lines: FactLines, value: Any, days: Any) -> None:
    """The retention metric's N: part of the metric's terms, and read with each employment."""


def _read_surveys(lines: FactLines, value: Any, days: Any) -> None:
    answers = value if isinstance(value, list) else [value]
    if not value and value is not False:
        lines.facts_against.append(gettext("No worker survey on file yet"))
        return
    for paid in answers:
        if paid:
            lines.facts_against.append(gettext("The worker's survey says a fee was paid"))
        else:
            lines.facts_for.append(gettext("The worker's survey reports no fee paid"))


def _read_fees(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_for.append(gettext("No fee above zero reported for this worker"))
        return
    for fee in value if isinstance(value, list) else [value]:
        lines.facts_against.append(gettext("Fee reported: %(fee)s") % {"fee": _fee(fee)})


def _read_fee_count(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_for.append(gettext("No fee above zero reported for this worker"))
    else:
        words = ngettext(
            "%(count)s fee report above zero for this worker",
            "%(count)s fee reports above zero for this worker",
            value if isinstance(value, int) else 2,
        )
        lines.facts_against.append(words % {"count": value})


def _read_courses(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_against.append(gettext("No course recorded"))
        return
    qualifies = False
    for course in value if isinstance(value, list) else [value]:
        if not isinstance(course, dict):
            lines.other.append(gettext("Course: %(course)s") % {"course": course})
            continue
        values = {"name": course.get("course") or gettext("Course"), "day": _day(course.get("completed_on"))}
        if not course.get("completed_on"):
            lines.other.append(gettext("%(name)s: enrolled, not completed yet") % values)
        elif course.get("passed") and course.get("certificate"):
            qualifies = True
            lines.facts_for.append(gettext("%(name)s: completed on %(day)s, passed, certificate on file") % values)
        elif course.get("passed") is False:
            lines.facts_against.append(gettext("%(name)s: completed on %(day)s, not passed") % values)
        elif course.get("passed") is None:
            lines.other.append(gettext("%(name)s: completed on %(day)s, not assessed yet") % values)
        else:
            words = gettext("%(name)s: completed on %(day)s and passed, no certificate on file")
            lines.facts_against.append(words % values)
    if not qualifies:
        lines.facts_against.append(gettext("No course completed, passed and certified yet"))


def _read_course(lines: FactLines, value: Any, days: Any) -> None:
    lines.other.append(gettext("Course: %(course)s") % {"course": value})


def _read_level(lines: FactLines, value: Any, days: Any) -> None:
    lines.other.append(gettext("Level: %(level)s") % {"level": value})


def _read_evidence(lines: FactLines, value: Any, days: Any) -> None:
    lines.other.append(gettext("Relies on evidence #%(id)s") % {"id": value})


def _read_given(side: str) -> Callable[[FactLines, Any, Any], None]:
    def read(lines: FactLines, value: Any, days: Any) -> None:
        target = lines.facts_for if side == "for" else lines.facts_against
        target.extend(str(line) for line in (value if isinstance(value, list) else [value]) if line)

    return read


_FACT_READERS: dict[str, Callable[[FactLines, Any, Any], None]] = {
    # financing.verification's rules
    "employment_started": _read_started,
    "employer_attestation": _read_attestation,
    "retention_days": _read_days,
    "employments": _read_employments,
    "survey_fee_paid": _read_surveys,
    "fees_reported": _read_fees,
    "courses": _read_courses,
    # the demo's and hand-made verifications
    "employment_started_on": _read_started,
    "days": _read_days,
    "fee_paid": _read_surveys,
    "fee_reports_above_zero": _read_fee_count,
    "fees": _read_fees,
    "course": _read_course,
    "level": _read_level,
    "evidence_id": _read_evidence,
    "for": _read_given("for"),
    "against": _read_given("against"),
}


def schedule_total(*, contract: RbfContract) -> Decimal:
    """The sum of every line of the contract's live schedule, rounded to its currency; one query."""
    total = PaymentLine.objects.filter(tranche__contract=contract).aggregate(total=Sum("amount"))["total"]
    return quantize(total or Decimal(0), contract.currency)


# --- What the automatic rules decided ----------------------------------------------------------------

#: The decisions a rule makes: verified, sent to review, reversed (a rule never rejects).
AUTOMATIC_DECISIONS = (Decision.VERIFIED, Decision.NEEDS_REVIEW, Decision.REVERSED)


def automatic_decisions(
    *, user: Any, decision: str = "", contract_id: int | None = None, since: datetime.date | None = None
) -> QuerySet[Verification]:
    """What the automatic rules decided, newest first: each with its claim, metric, contract and worker
    loaded, narrowed by decision, contract and the first day shown. Staff read it; the caller checks."""
    rows = Verification.objects.visible_to(user).filter(method=VerificationMethod.AUTOMATIC)
    if decision:
        rows = rows.filter(decision=decision)
    if contract_id is not None:
        rows = rows.filter(claim__metric__contract_id=contract_id)
    if since is not None:
        rows = rows.filter(decided_at__date__gte=since)
    private = (f"claim__{name}" for name in _WORKER_PRIVATE)
    rows = rows.select_related("claim__metric__contract", "claim__worker").defer(*private)
    return rows.order_by("-decided_at", "-id")
