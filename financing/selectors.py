"""Reads that turn a live contract into the plain inputs of the payment rules."""

from __future__ import annotations

import datetime
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

from financing import payments
from financing.models import (
    ClaimStatus,
    Decision,
    Disbursement,
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
from financing.verification import decide, worker_facts
from lamp.currencies import format_money, quantize
from lamp.fields import MoneyField
from workers.models import Evidence, FeeCategory


def awaiting_payment(*, approved: Decimal, paid: Decimal) -> Decimal:
    """What is approved (frozen for payment) but not yet disbursed."""
    return max(approved - paid, Decimal(0))


@dataclass(kw_only=True)
class ScheduleAmounts:
    """What a schedule's tranches add up to — one reading for the API's schedule, the contract page, the
    overview and the scorecard: ``verified``, every line (adjustments included); ``due``, the lines of open
    tranches; ``approved``, those of approved or paid tranches; ``paid``, the disbursements."""

    verified: Decimal = Decimal(0)
    due: Decimal = Decimal(0)
    approved: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)

    def add_tranche(self, *, status: str, total: Decimal, paid: Decimal | None) -> bool:
        """Count one tranche (its lines' ``total`` and its disbursement's amount, if paid); ``True`` if it is
        open, its lines still due."""
        self.verified += total
        self.paid += paid or Decimal(0)
        if status == TrancheStatus.OPEN:
            self.due += total
            return True
        self.approved += total
        return False

    @property
    def awaiting_payment(self) -> Decimal:
        return awaiting_payment(approved=self.approved, paid=self.paid)


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

    As the scorecard and the overview count them: ``verified``, every line of the schedule (adjustments
    included); ``due``, the lines of open tranches; ``approved``, those of approved or paid tranches;
    ``paid``, the disbursements. ``next_tranche_id`` / ``_code`` / ``_due`` / ``_end``: the earliest open
    tranche, or ``None``.
    """
    lines = PaymentLine.objects.filter(tranche__contract=OuterRef("pk")).order_by().values("tranche__contract")
    paid = Disbursement.objects.filter(tranche__contract=OuterRef("pk")).order_by().values("tranche__contract")
    next_open = Tranche.objects.filter(contract=OuterRef("pk"), status=TrancheStatus.OPEN).order_by("start_date")
    zero = Value(Decimal(0), output_field=MoneyField())
    return contracts.annotate(
        verified=Coalesce(Subquery(lines.annotate(s=Sum("amount")).values("s")), zero),
        due=Coalesce(
            Subquery(lines.filter(tranche__status=TrancheStatus.OPEN).annotate(s=Sum("amount")).values("s")), zero
        ),
        approved=Coalesce(
            Subquery(lines.exclude(tranche__status=TrancheStatus.OPEN).annotate(s=Sum("amount")).values("s")), zero
        ),
        paid=Coalesce(Subquery(paid.annotate(s=Sum("amount")).values("s")), zero),
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


# --- The dashboard: the verification queue and the claims list ----------------------------------------

QUEUE_PAGE_SIZE = 25
CLAIMS_PAGE_SIZE = 50
#: The claims list's pseudo-status for claims an automatic rule sent to staff review.
IN_REVIEW = "in_review"
QUEUE_ORDER = ("-in_review", "claimed_at", "id")
CLAIMS_ORDER = ("-achieved_on", "-id")
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
            summary = review.get("reason") or "An automatic rule found evidence for and against."
            facts = facts_in_words(review.get("facts") or {})
            reviewed_at = parse_datetime(review["decided_at"]) if review.get("decided_at") else None
        else:
            verdict = decide(claim, live[claim.worker_id], today=today)
            summary = _UNSETTLED.get(verdict.answer, "{reason}").format(reason=verdict.reason)
            facts = facts_in_words(verdict.facts)
            reviewed_at = None
        items.append(
            QueueItem(claim=claim, summary=summary, facts=facts, terms=metric_terms(metric), reviewed_at=reviewed_at)
        )
    return items


_UNSETTLED = {
    "verify": "The evidence on file now meets the automatic rule: {reason} The rule has not run on it yet.",
    "wait": "{reason} The automatic rule has not settled it.",
    "review": "The evidence on file disagrees: {reason}",
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
    """The claims ``user`` may see, filtered, newest outcome first: count them, and read a page of them
    with ``claim_rows``.

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


def claim_rows(*, claims: QuerySet, offset: int, limit: int) -> list[OutcomeClaim]:
    """``limit`` of ``claims_listed``'s claims from ``offset``, with what a list row shows: one query."""
    page = _page_of(claims, order=CLAIMS_ORDER, offset=offset, limit=limit)
    return list(page.select_related("worker__recruiter__organisation", "metric__contract").defer(*_WORKER_PRIVATE))


def metric_terms(metric: OutcomeMetric) -> str:
    """A metric's terms in words: ``USD 500.00 per unit, at most 1 per worker, up to 3 units``.

    Needs the metric's contract (and denominator, if any) loaded.
    """
    if metric.price is not None:
        parts = [f"{metric.price_display} per unit"]
    else:
        parts = [metric.price_display]
    parts.append(f"at most {metric.max_units_per_worker} per worker")
    if metric.cap_units is not None:
        parts.append(f"up to {metric.cap_units:,} units")
    if metric.cap_amount is not None:
        parts.append(f"up to {format_money(metric.cap_amount, metric.contract.currency)}")
    if metric.threshold_rate is not None and metric.denominator_metric_id:
        rate = f"{(metric.threshold_rate * 100).normalize():f} %"
        parts.append(f"paid while verified units reach {rate} of {metric.denominator_metric.code}")
    return ", ".join(parts)


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
    for key, value in facts.items():
        reader = _FACT_READERS.get(key)
        if reader is not None:
            reader(lines, value, days)
        elif isinstance(value, bool):
            (lines.facts_for if value else lines.facts_against).append(f"{_label(key)}: {'yes' if value else 'no'}")
        elif value not in (None, "", [], {}):
            lines.other.append(f"{_label(key)}: {_plain(value)}")
    return lines


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_label(k).lower()} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    return _day(value) if isinstance(value, str) else str(value)


def _day(value: Any) -> str:
    """An ISO date as ``06 Apr 2026`` (the pages' ``d M Y``); anything else as it is."""
    try:
        return datetime.date.fromisoformat(str(value)).strftime("%d %b %Y")
    except ValueError:
        return str(value)


def _fee(fee: Any) -> str:
    if not isinstance(fee, dict):
        return str(fee)
    category = fee.get("category", "")
    label = FeeCategory(category).label if category in FeeCategory.values else _label(str(category))
    try:
        amount = format_money(Decimal(str(fee.get("amount"))), str(fee.get("currency", "")))
    except InvalidOperation:
        amount = str(fee.get("amount"))
    return f"{label}, {amount}"


def _read_started(lines: FactLines, value: Any, days: Any) -> None:
    started = value if isinstance(value, list) else [value] if value else []
    for day in started:
        lines.facts_for.append(f"Employment started on {_day(day)}")
    if not started:
        lines.facts_against.append("No employment has started")


def _read_attestation(lines: FactLines, value: Any, days: Any) -> None:
    if value:
        lines.facts_for.append("Employer attestation on file")
    else:
        lines.facts_against.append("No employer attestation on file")


def _read_employments(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_against.append("No employment recorded")
        return
    for job in value if isinstance(value, list) else [value]:
        if not isinstance(job, dict) or not job.get("start"):
            lines.other.append(f"Employment: {_plain(job)}")
            continue
        start = datetime.date.fromisoformat(job["start"])
        end = datetime.date.fromisoformat(job["end"]) if job.get("end") else None
        separation = f" ({_label(job['separation']).lower()})" if job.get("separation") else ""
        if end is None:
            day_n = f"; day {days} falls on {_day(start + datetime.timedelta(days=int(days)))}" if days else ""
            lines.facts_for.append(f"Employed since {_day(start)}, no separation recorded{day_n}")
        elif days and (end - start).days < int(days):
            lines.facts_against.append(
                f"Employment from {_day(start)} ended on {_day(end)}{separation}, "
                f"after {(end - start).days} days of the {days} required"
            )
        else:
            lines.facts_for.append(f"Employed from {_day(start)} to {_day(end)}{separation}")


def _read_days(lines: FactLines, value: Any, days: Any) -> None:
    """The retention metric's N: part of the metric's terms, and read with each employment."""


def _read_surveys(lines: FactLines, value: Any, days: Any) -> None:
    answers = value if isinstance(value, list) else [value]
    if not value and value is not False:
        lines.facts_against.append("No worker survey on file yet")
        return
    for paid in answers:
        if paid:
            lines.facts_against.append("The worker's survey says a fee was paid")
        else:
            lines.facts_for.append("The worker's survey reports no fee paid")


def _read_fees(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_for.append("No fee above zero reported for this worker")
        return
    for fee in value if isinstance(value, list) else [value]:
        lines.facts_against.append(f"Fee reported: {_fee(fee)}")


def _read_fee_count(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_for.append("No fee above zero reported for this worker")
    else:
        plural = "s" if value != 1 else ""
        lines.facts_against.append(f"{value} fee report{plural} above zero for this worker")


def _read_courses(lines: FactLines, value: Any, days: Any) -> None:
    if not value:
        lines.facts_against.append("No course recorded")
        return
    qualifies = False
    for course in value if isinstance(value, list) else [value]:
        if not isinstance(course, dict):
            lines.other.append(f"Course: {course}")
            continue
        name = course.get("course") or "Course"
        completed = course.get("completed_on")
        if not completed:
            lines.other.append(f"{name}: enrolled, not completed yet")
        elif course.get("passed") and course.get("certificate"):
            qualifies = True
            lines.facts_for.append(f"{name}: completed on {_day(completed)}, passed, certificate on file")
        elif course.get("passed") is False:
            lines.facts_against.append(f"{name}: completed on {_day(completed)}, not passed")
        elif course.get("passed") is None:
            lines.other.append(f"{name}: completed on {_day(completed)}, not assessed yet")
        else:
            lines.facts_against.append(f"{name}: completed on {_day(completed)} and passed, no certificate on file")
    if not qualifies:
        lines.facts_against.append("No course completed, passed and certified yet")


def _read_course(lines: FactLines, value: Any, days: Any) -> None:
    lines.other.append(f"Course: {value}")


def _read_level(lines: FactLines, value: Any, days: Any) -> None:
    lines.other.append(f"Level: {value}")


def _read_evidence(lines: FactLines, value: Any, days: Any) -> None:
    lines.other.append(f"Relies on evidence #{value}")


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
