"""The payment rules of results-based financing, as pure functions.

``compute_schedule`` turns a contract's terms and its outcome claims into the payment schedule that
``docs/rbf-scenario.md`` ("The rules, step by step") defines; the numbered rules below refer to it.
The live recompute and the contract simulator both call it, so a scenario and a live contract never
disagree. It is pure on purpose: no ORM, no clock, no I/O, ``Decimal`` only. The same inputs give the
same schedule, which is what makes a recompute idempotent and the rules exhaustively testable.

The dataclasses validate themselves: an invalid ``Metric``, ``Terms`` or ``Claim`` cannot be built, and
the ``TermsError`` names the offending field with a path (``metrics[1].price``) so callers can map it to
their own input (the simulator's JSON, a form, an API payload).
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from lamp.currencies import UnknownCurrency, get_currency, quantize

CLAIM_STATUSES = ("claimed", "verified", "rejected", "reversed")
VERIFIED = "verified"
TRANCHE_PERIODS = ("monthly", "quarterly")
DEFAULT_DUE_DAYS = 30

_PERIOD_MONTHS = {"monthly": 1, "quarterly": 3}


class Reason(StrEnum):
    """Why a claim is paid less than its full amount, or not at all."""

    OUTSIDE_CONTRACT_PERIOD = "outside_contract_period"
    THRESHOLD_NOT_MET = "threshold_not_met"
    MAX_UNITS_PER_WORKER = "max_units_per_worker"
    CAP_UNITS = "cap_units"
    CAP_AMOUNT = "cap_amount"
    CAP_TOTAL = "cap_total"


class TermsError(ValueError):
    """Terms or claims the rules cannot apply to; ``field`` is a path such as ``metrics[1].price``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- Terms -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """``units`` counted units at ``price``; ``units=None`` means every further unit (last tier only)."""

    units: int | None
    price: Decimal


@dataclass(frozen=True)
class Metric:
    """One priced outcome of a contract, with its limits and optional threshold."""

    code: str
    price: Decimal | None = None
    tiers: tuple[Tier, ...] | None = None
    max_units_per_worker: int = 1
    cap_units: int | None = None
    cap_amount: Decimal | None = None
    threshold_rate: Decimal | None = None
    denominator: str | None = None

    def __post_init__(self) -> None:
        if not self.code:
            raise TermsError("code", "must not be empty")
        if self.price is not None and self.tiers is not None:
            raise TermsError("tiers", "give either a price or tiers, not both")
        if self.price is None and self.tiers is None:
            raise TermsError("price", "give a price or tiers")
        if self.price is not None:
            _check_amount(self.price, field="price")
        if self.tiers is not None:
            _check_tiers(self.tiers)
        if self.max_units_per_worker < 1:
            raise TermsError("max_units_per_worker", "must be at least 1")
        if self.cap_units is not None and self.cap_units < 0:
            raise TermsError("cap_units", "must not be negative")
        if self.cap_amount is not None:
            _check_amount(self.cap_amount, field="cap_amount")
        if self.threshold_rate is not None and not (
            self.threshold_rate.is_finite() and Decimal(0) <= self.threshold_rate <= Decimal(1)
        ):
            raise TermsError("threshold_rate", "must be between 0 and 1")
        if self.threshold_rate is not None and not self.denominator:
            raise TermsError("denominator", "is required with a threshold_rate")
        if self.denominator is not None and self.threshold_rate is None:
            raise TermsError("threshold_rate", "is required with a denominator")

    def unit_price(self, unit: int) -> Decimal:
        """The price of the metric's ``unit``-th counted unit (1-based), before rounding."""
        if self.price is not None:
            return self.price
        assert self.tiers is not None  # exactly one of price and tiers, checked in __post_init__
        for tier in self.tiers:
            if tier.units is None or unit <= tier.units:
                return tier.price
            unit -= tier.units
        return self.tiers[-1].price


@dataclass(frozen=True)
class TranchePeriod:
    """A payment period of the contract; claims verified in ``start``..``end`` are paid by ``due``."""

    code: str
    start: date
    end: date
    due: date


@dataclass(frozen=True)
class Terms:
    """What a contract pays for: the validated input of ``compute_schedule``."""

    currency: str
    start: date
    end: date
    cap_total: Decimal | None
    tranches: tuple[TranchePeriod, ...]
    metrics: tuple[Metric, ...]

    def __post_init__(self) -> None:
        validate_currency(self.currency)
        validate_period(start=self.start, end=self.end)
        if self.cap_total is not None:
            _check_amount(self.cap_total, field="cap_total")
            self._check_minor_units(self.cap_total, field="cap_total")
        codes = [metric.code for metric in self.metrics]
        for index, metric in enumerate(self.metrics):
            if metric.code in codes[:index]:
                raise TermsError(f"metrics[{index}].code", f"duplicate metric code {metric.code!r}")
            if metric.cap_amount is not None:
                self._check_minor_units(metric.cap_amount, field=f"metrics[{index}].cap_amount")
            if metric.denominator is not None and metric.denominator not in codes:
                raise TermsError(f"metrics[{index}].denominator", f"unknown metric {metric.denominator!r}")
            if metric.denominator == metric.code:
                raise TermsError(f"metrics[{index}].denominator", "must name another metric")
        validate_tranches(start=self.start, end=self.end, tranches=self.tranches)

    def _check_minor_units(self, amount: Decimal, *, field: str) -> None:
        # A cap between two minor units could only be honoured by paying a fraction of one.
        if amount != quantize(amount, self.currency):
            exponent = get_currency(self.currency).exponent
            raise TermsError(field, f"must be a whole number of {self.currency} minor units ({exponent} decimals)")


def _check_amount(amount: Decimal, *, field: str) -> None:
    if not amount.is_finite():
        raise TermsError(field, "must be a finite decimal")
    if amount.is_signed():  # -0 too, or a zero price would be paid as "-0.00"
        raise TermsError(field, "must not be negative")


def _check_tiers(tiers: tuple[Tier, ...]) -> None:
    if not tiers:
        raise TermsError("tiers", "must list at least one tier")
    last = len(tiers) - 1
    for index, tier in enumerate(tiers):
        _check_amount(tier.price, field=f"tiers[{index}].price")
        if tier.units is None and index != last:
            raise TermsError(f"tiers[{index}].units", "only the last tier may be unbounded (units null)")
        if tier.units is not None and index == last:
            # Nothing says what a unit past a bounded last tier costs; cap_units is how to stop counting.
            raise TermsError(f"tiers[{index}].units", "the last tier must be unbounded (units null)")
        if tier.units is not None and tier.units < 1:
            raise TermsError(f"tiers[{index}].units", "must be at least 1")


def validate_currency(code: str) -> None:
    try:
        get_currency(code)
    except UnknownCurrency as error:
        raise TermsError("currency", str(error)) from None


def validate_period(*, start: date, end: date) -> None:
    if end < start:
        raise TermsError("end", f"must not be before start ({start.isoformat()})")


def validate_tranches(*, start: date, end: date, tranches: Sequence[TranchePeriod]) -> None:
    """Tranches must be contiguous, in order, and cover ``start``..``end`` exactly.

    Anything else would leave a verified claim in no tranche, or in two.
    """
    if not tranches:
        raise TermsError("tranches", "must list at least one tranche")
    seen: set[str] = set()
    expected_start = start
    for index, tranche in enumerate(tranches):
        path = f"tranches[{index}]"
        if not tranche.code:
            raise TermsError(f"{path}.code", "must not be empty")
        if tranche.code in seen:
            raise TermsError(f"{path}.code", f"duplicate tranche code {tranche.code!r}")
        seen.add(tranche.code)
        if tranche.start != expected_start:
            where = "the contract's start" if index == 0 else f"the day after tranches[{index - 1}].end"
            raise TermsError(f"{path}.start", f"must be {expected_start.isoformat()}, {where}")
        if tranche.end < tranche.start:
            raise TermsError(f"{path}.end", "must not be before the tranche's start")
        if tranche.end > end:
            raise TermsError(f"{path}.end", f"must not be after the contract's end ({end.isoformat()})")
        if tranche.due < tranche.end:
            raise TermsError(f"{path}.due", "must not be before the tranche's end")
        if tranche.end < end:
            expected_start = tranche.end + timedelta(days=1)
        elif index != len(tranches) - 1:
            raise TermsError(f"tranches[{index + 1}].start", "is after the contract's end")
    if tranches[-1].end != end:
        raise TermsError(f"tranches[{len(tranches) - 1}].end", f"must be the contract's end ({end.isoformat()})")


def calendar_tranches(
    *, start: date, end: date, period: str, due_days: int = DEFAULT_DUE_DAYS
) -> tuple[TranchePeriod, ...]:
    """Calendar months (``2026-03``) or quarters (``2026-Q1``) clipped to ``start``..``end``.

    Each tranche is due ``due_days`` after its own last day, the clipped one for the first and last.
    """
    if period not in _PERIOD_MONTHS:
        raise TermsError("period", f"must be one of {', '.join(TRANCHE_PERIODS)}")
    if due_days < 0:
        raise TermsError("due_days", "must not be negative")
    validate_period(start=start, end=end)
    months = _PERIOD_MONTHS[period]
    first = date(start.year, (start.month - 1) // months * months + 1, 1)
    tranches = []
    while True:
        last_month = first.month + months - 1
        last = date(first.year, last_month, calendar.monthrange(first.year, last_month)[1])
        code = f"{first.year:04d}-{first.month:02d}" if months == 1 else f"{first.year:04d}-Q{last_month // 3}"
        clipped_end = min(last, end)
        due = _days_after(clipped_end, days=due_days, code=code)
        tranches.append(TranchePeriod(code=code, start=max(first, start), end=clipped_end, due=due))
        if last >= end:
            return tuple(tranches)
        first = last + timedelta(days=1)


def _days_after(day: date, *, days: int, code: str) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise TermsError("due_days", f"puts tranche {code}'s due date past the year 9999") from None


# --- Claims ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One worker's claim to have achieved one metric; only ``verified`` claims are paid."""

    id: str
    metric: str
    worker: str
    achieved_on: date | None
    verified_on: date | None
    status: str

    def __post_init__(self) -> None:
        for field in ("id", "metric", "worker"):
            if not getattr(self, field):
                raise TermsError(field, "must not be empty")
        if self.status not in CLAIM_STATUSES:
            raise TermsError("status", f"must be one of {', '.join(CLAIM_STATUSES)}")
        if self.status == VERIFIED and self.verified_on is None:
            raise TermsError("verified_on", "is required for a verified claim")


def validate_claims(*, terms: Terms, claims: Sequence[Claim]) -> None:
    """Every claim names a metric of the terms, and no two claims share an id."""
    codes = {metric.code for metric in terms.metrics}
    seen: set[str] = set()
    for index, claim in enumerate(claims):
        if claim.metric not in codes:
            raise TermsError(f"claims[{index}].metric", f"unknown metric {claim.metric!r}")
        if claim.id in seen:
            raise TermsError(f"claims[{index}].id", f"duplicate claim id {claim.id!r}")
        seen.add(claim.id)


# --- The schedule ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One candidate claim in a tranche: ``amount`` paid, ``capped`` withheld by ``reason``."""

    claim: str
    metric: str
    worker: str
    amount: Decimal
    capped: Decimal
    reason: Reason | None

    @property
    def full(self) -> Decimal:
        """What the line would pay under no limit: the (rounded) price of its unit."""
        return self.amount + self.capped


@dataclass(frozen=True)
class Unpaid:
    """A verified claim that yields no line: ``lapsed`` or ``not_payable``, with the reason."""

    claim: str
    metric: str
    worker: str
    reason: Reason


@dataclass(frozen=True)
class TrancheResult:
    """A tranche's lines in candidate order; ``total`` is the sum of their rounded amounts."""

    period: TranchePeriod
    lines: tuple[Line, ...]
    total: Decimal


@dataclass(frozen=True)
class Schedule:
    """Every tranche of the terms, in order and empty ones too, and the verified claims that got no line."""

    currency: str
    tranches: tuple[TrancheResult, ...]
    lapsed: tuple[Unpaid, ...]
    not_payable: tuple[Unpaid, ...]
    total: Decimal


def compute_schedule(*, terms: Terms, claims: Sequence[Claim]) -> Schedule:
    """Apply rules 1-5 to the verified claims, in order of ``verified_on`` then position in ``claims``.

    ``not_payable`` and ``lapsed`` are listed in that same order.
    """
    validate_claims(terms=terms, claims=claims)
    # sorted() is stable, so claims verified on the same day keep their position in the list.
    verified = sorted((claim for claim in claims if claim.status == VERIFIED), key=_verified_on)
    payable = [claim for claim in verified if terms.start <= _verified_on(claim) <= terms.end]
    # Rule 1: the others are not payable and count for nothing below, thresholds included.
    not_payable = tuple(
        _unpaid(claim, Reason.OUTSIDE_CONTRACT_PERIOD)
        for claim in verified
        if not terms.start <= _verified_on(claim) <= terms.end
    )
    metrics = {metric.code: metric for metric in terms.metrics}
    verified_dates = _verified_dates(payable)
    allocator = _Allocator(terms=terms)
    arrivals = deque(payable)
    held: list[Claim] = []
    results = []
    for period in terms.tranches:
        # Rule 2: held claims were verified in earlier tranches, so held + arrivals is still in order.
        candidates, held, lines = held, [], []
        while arrivals and _verified_on(arrivals[0]) <= period.end:
            candidates.append(arrivals.popleft())
        for claim in candidates:
            metric = metrics[claim.metric]
            if _threshold_met(metric, at=period.end, verified_dates=verified_dates):
                lines.append(allocator.line(claim=claim, metric=metric))
            else:
                held.append(claim)
        results.append(TrancheResult(period=period, lines=tuple(lines), total=_sum(lines, terms.currency)))
    return Schedule(
        currency=terms.currency,
        tranches=tuple(results),
        lapsed=tuple(_unpaid(claim, Reason.THRESHOLD_NOT_MET) for claim in held),
        not_payable=not_payable,
        total=_sum([line for result in results for line in result.lines], terms.currency),
    )


def _verified_on(claim: Claim) -> date:
    assert claim.verified_on is not None  # a verified claim has one, checked by Claim
    return claim.verified_on


def _unpaid(claim: Claim, reason: Reason) -> Unpaid:
    return Unpaid(claim=claim.id, metric=claim.metric, worker=claim.worker, reason=reason)


def _sum(lines: Sequence[Line], currency: str) -> Decimal:
    # The lines are already rounded, so the sum is exact; quantize only gives an empty sum its decimals.
    return quantize(sum((line.amount for line in lines), Decimal(0)), currency)


def _verified_dates(claims: Sequence[Claim]) -> Mapping[str, list[date]]:
    """Each metric's ``verified_on`` dates, sorted, for counting claims verified up to a day."""
    dates: defaultdict[str, list[date]] = defaultdict(list)
    for claim in claims:  # already in verified_on order
        dates[claim.metric].append(_verified_on(claim))
    return dates


def _threshold_met(metric: Metric, *, at: date, verified_dates: Mapping[str, list[date]]) -> bool:
    """Rule 3: cumulative verified claims of the metric over its denominator's, both up to ``at``."""
    if metric.threshold_rate is None or metric.denominator is None:
        return True
    denominator = _count_until(verified_dates.get(metric.denominator, []), at)
    if denominator == 0:
        return False
    numerator = _count_until(verified_dates.get(metric.code, []), at)
    # Fractions compare exactly; a Decimal division would round at the context's precision.
    return Fraction(numerator, denominator) >= Fraction(metric.threshold_rate)


def _count_until(dates: list[date], day: date) -> int:
    return bisect_right(dates, day)


class _Allocator:
    """Rule 4: the running counts behind the unit and amount limits, as lines are allocated in order.

    Reading of "counted unit": a line becomes the metric's next counted unit as soon as no *unit*
    limit stops it; the amount limits apply afterwards and only cut what it pays. So a unit paid 0 because
    ``cap_amount`` or ``cap_total`` ran out is still counted: it uses up one of the worker's
    ``max_units_per_worker`` and one of the metric's ``cap_units``, and moves the tier price on.
    """

    def __init__(self, *, terms: Terms) -> None:
        self._currency = terms.currency
        self._cap_total = terms.cap_total
        self._paid_total = Decimal(0)
        self._units: defaultdict[str, int] = defaultdict(int)
        self._worker_units: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._paid: defaultdict[str, Decimal] = defaultdict(Decimal)
        self._rounded: dict[Decimal, Decimal] = {}  # price -> price rounded to the currency: few distinct ones

    def line(self, *, claim: Claim, metric: Metric) -> Line:
        counted = self._units[metric.code]
        # A line stopped by a unit limit is shown at the price its metric's next counted unit would have.
        price = metric.unit_price(counted + 1)
        full = self._rounded.get(price)
        if full is None:
            full = self._rounded[price] = quantize(price, self._currency)
        if self._worker_units[(metric.code, claim.worker)] >= metric.max_units_per_worker:
            return self._line(claim, full=full, paid=Decimal(0), reason=Reason.MAX_UNITS_PER_WORKER)
        if metric.cap_units is not None and counted >= metric.cap_units:
            return self._line(claim, full=full, paid=Decimal(0), reason=Reason.CAP_UNITS)
        self._units[metric.code] += 1
        self._worker_units[(metric.code, claim.worker)] += 1
        paid, reason = full, None
        if metric.cap_amount is not None:
            paid, reason = _limit(
                paid, reason, room=metric.cap_amount - self._paid[metric.code], limit=Reason.CAP_AMOUNT
            )
        if self._cap_total is not None:
            paid, reason = _limit(paid, reason, room=self._cap_total - self._paid_total, limit=Reason.CAP_TOTAL)
        self._paid[metric.code] += paid
        self._paid_total += paid
        return self._line(claim, full=full, paid=paid, reason=reason)

    def _line(self, claim: Claim, *, full: Decimal, paid: Decimal, reason: Reason | None) -> Line:
        # Unlimited, a line pays ``full``, already rounded; a limit may leave any amount of room.
        amount = paid if paid is full else quantize(paid, self._currency)
        return Line(
            claim=claim.id,
            metric=claim.metric,
            worker=claim.worker,
            amount=amount,
            capped=full - amount,  # both rounded: exact, with the currency's decimals
            reason=reason,
        )


def _limit(amount: Decimal, reason: Reason | None, *, room: Decimal, limit: Reason) -> tuple[Decimal, Reason | None]:
    """Pay at most ``room``; ``limit`` becomes the reason only if it cut the amount.

    ``room`` is never below 0, as "never below 0" requires: no line pays more than the room it had.
    """
    if amount > room:
        return room, limit
    return amount, reason
