"""Reads of the recruiter portal: what a partner recruiter has, seen through the API's tenancy.

Every read starts from a ``visible_to(user)`` queryset, exactly as the API's viewsets do, so a recruiter
sees its own workers, the claims about them under the contracts it provides, and those contracts with
their schedules; another organisation's row is absent (a 404 on a detail page). What the API withholds
from a recruiter, these reads never fetch: no fee report flag on a worker, no evidence, no check-in, and of
a claim's verifications only when and how each was decided; the reasons shown are the claim's own
``rejection_reason`` and ``reversal_reason`` and, for a claim that waits, its ``pending_reason`` — the
fields the API's claim serializer gives a recruiter, written for the provider to read (a fee finding names
its category, never who reported it). The reasons of a review and the facts weighed are staff's.

Money is read in the platform's one vocabulary (``financing.selectors``): the contract's amounts by
``contract_amounts`` and each tranche by ``tranche_rows``, counted with ``ScheduleAmounts.add_tranche``.
Each read runs a fixed number of queries, whatever the number of workers, claims or lines.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from financing import selectors as money
from financing.models import ClaimStatus, Decision, OutcomeClaim, RbfContract, Tranche, TrancheStatus, Verification
from lamp.models import ApiToken
from pilots.stages import EXITS, PATH
from recruitment.models import Recruiter
from workers.models import JourneyEvent, Worker
from workers.selectors import COUNT_LIMIT, Cursor, WorkerFilters, WorkerPage, worker_filter

#: Workers and claims on one page of the portal's lists.
PAGE_SIZE = 50
#: The tranches still to be paid shown per contract: "what will I be paid when".
UPCOMING_TRANCHES = 4

#: The claims list's filter values: a claim's status, or one of the two ways a claimed claim waits.
IN_REVIEW = "in_review"
WAITING = "waiting"
CLAIM_FILTERS: dict[str, Any] = {
    ClaimStatus.CLAIMED.value: _("Claimed (waiting or in review)"),
    WAITING: _("Waiting for evidence"),
    IN_REVIEW: _("In staff review"),
    ClaimStatus.VERIFIED.value: _("Verified"),
    ClaimStatus.REJECTED.value: _("Rejected"),
    ClaimStatus.REVERSED.value: _("Reversed"),
}


def portal_recruiter(*, user: Any) -> Recruiter | None:
    """The recruiter profile the user may read as its own (a recruiter user's; for staff, none)."""
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        return None
    return (
        Recruiter.objects.visible_to(user)
        .filter(organisation_id=organisation_id)
        .select_related("organisation")
        .first()
    )


# --- Workers ---------------------------------------------------------------------------------------------

#: What a worker's row shows a recruiter: its own worker's names and journey, the document number by its
#: stored masked copy. No phone, date of birth or email is read, and nothing a worker reported.
WORKER_FIELDS = (
    "id",
    "given_names",
    "family_names",
    "nationality",
    "identity_document_masked",
    "current_stage",
    "stage_changed_on",
    "season",
    "created_at",
    "pilot__id",
    "pilot__name",
)


def portal_workers_page(*, user: Any, filters: WorkerFilters, cursor: Cursor | None = None) -> WorkerPage:
    """A page of the user's workers, newest first, by cursor on the id (as the staff list pages), with a
    count bounded at ``COUNT_LIMIT``. Only the pilot, stage and search filters apply: a recruiter cannot
    narrow its workers by what they reported. Three queries at most (the search's document lookup, the
    page, the count)."""
    filters = WorkerFilters(pilot=filters.pilot, stage=filters.stage, q=filters.q)
    matching = worker_filter(queryset=Worker.objects.visible_to(user), filters=filters)
    rows = matching.select_related("pilot").only(*WORKER_FIELDS)
    size = PAGE_SIZE
    if cursor is None:
        workers = list(rows.order_by("-id")[: size + 1])
        older, newer = len(workers) > size, False
        workers = workers[:size]
    elif cursor.older:
        workers = list(rows.filter(pk__lt=cursor.after).order_by("-id")[: size + 1])
        older, newer = len(workers) > size, True
        workers = workers[:size]
    else:
        workers = list(rows.filter(pk__gt=cursor.after).order_by("id")[: size + 1])
        newer, older = len(workers) > size, True
        workers = workers[:size][::-1]
    if not workers:
        older = newer = False
    if cursor is None and not older:
        matches: int | None = len(workers)
    elif filters.matches_names:
        matches = None  # a name search has no index: counting it would read every name again
    else:
        matches = matching.order_by()[: COUNT_LIMIT + 1].count()
    return WorkerPage(
        workers=workers,
        older=Cursor(after=workers[-1].pk, older=True) if older else None,
        newer=Cursor(after=workers[0].pk, older=False) if newer else None,
        matches=None if matches is None else min(matches, COUNT_LIMIT),
        matches_more=matches is not None and matches > COUNT_LIMIT,
    )


@dataclass
class PortalWorker:
    """One of the recruiter's workers: the journey (stage and day of each step) and the claims made for them."""

    worker: Worker
    events: list[JourneyEvent]
    claims: list[ClaimRow]


def portal_worker(*, user: Any, pk: int) -> PortalWorker:
    """Worker ``pk`` as the portal shows them; ``Worker.DoesNotExist`` for one the user does not see.
    Four queries: the worker, the journey, the claims, their decisions."""
    worker = Worker.objects.visible_to(user).select_related("pilot").only(*WORKER_FIELDS).get(pk=pk)
    events = list(
        JourneyEvent.objects.visible_to(user)
        .filter(worker=worker)
        .only("id", "stage", "season", "occurred_on", "recorded_at")
        .order_by("season", "occurred_on", "recorded_at", "id")
    )
    claims = claim_rows(user=user, claims=portal_claims(user=user).filter(worker=worker))
    return PortalWorker(worker=worker, events=events, claims=claims)


# --- Claims ----------------------------------------------------------------------------------------------


@dataclass
class ClaimRow:
    """A claim with what the recruiter may read of why it stands where it stands.

    ``why``: the rejection or reversal reason, or what a waiting claim waits for; ``decided_at`` and
    ``decided_by_rule``: when the decision behind the status was taken, and whether by an automatic rule
    (else by program staff).
    """

    claim: OutcomeClaim
    why: str = ""
    decided_at: datetime.datetime | None = None
    decided_by_rule: bool = False

    @property
    def state(self) -> str:
        """The status as the list filters it: ``in_review`` and ``waiting`` for the two kinds of claimed."""
        claim = self.claim
        if claim.status == ClaimStatus.CLAIMED:
            return IN_REVIEW if claim.in_review else WAITING
        return claim.status


#: The decision that put a claim in each status; a claimed claim's latest decision, if any, sent it to review.
_DECISION_OF = {
    ClaimStatus.VERIFIED: Decision.VERIFIED,
    ClaimStatus.REJECTED: Decision.REJECTED,
    ClaimStatus.REVERSED: Decision.REVERSED,
}


def portal_claims(*, user: Any, state: str = "", contract_id: int | None = None) -> QuerySet[OutcomeClaim]:
    """The claims the user sees (the API's tenancy), newest achievement first, narrowed to a ``state`` (a
    key of ``CLAIM_FILTERS``) and a contract."""
    claims = OutcomeClaim.objects.visible_to(user)
    if state == WAITING:
        claims = claims.filter(status=ClaimStatus.CLAIMED, in_review=False)
    elif state == IN_REVIEW:
        claims = claims.filter(status=ClaimStatus.CLAIMED, in_review=True)
    elif state:
        claims = claims.filter(status=state)
    if contract_id is not None:
        claims = claims.filter(metric__contract_id=contract_id)
    return claims.order_by("-achieved_on", "-id")


def claim_rows(*, user: Any, claims: QuerySet[OutcomeClaim]) -> list[ClaimRow]:
    """``claims`` (already sliced to a page) as rows with their reason and decision; two queries."""
    rows = [
        ClaimRow(claim=claim)
        for claim in claims.select_related("metric__contract", "worker").only(
            "id",
            "unit",
            "achieved_on",
            "status",
            "verified_on",
            "claimed_at",
            "rejection_reason",
            "reversal_reason",
            "in_review",
            "pending_reason",
            "metric__id",
            "metric__code",
            "metric__name",
            "metric__contract__id",
            "metric__contract__reference",
            "metric__contract__currency",
            "worker__id",
            "worker__given_names",
            "worker__family_names",
        )  # fmt: skip
    ]
    decided = _latest_decisions(user=user, claim_ids=[row.claim.pk for row in rows])
    for row in rows:
        claim = row.claim
        if claim.status == ClaimStatus.REJECTED:
            row.why = claim.rejection_reason
        elif claim.status == ClaimStatus.REVERSED:
            row.why = claim.reversal_reason
        elif claim.status == ClaimStatus.CLAIMED and not claim.in_review:
            row.why = claim.pending_reason
        wanted = _DECISION_OF.get(claim.status, Decision.NEEDS_REVIEW if claim.in_review else None)
        decision = decided.get((claim.pk, wanted)) if wanted else None
        if decision is not None:
            row.decided_at, row.decided_by_rule = decision
    return rows


def _latest_decisions(*, user: Any, claim_ids: list[int]) -> dict[tuple[int, str], tuple[datetime.datetime, bool]]:
    """For each claim and decision, when it was last taken and whether by an automatic rule; one query.
    Neither the reason nor the facts of a verification are read: those are staff's."""
    if not claim_ids:
        return {}
    rows = (
        Verification.objects.visible_to(user)
        .filter(claim_id__in=claim_ids)
        .order_by("claim_id", "decided_at", "id")
        .values_list("claim_id", "decision", "decided_at", "method")
    )
    return {(claim_id, decision): (at, method == "automatic") for claim_id, decision, at, method in rows}


@dataclass(frozen=True)
class DecisionStep:
    """One decision on a claim, as the recruiter reads it: what, when and by whom (a rule or staff)."""

    decision: str
    label: str
    decided_at: datetime.datetime
    by_rule: bool


def claim_decisions(*, user: Any, claim: OutcomeClaim) -> list[DecisionStep]:
    """Every decision on ``claim`` in order, without its reason or facts; one query."""
    labels = dict(Decision.choices)
    rows = (
        Verification.objects.visible_to(user)
        .filter(claim=claim)
        .order_by("decided_at", "id")
        .values_list("decision", "decided_at", "method")
    )
    return [
        DecisionStep(
            decision=decision, label=labels.get(decision, decision), decided_at=at, by_rule=method == "automatic"
        )
        for decision, at, method in rows
    ]


@dataclass(frozen=True)
class ClaimCounts:
    by_state: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


def claim_counts(*, user: Any) -> ClaimCounts:
    """The user's claims counted by state (waiting, in review, verified, rejected, reversed); one query."""
    claimed = Q(status=ClaimStatus.CLAIMED)
    counts = OutcomeClaim.objects.visible_to(user).aggregate(
        waiting=Count("pk", filter=claimed & Q(in_review=False)),
        in_review=Count("pk", filter=claimed & Q(in_review=True)),
        verified=Count("pk", filter=Q(status=ClaimStatus.VERIFIED)),
        rejected=Count("pk", filter=Q(status=ClaimStatus.REJECTED)),
        reversed=Count("pk", filter=Q(status=ClaimStatus.REVERSED)),
    )
    return ClaimCounts(by_state=counts)


# --- Contracts and "what will I be paid when" ----------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    """A tranche still to be paid: approved and awaiting payment, or open (its amount may still change)."""

    tranche: money.TrancheRow
    amount: Any
    overdue: bool

    @property
    def approved(self) -> bool:
        return self.tranche.status == TrancheStatus.APPROVED


@dataclass
class PortalContract:
    contract: RbfContract
    amounts: money.ScheduleAmounts
    upcoming: list[Upcoming] = field(default_factory=list)
    more_upcoming: int = 0


def portal_contracts(*, user: Any, today: datetime.date | None = None) -> list[PortalContract]:
    """The contracts the user sees (a recruiter: those it provides), each with its money in the one
    vocabulary and the next tranches still to be paid, in order; three queries."""
    today = today or timezone.localdate()
    contracts = list(
        RbfContract.objects.visible_to(user).select_related("pilot", "payer").order_by("-start_date", "reference")
    )
    amounts = money.contract_amounts(contracts=contracts)
    upcoming: defaultdict[int, list[Upcoming]] = defaultdict(list)
    if contracts:
        tranches = Tranche.objects.filter(contract__in=[c.pk for c in contracts]).exclude(status=TrancheStatus.PAID)
        for row in money.tranche_rows(tranches=tranches):
            one = money.ScheduleAmounts()
            is_open = one.add_tranche(status=row.status, total=row.total, paid=row.paid)
            amount = one.due if is_open else one.awaiting_payment - one.owed_by_provider
            upcoming[row.contract_id].append(Upcoming(tranche=row, amount=amount, overdue=row.overdue(today)))
    result = []
    for contract in contracts:
        rows = upcoming[contract.pk]
        result.append(
            PortalContract(
                contract=contract,
                amounts=amounts[contract.pk],
                upcoming=rows[:UPCOMING_TRANCHES],
                more_upcoming=max(len(rows) - UPCOMING_TRANCHES, 0),
            )
        )
    return result


# --- The home page ---------------------------------------------------------------------------------------


@dataclass
class PortalHome:
    recruiter: Recruiter | None
    workers: int
    stages: list[dict[str, Any]]
    claims: ClaimCounts
    contracts: list[PortalContract]
    live_tokens: int


def portal_home(*, user: Any) -> PortalHome:
    """What the recruiter has, at a glance: workers by stage, claims by state, contracts with what they
    will pay when, and its live API tokens. Seven queries, whatever the size of its world."""
    by_stage = dict(Worker.objects.visible_to(user).order_by().values_list("current_stage").annotate(n=Count("pk")))
    stages = [
        {"stage": stage.value, "label": stage.label, "n": by_stage.get(stage.value, 0), "exit": stage in EXITS}
        for stage in (*PATH, *EXITS)
    ]
    now = timezone.now()
    live_tokens = (
        ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count()
    )
    return PortalHome(
        recruiter=portal_recruiter(user=user),
        workers=sum(by_stage.values()),
        stages=stages,
        claims=claim_counts(user=user),
        contracts=portal_contracts(user=user),
        live_tokens=live_tokens,
    )
