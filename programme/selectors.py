"""Reads across the apps, for the pages and API answers that combine them: the recruiter scorecards, the
overview of every pilot and one pilot's page, and one worker's page with the claims made for them.

This is the top layer: it may read every app below it (``pilots``, ``recruitment``, ``workers``,
``financing``), and none of them reads it. Each figure is aggregated in the database, one ``GROUP BY`` per
figure, so a page runs the same number of queries whatever the number of pilots, workers, claims,
contracts or payment lines.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, DateField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_countries import countries

from financing.models import ClaimStatus, OutcomeClaim, RbfContract, Tranche
from financing.selectors import ScheduleAmounts, tranche_rows
from lamp.tenancy import tenancy_of
from pilots.models import Pilot
from pilots.stages import EXIT_FROM, EXITS, PATH, Stage
from recruitment.models import Recruiter, RecruiterAssignment
from workers.models import CheckIn, Employment, FeeReport, Worker
from workers.selectors import WorkerDetail, worker_detail

# --- Recruiter scorecards ----------------------------------------------------------------------------------
#
# Reads that combine recruitment, workers and financing: the recruiter's scorecard.
#
# ``recruiter_scorecards`` aggregates in the database in a constant number of queries (eight, whatever the
# number of recruiters, workers, claims or lines), one ``GROUP BY`` per figure. The figures:
#
# - **workers by stage**: the count of the recruiter's workers at each current stage (every stage listed).
# - **placement rate**: *placed* / *past screening*, over current stages. Placed: deployed, working,
#   completed, returned or separated early (every one of them reached deployment). Past screening: placed, or
#   at a stage between screening and deployment (in training … visa issued), or visa denied. Workers still
#   registered or screened are not yet decided; withdrawn and not selected are left out of both (the current
#   stage does not say how far they got). Null when no worker is past screening.
# - **180-day retention rate**: over the recruiter's workers with an employment that started at least 180 days
#   ago (*eligible*), those with such an employment that lasted 180 days with no separation before day 180
#   (*retained*: no end date, or an end on or after day 180) — the rule automatic verification applies to a
#   ``RETAINED_N`` claim with N = 180, computed from employments whether or not a claim was made. Null when no
#   worker is eligible.
# - **fees reported**: workers with any fee above zero, and the sums of fees above zero by ILO category and
#   currency (the pilots are zero-fee: every one is a finding).
# - **claims by status**: the claims a recruiter sees (its workers, under contracts it provides); of those still
#   claimed, *in review* counts the ones an automatic rule sent to staff (evidence for and against).
# - **amounts**, by currency of its contracts as provider, in the platform's one vocabulary of money
#   (``financing.selectors.ScheduleAmounts``): *verified*, the sum of *paid*, *awaiting payment* and *due*
#   (less anything *owed by the provider*).
#
# Given ``payer_id`` (a funder reading the scorecard), claims and amounts count only the contracts that payer
# pays: a funder never learns what another payer's contract pays. The worker figures stay whole.
#
# The dashboard's pages add ``scorecard_recruiters`` (which recruiters a viewer may read a scorecard of),
# ``recruiter_pilots`` (the pilots a recruiter is assigned to, as the viewer may see them) and
# ``licence_status`` (whether a recruiter's licence has expired or is about to).

RETENTION_DAYS = 180
PLACED_STAGES = frozenset({Stage.DEPLOYED, Stage.WORKING, Stage.COMPLETED, Stage.RETURNED, Stage.SEPARATED_EARLY})
PAST_SCREENING_STAGES = PLACED_STAGES | {
    Stage.IN_TRAINING,
    Stage.TRAINED,
    Stage.MATCHED,
    Stage.VISA_PENDING,
    Stage.VISA_ISSUED,
    Stage.VISA_DENIED,
}
RATE_PLACES = Decimal("0.0001")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` to four places, half-up; ``None`` when the denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES)


@dataclass
class Amounts(ScheduleAmounts):
    """A schedule's amounts in one currency."""

    currency: str


@dataclass
class FeeTotal:
    category: str
    currency: str
    amount: Decimal
    reports: int


@dataclass
class WorkerFigures:
    """The outcomes of a group of workers — a recruiter's (``Scorecard``), a pilot's, a recruiter's in a pilot —
    with the one definition of placement, retention and fee rates."""

    workers_by_stage: dict[str, int] = field(default_factory=lambda: {stage.value: 0 for stage in Stage})
    retention_eligible: int = 0
    retention_retained: int = 0
    workers_with_fees: int = 0

    @property
    def workers(self) -> int:
        return sum(self.workers_by_stage.values())

    @property
    def placed(self) -> int:
        return sum(self.workers_by_stage[stage] for stage in PLACED_STAGES)

    @property
    def past_screening(self) -> int:
        return sum(self.workers_by_stage[stage] for stage in PAST_SCREENING_STAGES)

    @property
    def placement_rate(self) -> Decimal | None:
        return rate(self.placed, self.past_screening)

    @property
    def retention_rate(self) -> Decimal | None:
        return rate(self.retention_retained, self.retention_eligible)

    @property
    def fee_rate(self) -> Decimal | None:
        """The share of the workers who reported any fee above zero (the pilots are zero-fee)."""
        return rate(self.workers_with_fees, self.workers)

    def add(self, other: WorkerFigures) -> None:
        for stage, n in other.workers_by_stage.items():
            self.workers_by_stage[stage] += n
        self.retention_eligible += other.retention_eligible
        self.retention_retained += other.retention_retained
        self.workers_with_fees += other.workers_with_fees


@dataclass(kw_only=True)
class Scorecard(WorkerFigures):
    recruiter_id: int
    organisation_id: int
    name: str
    fees: list[FeeTotal] = field(default_factory=list)
    claims_by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in ClaimStatus})
    claims_in_review: int = 0
    amounts: dict[str, Amounts] = field(default_factory=dict)


def retention_counts(
    employments: QuerySet[Employment], *, key: str, today: datetime.date
) -> Iterator[tuple[Any, int, int]]:
    """The 180-day retention rule over ``employments``, grouped by ``key``: ``(key's value, eligible, retained)``.

    Eligible: workers with an employment that started ``RETENTION_DAYS`` or more ago. Retained: those with
    such an employment that had no end before its day ``RETENTION_DAYS``. One ``GROUP BY``.
    """
    day_n = ExpressionWrapper(F("start_date") + datetime.timedelta(days=RETENTION_DAYS), output_field=DateField())
    rows = (
        employments.filter(start_date__lte=today - datetime.timedelta(days=RETENTION_DAYS))
        .annotate(day_n=day_n)
        .values(key)
        .annotate(
            eligible=Count("worker_id", distinct=True),
            retained=Count("worker_id", distinct=True, filter=Q(end_date__isnull=True) | Q(end_date__gte=F("day_n"))),
        )
        .order_by()
    )
    for row in rows:
        yield row[key], row["eligible"], row["retained"]


def recruiter_scorecards(
    *,
    recruiters: list[Recruiter] | None = None,
    recruiter_ids: list[int] | None = None,
    today: datetime.date | None = None,
    payer_id: int | None = None,
) -> list[Scorecard]:
    """The scorecards of the given recruiters (profiles), in order of name; every figure is database-side.

    Pass ``recruiters`` (already loaded, with their organisation) or ``recruiter_ids`` (one query more).
    With ``payer_id``, claims and amounts count only the contracts that organisation pays.
    """
    today = today or timezone.localdate()
    if recruiters is None:
        recruiters = list(
            Recruiter.objects.filter(pk__in=recruiter_ids or [])
            .select_related("organisation")
            .order_by("organisation__name", "pk")
        )
    cards = {
        r.pk: Scorecard(recruiter_id=r.pk, organisation_id=r.organisation_id, name=r.organisation.name)
        for r in recruiters
    }
    if not cards:
        return []
    ids = list(cards)
    by_organisation = {card.organisation_id: card for card in cards.values()}

    stages = Worker.objects.filter(recruiter_id__in=ids).values("recruiter_id", "current_stage")
    for row in stages.annotate(n=Count("id")).order_by():
        cards[row["recruiter_id"]].workers_by_stage[row["current_stage"]] = row["n"]

    employments = Employment.objects.filter(worker__recruiter_id__in=ids)
    for recruiter_id, eligible, retained in retention_counts(employments, key="worker__recruiter_id", today=today):
        cards[recruiter_id].retention_eligible, cards[recruiter_id].retention_retained = eligible, retained

    fees = FeeReport.objects.filter(recruiter_id__in=ids, amount__gt=0)
    for row in fees.values("recruiter_id").annotate(n=Count("worker_id", distinct=True)).order_by():
        cards[row["recruiter_id"]].workers_with_fees = row["n"]
    totals = (
        fees.values("recruiter_id", "category", "currency")
        .annotate(amount=Sum("amount"), reports=Count("id"))
        .order_by("recruiter_id", "category", "currency")
    )
    for row in totals:
        cards[row["recruiter_id"]].fees.append(
            FeeTotal(category=row["category"], currency=row["currency"], amount=row["amount"], reports=row["reports"])
        )

    claims = OutcomeClaim.objects.filter(
        worker__recruiter_id__in=ids, metric__contract__provider_id=F("worker__recruiter__organisation_id")
    )
    if payer_id is not None:
        claims = claims.filter(metric__contract__payer_id=payer_id)
    claims = (
        claims.values("worker__recruiter_id", "status")
        .annotate(n=Count("id"), in_review=Count("id", filter=Q(in_review=True, status=ClaimStatus.CLAIMED)))
        .order_by()
    )
    for row in claims:
        card = cards[row["worker__recruiter_id"]]
        card.claims_by_status[row["status"]] = row["n"]
        card.claims_in_review += row["in_review"]

    payer = {} if payer_id is None else {"contract__payer_id": payer_id}

    def amounts(card: Scorecard, currency: str) -> Amounts:
        return card.amounts.setdefault(currency, Amounts(currency=currency))

    tranches = Tranche.objects.filter(contract__provider_id__in=by_organisation, **payer)
    for row in tranche_rows(tranches=tranches):
        amounts(by_organisation[row.provider_id], row.currency).add_tranche(
            status=row.status, total=row.total, paid=row.paid
        )

    return list(cards.values())


# --- The dashboard's scorecard pages ---------------------------------------------------------------------

#: A licence expiring within this many days is flagged on the scorecard.
LICENCE_WARNING_DAYS = 90


def scorecard_recruiters(*, user: Any, pilot_id: int | None = None) -> QuerySet[Recruiter]:
    """The recruiters whose scorecard ``user`` may read, with their organisation, in order of name.

    Program staff: every recruiter. A recruiter user: its own profile. A funder: the recruiters providing a
    contract it pays. Anyone else: none. With ``pilot_id``, only the recruiters assigned to that pilot.
    """
    tenancy = tenancy_of(user)
    recruiters = Recruiter.objects.select_related("organisation").order_by("organisation__name", "pk")
    if tenancy.staff:
        pass
    elif tenancy.recruiter is not None:
        recruiters = recruiters.filter(organisation_id=tenancy.recruiter)
    elif tenancy.funder is not None:
        pays = RbfContract.objects.filter(provider_id=OuterRef("organisation_id"), payer_id=tenancy.funder)
        recruiters = recruiters.filter(Exists(pays))
    else:
        return recruiters.none()
    if pilot_id is not None:
        assigned = RecruiterAssignment.objects.filter(recruiter_id=OuterRef("pk"), pilot_id=pilot_id)
        recruiters = recruiters.filter(Exists(assigned))
    return recruiters


def recruiter_pilots(*, recruiter: Recruiter, user: Any) -> list[RecruiterAssignment]:
    """The recruiter's pilot assignments among the pilots ``user`` sees, in one query, in order of pilot name.

    Each assignment carries its ``pilot`` and two annotations: ``workers`` (the recruiter's workers in that
    pilot) and ``contract_id`` / ``contract_reference`` (a contract of that pilot the recruiter provides
    and ``user`` may see, the earliest; ``None`` when there is none).
    """
    workers = (
        Worker.objects.filter(recruiter_id=recruiter.pk, pilot_id=OuterRef("pilot_id"))
        .order_by()
        .values("pilot_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    contracts = (
        RbfContract.objects.visible_to(user)
        .filter(pilot_id=OuterRef("pilot_id"), provider_id=recruiter.organisation_id)
        .order_by("start_date", "pk")
    )
    return list(
        RecruiterAssignment.objects.filter(recruiter=recruiter, pilot__in=Pilot.objects.visible_to(user).values("pk"))
        .select_related("pilot")
        .annotate(
            workers=Coalesce(Subquery(workers), 0),
            contract_id=Subquery(contracts.values("pk")[:1]),
            contract_reference=Subquery(contracts.values("reference")[:1]),
        )
        .order_by("pilot__name", "pk")
    )


@dataclass(frozen=True)
class LicenceStatus:
    """Whether a licence is valid on a day: ``state`` is ``valid``, ``expiring``, ``expired`` or ``unknown``."""

    state: str
    days_left: int | None = None

    @property
    def needs_attention(self) -> bool:
        return self.state in {"expiring", "expired"}

    @property
    def days_since_expiry(self) -> int | None:
        return -self.days_left if self.state == "expired" and self.days_left is not None else None


def licence_status(*, recruiter: Recruiter, today: datetime.date | None = None) -> LicenceStatus:
    """Expired (the expiry date has passed), expiring (within ``LICENCE_WARNING_DAYS``), valid, or unknown
    (no expiry date recorded)."""
    today = today or timezone.localdate()
    expires = recruiter.licence_expires_on
    if expires is None:
        return LicenceStatus("unknown")
    days_left = (expires - today).days
    if days_left < 0:
        return LicenceStatus("expired", days_left)
    if days_left <= LICENCE_WARNING_DAYS:
        return LicenceStatus("expiring", days_left)
    return LicenceStatus("valid", days_left)


#: Figures from what workers reported reach a recruiter only when at least this many workers reported: below
#: it, a recruiter could tell which of its workers spoke.
MIN_REPORTING_WORKERS = 5


def fees_withheld(card: Scorecard) -> bool:
    """Whether a recruiter reading its own scorecard sees its fee figures withheld: some worker reported a fee,
    but fewer than ``MIN_REPORTING_WORKERS`` did."""
    return 0 < card.workers_with_fees < MIN_REPORTING_WORKERS


def scorecard_totals(cards: list[Scorecard]) -> Scorecard:
    """The figures of several scorecards added up (no query): counts and amounts summed, rates recomputed from
    the summed numerators and denominators, fees summed by ILO category and currency."""
    total = Scorecard(recruiter_id=0, organisation_id=0, name=_("All recruiters shown"))
    fees: dict[tuple[str, str], FeeTotal] = {}
    for card in cards:
        total.add(card)
        for fee in card.fees:
            entry = fees.setdefault(
                (fee.category, fee.currency),
                FeeTotal(category=fee.category, currency=fee.currency, amount=Decimal(0), reports=0),
            )
            entry.amount += fee.amount
            entry.reports += fee.reports
        for status, n in card.claims_by_status.items():
            total.claims_by_status[status] = total.claims_by_status.get(status, 0) + n
        total.claims_in_review += card.claims_in_review
        for currency, amounts in card.amounts.items():
            total.amounts.setdefault(currency, Amounts(currency=currency)).add(amounts)
    total.fees = [fees[key] for key in sorted(fees)]
    return total


# --- The overview and the pilot page -----------------------------------------------------------------------
#
# Reads for the dashboard's overview and pilot page: funnels, outcomes and money, per pilot and per recruiter.
#
# Every figure is aggregated in the database, one ``GROUP BY`` per figure, so a page runs the same number of
# queries whatever the number of pilots, workers, claims, contracts or payment lines.
#
# The rates are the scorecard's (above): its ``PLACED_STAGES``, ``PAST_SCREENING_STAGES``,
# ``RETENTION_DAYS`` and ``rate``, grouped here by pilot, or by recruiter within one pilot, instead of by
# recruiter over every pilot; a pilot's retention is that of the employments in its job openings. Money
# follows the scorecard too: *verified* is every payment line (adjustments included), *due* the lines of
# open tranches, *approved* those of approved or paid tranches, *paid* the disbursements; per currency,
# since a pilot's contracts may pay in several.
#
# What a viewer sees follows the ``visible_to(user)`` querysets: the pilots, and only the contracts (with
# their lines, disbursements and claims) the viewer may see; a funder, the contracts it pays. The worker
# figures are counts over the pilot's workers, never a name.

ZERO = Decimal(0)


# --- Figures ------------------------------------------------------------------------------------------------


#: The overview's and pilot page's amounts: one currency's, summed over contracts with their caps.
CappedAmounts = Amounts


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

    # The scorecard's retention rule (``retention_counts``, above), by pilot or by recruiter.
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
    """Each contract's money in the one vocabulary, against its cap, and its next open tranche.

    One query: the contracts' tranches with the sums of their lines and payments (``tranche_rows``).
    """
    summaries = [
        ContractSummary(contract=contract, amounts=CappedAmounts(currency=contract.currency)) for contract in contracts
    ]
    if not summaries:
        return []
    today = timezone.localdate()
    by_contract = {summary.contract.pk: summary for summary in summaries}
    for summary in summaries:
        summary.amounts.add_contract(cap_total=summary.contract.cap_total)
    for row in tranche_rows(tranches=Tranche.objects.filter(contract_id__in=by_contract)):
        summary = by_contract[row.contract_id]
        is_open = summary.amounts.add_tranche(
            status=row.status, total=row.total, paid=row.paid, overdue=row.overdue(today)
        )
        if is_open and summary.next_tranche is None:
            summary.next_tranche = TrancheSummary(
                code=row.code, start_date=row.start_date, end_date=row.end_date, due_date=row.due_date, total=row.total
            )
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
    def chart(self) -> dict[str, Any]:
        """What the pilot page's chart draws (embedded with ``json_script``, read by ``lamp/charts.js``): the
        months as the active language writes them, and each metric's verified claims in each month."""
        return {
            "labels": [date_format(month.month, "M Y") for month in self.months],
            "series": [{"label": code, "data": counts} for code, counts, _total in self.by_metric],
        }

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
class CheckInResponse:
    """Check-ins sent to workers and how many they answered: the reach of the workers' own voice."""

    sent: int = 0
    answered: int = 0

    @property
    def rate(self) -> Decimal | None:
        return rate(self.answered, self.sent)


@dataclass
class RecruiterRow:
    recruiter: Recruiter
    quota: int | None
    figures: WorkerFigures
    amounts: list[CappedAmounts]  # verified, due and paid under the contracts it provides that the viewer sees
    provides_contract: bool  # provides one of the contracts the viewer sees (a funder reads only their scorecards)
    check_ins: CheckInResponse = field(default_factory=CheckInResponse)


@dataclass
class PilotPage:
    pilot: Pilot
    figures: WorkerFigures
    funnel: list[FunnelBar]
    outcomes: OutcomesOverTime
    recruiters: list[RecruiterRow]
    contracts: list[ContractSummary]
    check_ins: CheckInResponse = field(default_factory=CheckInResponse)

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

    Eight queries: three for the worker figures (by recruiter; the pilot's are their sums), the recruiters,
    the contracts, their tranches, the verified claims by month and metric, and the check-ins answered.
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
    responses = check_in_responses(pilot_id=pilot.pk)
    recruiter_rows = [
        RecruiterRow(
            recruiter=recruiter,
            quota=recruiter.quota,
            figures=by_recruiter.get(recruiter.pk) or WorkerFigures(),
            amounts=_sorted(provided.get(recruiter.organisation_id, {})),
            provides_contract=recruiter.organisation_id in provided,
            check_ins=responses.get(recruiter.pk) or CheckInResponse(),
        )
        for recruiter in recruiters
    ]
    total = CheckInResponse(
        sent=sum(r.sent for r in responses.values()), answered=sum(r.answered for r in responses.values())
    )

    return PilotPage(
        pilot=pilot,
        figures=figures,
        funnel=funnel(required_stages=pilot.required_stages, workers_by_stage=figures.workers_by_stage),
        outcomes=_outcomes_over_time(contract_ids=[summary.contract.pk for summary in contracts]),
        recruiters=recruiter_rows,
        contracts=contracts,
        check_ins=total,
    )


def check_in_responses(*, pilot_id: int) -> dict[int, CheckInResponse]:
    """The check-ins sent to a pilot's workers and answered, by the workers' recruiter; one query. Counts only:
    which worker answered, or what, is not among them."""
    rows = (
        CheckIn.objects.filter(worker__pilot_id=pilot_id)
        .order_by()
        .values_list("worker__recruiter_id")
        .annotate(sent=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    )
    return {recruiter_id: CheckInResponse(sent=sent, answered=answered) for recruiter_id, sent, answered in rows}


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


# --- One worker's page ------------------------------------------------------------------------------------


@dataclass
class WorkerPage(WorkerDetail):
    """A worker's record (``workers.selectors.worker_detail``) and the outcome claims made for them."""

    claims: list[OutcomeClaim] = field(default_factory=list)


def worker_page(*, user: Any, pk: int) -> WorkerPage:
    """Worker ``pk`` as ``user`` may see them, with every fact about them (``worker_detail``) and their claims,
    newest first: eight queries whatever their number. ``Worker.DoesNotExist`` when ``user`` does not see the
    worker, or there is none."""
    detail = worker_detail(user=user, pk=pk)
    claims = list(
        OutcomeClaim.objects.filter(worker=detail.worker)
        .select_related("metric__contract")
        .order_by("-achieved_on", "-id")
    )
    return WorkerPage(**{f.name: getattr(detail, f.name) for f in fields(detail)}, claims=claims)
