"""Reads for the dashboard's overview and pilot page: funnels, outcomes and money, per pilot and per recruiter.

Every figure is aggregated in the database, one ``GROUP BY`` per figure, so a page runs the same number of
queries whatever the number of pilots, workers, claims, contracts or payment lines.

The rates are the scorecard's (``recruitment.selectors``): its ``PLACED_STAGES``, ``PAST_SCREENING_STAGES``,
``RETENTION_DAYS`` and ``rate``, grouped here by pilot, or by recruiter within one pilot, instead of by
recruiter over every pilot; a pilot's retention is that of the employments in its job openings. Money
follows the scorecard too: *verified* is every payment line (adjustments included), *due* the lines of
open tranches, *approved* those of approved or paid tranches, *paid* the disbursements; per currency,
since a pilot's contracts may pay in several.

What a viewer sees follows the ``visible_to(user)`` querysets: the pilots, and only the contracts (with
their lines, disbursements and claims) the viewer may see; a funder, the contracts it pays. The worker
figures are counts over the pilot's workers, never a name.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django_countries import countries

from financing.models import ClaimStatus, OutcomeClaim, PaymentLine, RbfContract, Tranche
from pilots.models import Pilot
from pilots.querysets import tenancy_of
from recruitment.models import FeeReport, Recruiter, RecruiterAssignment
from recruitment.selectors import Amounts, WorkerFigures, retention_counts
from workers.models import Employment, Worker
from workers.stages import EXIT_FROM, EXITS, PATH, Stage

ZERO = Decimal(0)


# --- Figures ------------------------------------------------------------------------------------------------


@dataclass
class CappedAmounts(Amounts):
    """The scorecard's amounts in one currency, with the cap of the contracts they are paid under."""

    cap: Decimal = ZERO
    contracts: int = 0
    uncapped: int = 0  # contracts without a total cap: then the amounts have no cap

    @property
    def cap_total(self) -> Decimal | None:
        """The sum of the contracts' caps; ``None`` when a contract has none (or there is no contract)."""
        return None if self.uncapped or not self.contracts else self.cap

    @property
    def scale(self) -> Decimal:
        """The full width of the progress bar: the cap, or with no cap the larger of verified and paid."""
        cap = self.cap_total
        return cap if cap else max(self.verified, self.paid, ZERO)

    def add(self, other: CappedAmounts) -> None:
        self.verified += other.verified
        self.due += other.due
        self.approved += other.approved
        self.paid += other.paid
        self.cap += other.cap
        self.contracts += other.contracts
        self.uncapped += other.uncapped


def _amounts(table: dict[str, CappedAmounts], currency: str) -> CappedAmounts:
    return table.setdefault(currency, CappedAmounts(currency=currency))


def _sorted(table: dict[str, CappedAmounts]) -> list[CappedAmounts]:
    return [table[currency] for currency in sorted(table)]


def corridor_names(pilot: Pilot) -> str:
    """``Guatemala, Mexico → United States of America``: the pilot's corridor with the countries' names."""
    origins = ", ".join(countries.name(code) or code for code in pilot.origin_countries)
    return f"{origins} → {pilot.destination_country.name}"


Dimension = Literal["pilot", "recruiter"]


def _worker_figures(*, by: Dimension, pilot_ids: list[int] | None, today: datetime.date) -> dict[int, WorkerFigures]:
    """The figures of the workers of the given pilots (``None``: of every pilot), keyed by pilot or by recruiter.

    Three queries, each one ``GROUP BY`` over what an index reaches:

    - workers by current stage, ``COUNT(*)`` over the ``(pilot, current_stage)`` index alone;
    - 180-day retention over the employments in the pilots' job openings, found through the employment index
      on ``(job_opening, start_date)`` rather than by reading every worker to learn its pilot;
    - workers with a fee above zero.
    """

    def of_pilots(path: str) -> dict[str, list[int]]:
        """The lookup that keeps the rows of the pilots, ``path`` leading to the pilot's id."""
        return {} if pilot_ids is None else {f"{path}__in": pilot_ids}

    figures: dict[int, WorkerFigures] = defaultdict(WorkerFigures)

    key = f"{by}_id"
    by_stage = Worker.objects.filter(**of_pilots("pilot_id")).values(key, "current_stage").annotate(n=Count("*"))
    for row in by_stage.order_by():
        figures[row[key]].workers_by_stage[row["current_stage"]] = row["n"]

    # The scorecard's retention rule (recruitment.selectors.retention_counts), by pilot or by recruiter.
    employments = Employment.objects.filter(**of_pilots("job_opening__pilot_id"))
    if by == "pilot":
        key = "job_opening__pilot_id"
    else:
        # The same employments (a worker's jobs are in its own pilot), said of the worker too: then PostgreSQL
        # reads only these pilots' workers, through their index, to learn their recruiters.
        key, employments = "worker__recruiter_id", employments.filter(**of_pilots("worker__pilot_id"))
    for value, eligible, retained in retention_counts(employments, key=key, today=today):
        figures[value].retention_eligible, figures[value].retention_retained = eligible, retained

    key = f"worker__{by}_id"
    fees = FeeReport.objects.filter(**of_pilots("worker__pilot_id"), amount__gt=0).values(key)
    for row in fees.annotate(n=Count("worker_id", distinct=True)).order_by():
        figures[row[key]].workers_with_fees = row["n"]
    return figures


@dataclass(frozen=True)
class TrancheSummary:
    code: str
    start_date: datetime.date
    end_date: datetime.date
    due_date: datetime.date
    total: Decimal


@dataclass
class ContractSummary:
    contract: RbfContract
    amounts: CappedAmounts
    next_tranche: TrancheSummary | None = None  # the earliest open tranche


def contract_summaries(*, contracts: list[RbfContract]) -> list[ContractSummary]:
    """Each contract's cap with its verified, due, approved and paid amounts, and its next open tranche.

    One query: the contracts' tranches, each with the sum of its lines (a subquery per tranche, which reads
    only that tranche's lines through their index) and its disbursement.
    """
    summaries = [
        ContractSummary(
            contract=contract,
            amounts=CappedAmounts(
                currency=contract.currency,
                cap=contract.cap_total or ZERO,
                contracts=1,
                uncapped=int(contract.cap_total is None),
            ),
        )
        for contract in contracts
    ]
    if not summaries:
        return []
    by_contract = {summary.contract.pk: summary for summary in summaries}
    lines = PaymentLine.objects.filter(tranche=OuterRef("pk")).order_by().values("tranche")
    tranches = (
        Tranche.objects.filter(contract_id__in=by_contract)
        .annotate(total=Subquery(lines.annotate(total=Sum("amount")).values("total")))
        .values("contract_id", "code", "start_date", "end_date", "due_date", "status", "total", "disbursement__amount")
        .order_by("contract_id", "start_date")
    )
    for row in tranches:
        summary = by_contract[row["contract_id"]]
        total = row["total"] or ZERO
        is_open = summary.amounts.add_tranche(status=row["status"], total=total, paid=row["disbursement__amount"])
        if is_open and summary.next_tranche is None:
            summary.next_tranche = TrancheSummary(
                code=row["code"], start_date=row["start_date"], end_date=row["end_date"],
                due_date=row["due_date"], total=total,
            )  # fmt: skip
    return summaries


# --- The overview ------------------------------------------------------------------------------------------


@dataclass
class PilotRow:
    pilot: Pilot
    figures: WorkerFigures
    amounts: list[CappedAmounts]

    @property
    def corridor_names(self) -> str:
        return corridor_names(self.pilot)


@dataclass
class Overview:
    rows: list[PilotRow]
    totals: WorkerFigures
    amounts: list[CappedAmounts]

    @property
    def stage_bars(self) -> list[tuple[str, int, bool]]:
        """Every stage as ``(stage, workers now at it, is an exit)``: the path in order, then the exits."""
        return [(stage.value, self.totals.workers_by_stage[stage], stage in EXITS) for stage in (*PATH, *EXITS)]

    @property
    def most_at_a_stage(self) -> int:
        return max(self.totals.workers_by_stage.values(), default=0)


def pilots_overview(*, user: Any, today: datetime.date | None = None) -> Overview:
    """Every pilot the user sees, with its worker figures and money per currency, and the totals over them.

    Six queries: the pilots, three for the worker figures, and the contracts the user sees with their tranches.
    """
    today = today or timezone.localdate()
    pilots = list(Pilot.objects.visible_to(user).select_related("sector").order_by("name"))
    ids = [pilot.pk for pilot in pilots]
    # Staff see every pilot: then no filter on the pilot at all, which lets PostgreSQL read the fee reports'
    # workers sequentially instead of through the pilot index (a third faster at 100,000 workers).
    every_pilot = tenancy_of(user).staff
    figures = _worker_figures(by="pilot", pilot_ids=None if every_pilot else ids, today=today) if ids else {}

    money: dict[int, dict[str, CappedAmounts]] = defaultdict(dict)
    contracts = list(RbfContract.objects.visible_to(user).filter(pilot_id__in=ids)) if ids else []
    for summary in contract_summaries(contracts=contracts):
        _amounts(money[summary.contract.pilot_id], summary.contract.currency).add(summary.amounts)

    rows = [
        PilotRow(pilot=pilot, figures=figures.get(pilot.pk) or WorkerFigures(), amounts=_sorted(money[pilot.pk]))
        for pilot in pilots
    ]
    totals = WorkerFigures()
    total_money: dict[str, CappedAmounts] = {}
    for row in rows:
        totals.add(row.figures)
        for entry in row.amounts:
            _amounts(total_money, entry.currency).add(entry)
    return Overview(rows=rows, totals=totals, amounts=_sorted(total_money))


# --- The pilot page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelBar:
    stage: str
    reached: int  # workers who reached at least this stage
    now: int  # workers at this stage now
    exit: bool = False


def funnel(*, required_stages: Iterable[str], workers_by_stage: dict[str, int]) -> list[FunnelBar]:
    """The pilot's funnel: for each required stage, in path order, the workers who reached at least that stage,
    then one bar per exit with the workers who left the journey by it.

    A worker reached a stage when its current stage is that stage or a later one of the path. A worker who
    left reached, at least, the earliest stage that exit may be taken from (``EXIT_FROM``): a denied visa
    was applied for (visa pending), an early separation followed a deployment; a withdrawal or a
    non-selection proves only the registration.
    """
    order = {stage: index for index, stage in enumerate(PATH)}
    # The furthest path stage each worker is known to have reached, as an index of PATH.
    known: dict[int, int] = defaultdict(int)
    for stage, n in workers_by_stage.items():
        if stage in order:
            known[order[stage]] += n
        elif stage in EXIT_FROM:
            known[min(order[start] for start in EXIT_FROM[stage])] += n
    required = sorted((Stage(stage) for stage in required_stages), key=order.__getitem__)
    bars = [
        FunnelBar(
            stage=stage.value,
            reached=sum(n for index, n in known.items() if index >= order[stage]),
            now=workers_by_stage.get(stage, 0),
        )
        for stage in required
    ]
    bars += [
        FunnelBar(
            stage=stage.value, reached=workers_by_stage.get(stage, 0), now=workers_by_stage.get(stage, 0), exit=True
        )
        for stage in EXITS
    ]
    return bars


@dataclass(frozen=True)
class MonthOutcomes:
    month: datetime.date
    counts: tuple[int, ...]  # verified claims of each metric, in the order of ``OutcomesOverTime.metrics``

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class OutcomesOverTime:
    metrics: list[str]
    months: list[MonthOutcomes]

    @property
    def most_in_a_month(self) -> int:
        return max((month.total for month in self.months), default=0)

    @property
    def by_metric(self) -> list[tuple[str, list[int], int]]:
        """Each metric with its verified claims in each month (in the order of ``months``) and in all."""
        rows = []
        for index, code in enumerate(self.metrics):
            counts = [month.counts[index] for month in self.months]
            rows.append((code, counts, sum(counts)))
        return rows

    @property
    def total(self) -> int:
        return sum(month.total for month in self.months)


def _months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


@dataclass
class RecruiterRow:
    recruiter: Recruiter
    quota: int | None
    figures: WorkerFigures
    amounts: list[CappedAmounts]  # verified, due and paid under the contracts it provides that the viewer sees
    provides_contract: bool  # provides one of the contracts the viewer sees (a funder reads only their scorecards)


@dataclass
class PilotPage:
    pilot: Pilot
    figures: WorkerFigures
    funnel: list[FunnelBar]
    outcomes: OutcomesOverTime
    recruiters: list[RecruiterRow]
    contracts: list[ContractSummary]

    @property
    def corridor_names(self) -> str:
        return corridor_names(self.pilot)

    @property
    def path_bars(self) -> list[FunnelBar]:
        """The funnel's bars of the pilot's required stages, without the exits."""
        return [bar for bar in self.funnel if not bar.exit]

    @property
    def funnel_scale(self) -> int:
        return max((bar.reached for bar in self.funnel), default=0)


def pilot_page(*, pilot: Pilot, user: Any, today: datetime.date | None = None) -> PilotPage:
    """A pilot's funnel, outcomes over time, recruiters side by side and contracts, as ``user`` may see them.

    Seven queries: three for the worker figures (by recruiter; the pilot's are their sums), the recruiters,
    the contracts, their tranches, and the verified claims by month and metric.
    """
    today = today or timezone.localdate()
    by_recruiter = _worker_figures(by="recruiter", pilot_ids=[pilot.pk], today=today)
    figures = WorkerFigures()
    for entry in by_recruiter.values():
        figures.add(entry)

    # The recruiters assigned to the pilot, and any other with workers in it (already counted above).
    assignments = RecruiterAssignment.objects.filter(pilot=pilot)
    recruiters = (
        Recruiter.objects.filter(Q(pk__in=list(by_recruiter)) | Q(pk__in=assignments.values("recruiter_id")))
        .annotate(quota=Subquery(assignments.filter(recruiter=OuterRef("pk")).values("quota")[:1]))
        .select_related("organisation")
        .order_by("organisation__name", "pk")
    )
    contracts = contract_summaries(
        contracts=list(
            RbfContract.objects.visible_to(user)
            .filter(pilot=pilot)
            .select_related("payer", "provider")
            .order_by("reference")
        )
    )

    provided: dict[int, dict[str, CappedAmounts]] = defaultdict(dict)
    for summary in contracts:
        _amounts(provided[summary.contract.provider_id], summary.contract.currency).add(summary.amounts)
    recruiter_rows = [
        RecruiterRow(
            recruiter=recruiter,
            quota=recruiter.quota,
            figures=by_recruiter.get(recruiter.pk) or WorkerFigures(),
            amounts=_sorted(provided.get(recruiter.organisation_id, {})),
            provides_contract=recruiter.organisation_id in provided,
        )
        for recruiter in recruiters
    ]

    return PilotPage(
        pilot=pilot,
        figures=figures,
        funnel=funnel(required_stages=pilot.required_stages, workers_by_stage=figures.workers_by_stage),
        outcomes=_outcomes_over_time(contract_ids=[summary.contract.pk for summary in contracts]),
        recruiters=recruiter_rows,
        contracts=contracts,
    )


def _outcomes_over_time(*, contract_ids: list[int]) -> OutcomesOverTime:
    """Verified claims of the contracts by month of verification and metric code, every month in between listed."""
    if not contract_ids:
        return OutcomesOverTime(metrics=[], months=[])
    rows = list(
        OutcomeClaim.objects.filter(metric__contract_id__in=contract_ids, status=ClaimStatus.VERIFIED)
        .values(month=TruncMonth("verified_on"), code=F("metric__code"))
        .annotate(n=Count("*"))
        .order_by("month", "code")
    )
    if not rows:
        return OutcomesOverTime(metrics=[], months=[])
    metrics = sorted({row["code"] for row in rows})
    counts: dict[tuple[datetime.date, str], int] = {(row["month"], row["code"]): row["n"] for row in rows}
    return OutcomesOverTime(
        metrics=metrics,
        months=[
            MonthOutcomes(month=month, counts=tuple(counts.get((month, code), 0) for code in metrics))
            for month in _months(rows[0]["month"], rows[-1]["month"])
        ],
    )
