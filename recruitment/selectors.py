"""Reads that combine recruitment, workers and financing: the recruiter's scorecard.

``recruiter_scorecards`` aggregates in the database in a constant number of queries (eight, whatever the
number of recruiters, workers, claims or lines), one ``GROUP BY`` per figure. The figures:

- **workers by stage**: the count of the recruiter's workers at each current stage (every stage listed).
- **placement rate**: *placed* / *past screening*, over current stages. Placed: deployed, working,
  completed, returned or separated early (every one of them reached deployment). Past screening: placed, or
  at a stage between screening and deployment (in training … visa issued), or visa denied. Workers still
  registered or screened are not yet decided; withdrawn and not selected are left out of both (the current
  stage does not say how far they got). Null when no worker is past screening.
- **180-day retention rate**: over the recruiter's workers with an employment that started at least 180 days
  ago (*eligible*), those with such an employment that lasted 180 days with no separation before day 180
  (*retained*: no end date, or an end on or after day 180) — the rule automatic verification applies to a
  ``RETAINED_N`` claim with N = 180, computed from employments whether or not a claim was made. Null when no
  worker is eligible.
- **fees reported**: workers with any fee above zero, and the sums of fees above zero by ILO category and
  currency (the pilots are zero-fee: every one is a finding).
- **claims by status**: the claims a recruiter sees (its workers, under contracts it provides); of those still
  claimed, *in review* counts the ones an automatic rule sent to staff (evidence for and against).
- **amounts**, by currency of its contracts as provider: *verified* (every payment line, adjustments
  included), *due* (lines in open tranches), *approved* (lines in approved or paid tranches) and *paid*
  (disbursements).

Given ``payer_id`` (a funder reading the scorecard), claims and amounts count only the contracts that payer
pays: a funder never learns what another payer's contract pays. The worker figures stay whole.

The dashboard's pages add ``scorecard_recruiters`` (which recruiters a viewer may read a scorecard of),
``recruiter_pilots`` (the pilots a recruiter is assigned to, as the viewer may see them) and
``licence_status`` (whether a recruiter's licence has expired or is about to).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DateField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from financing.models import ClaimStatus, Disbursement, OutcomeClaim, PaymentLine, RbfContract, TrancheStatus
from financing.selectors import ScheduleAmounts
from pilots.models import Pilot
from pilots.querysets import tenancy_of
from recruitment.models import FeeReport, Recruiter, RecruiterAssignment
from workers.models import Employment, Worker
from workers.stages import Stage

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

    payer = {} if payer_id is None else {"tranche__contract__payer_id": payer_id}

    def amounts(card: Scorecard, currency: str) -> Amounts:
        return card.amounts.setdefault(currency, Amounts(currency=currency))

    lines = (
        PaymentLine.objects.filter(tranche__contract__provider_id__in=by_organisation, **payer)
        .values("tranche__contract__provider_id", "tranche__contract__currency")
        .annotate(
            verified=Sum("amount"),
            due=Sum("amount", filter=Q(tranche__status=TrancheStatus.OPEN)),
            approved=Sum("amount", filter=~Q(tranche__status=TrancheStatus.OPEN)),
        )
        .order_by()
    )
    for row in lines:
        entry = amounts(by_organisation[row["tranche__contract__provider_id"]], row["tranche__contract__currency"])
        entry.verified, entry.due, entry.approved = (row[k] or Decimal(0) for k in ("verified", "due", "approved"))

    paid = (
        Disbursement.objects.filter(tranche__contract__provider_id__in=by_organisation, **payer)
        .values("tranche__contract__provider_id", "tranche__contract__currency")
        .annotate(paid=Sum("amount"))
        .order_by()
    )
    for row in paid:
        amounts(by_organisation[row["tranche__contract__provider_id"]], row["tranche__contract__currency"]).paid = row[
            "paid"
        ]

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


def scorecard_totals(cards: list[Scorecard]) -> Scorecard:
    """The figures of several scorecards added up (no query): counts and amounts summed, rates recomputed from
    the summed numerators and denominators, fees summed by ILO category and currency."""
    total = Scorecard(recruiter_id=0, organisation_id=0, name="All recruiters shown")
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
            entry = total.amounts.setdefault(currency, Amounts(currency=currency))
            entry.verified += amounts.verified
            entry.due += amounts.due
            entry.approved += amounts.approved
            entry.paid += amounts.paid
    total.fees = [fees[key] for key in sorted(fees)]
    return total
