"""Writes of results-based financing: claims and their verification, schedules, approvals, payments.

Every function here is one transaction and the only way its change is made, by the dashboard, the
API, the admin, commands and tasks alike. Each writes history with the acting user (``acting_as``)
and enqueues the schedule recompute of the contract it touched once the transaction commits.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from financing import payments
from financing.models import (
    ClaimStatus,
    ContractStatus,
    Decision,
    Disbursement,
    LineKind,
    MetricKind,
    OutcomeClaim,
    OutcomeMetric,
    PaymentLine,
    ProviderRefund,
    RbfContract,
    ScheduleState,
    Tranche,
    TrancheStatus,
    Verification,
    VerificationMethod,
)
from financing.selectors import contract_terms, verified_claims
from financing.verification import Answer, decide, worker_facts
from lamp.currencies import format_money, quantize
from lamp.history import acting_as
from pilots.models import User
from workers.models import FeeReport, Worker

logger = logging.getLogger(__name__)

FROZEN = (TrancheStatus.APPROVED, TrancheStatus.PAID)


# --- The schedule -------------------------------------------------------------------------------------


@dataclass
class RecomputeResult:
    """What a recompute wrote: all zero when nothing had changed."""

    contract_id: int
    created: int = 0
    updated: int = 0
    deleted: int = 0
    tranches_created: int = 0
    adjustments: dict[int, Decimal] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted or self.tranches_created)


@dataclass(frozen=True)
class _Wanted:
    verified_on: datetime.date
    amount: Decimal
    capped: Decimal
    reason: str
    note: str = ""

    def row(self) -> tuple[object, ...]:
        return (self.verified_on, self.amount, self.capped, self.reason, self.note)


ADJUSTMENT_NOTE = "Adjusts what a frozen tranche paid for this claim to what the rules now give"
# Part of every schedule fingerprint: bump it when the rules in payments.py change what they give,
# so that every contract is recomputed once under the new rules.
RULES_VERSION = "1"


def schedule_recompute(*, contract_id: int, user: User | None = None, force: bool = False) -> RecomputeResult:
    """Rebuild the payment lines of a contract's open tranches from its claims as they stand.

    The rules (``payments.compute_schedule``) run over every verified claim. Lines of open tranches are
    made to equal what they give. Approved and paid tranches are frozen: where what they hold differs
    from what the rules now give for their periods, the difference lands in the earliest open tranche
    as adjustment lines naming the claim. Only differences are written, so a recompute with nothing
    changed writes nothing; the contract row is locked, so two recomputes of one contract run one
    after the other and leave one result.

    A fingerprint of everything the result depends on (terms, verified claims, tranches and the lines
    they hold) is kept after each run; when it has not changed the run stops there, unless ``force``.
    """
    with transaction.atomic(), acting_as(user, action="schedule_recompute"):
        contract = RbfContract.objects.select_for_update().get(pk=contract_id)
        result = RecomputeResult(contract_id=contract.pk)
        if contract.status == ContractStatus.DRAFT:
            return result
        try:
            terms = contract_terms(contract=contract)
        except payments.TermsError as error:
            # Terms the rules cannot apply (listed tranches that leave a gap, say): nothing to retry.
            raise ValidationError({"terms": f"{error.field}: {error.message}"}) from error
        fingerprint = _fingerprint(contract=contract, terms=terms)
        state = ScheduleState.objects.filter(contract=contract).first()
        if not force and state is not None and state.fingerprint == fingerprint:
            return result
        claims = verified_claims(contract=contract)
        schedule = payments.compute_schedule(terms=terms, claims=claims)
        tranches = _ensure_tranches(contract=contract, periods=terms.tranches, result=result)
        verified_on = {int(claim.id): claim.verified_on for claim in claims}
        wanted = _wanted_lines(
            contract=contract, schedule=schedule, tranches=tranches, verified_on=verified_on, result=result
        )
        _write_lines(contract=contract, wanted=wanted, result=result)
        after = _fingerprint(contract=contract, terms=terms)
        if state is None or state.fingerprint != after:
            ScheduleState.objects.update_or_create(
                contract=contract, defaults={"fingerprint": after, "computed_at": timezone.now()}
            )
        return result


def _fingerprint(*, contract: RbfContract, terms: payments.Terms) -> str:
    """A hash of every input of the schedule, computed by PostgreSQL over the claims and the lines."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), md5(coalesce(string_agg(
                c.id::text || ':' || c.metric_id || ':' || c.worker_id || ':' || c.verified_on, ','
                ORDER BY c.id), ''))
            FROM financing_outcomeclaim c JOIN financing_outcomemetric m ON m.id = c.metric_id
            WHERE m.contract_id = %s AND c.status = 'verified'
            """,
            [contract.pk],
        )
        claims = cursor.fetchone()
        cursor.execute(
            """
            SELECT t.id, t.code, t.status, t.start_date, t.end_date, t.due_date,
                   count(l.id), coalesce(sum(l.amount), 0), coalesce(sum(l.capped), 0),
                   md5(coalesce(string_agg(l.id::text || ':' || l.amount || ':' || l.capped, ',' ORDER BY l.id), ''))
            FROM financing_tranche t LEFT JOIN financing_paymentline l ON l.tranche_id = t.id
            WHERE t.contract_id = %s GROUP BY t.id ORDER BY t.id
            """,
            [contract.pk],
        )
        tranches = cursor.fetchall()
    digest = hashlib.sha256(repr((RULES_VERSION, terms, contract.status, claims, tranches)).encode())
    return digest.hexdigest()


def _ensure_tranches(
    *, contract: RbfContract, periods: Iterable[payments.TranchePeriod], result: RecomputeResult
) -> dict[str, Tranche]:
    """The contract's tranches by code, creating the calendar periods that have none yet."""
    existing = {t.code: t for t in Tranche.objects.filter(contract=contract)}
    for period in periods:
        tranche = existing.get(period.code)
        if tranche is None:
            existing[period.code] = Tranche.objects.create(
                contract=contract, code=period.code, start_date=period.start, end_date=period.end, due_date=period.due
            )
            result.tranches_created += 1
        elif not tranche.is_frozen and (tranche.start_date, tranche.end_date, tranche.due_date) != (
            period.start,
            period.end,
            period.due,
        ):
            # The contract's dates or due days changed: an open tranche follows them.
            tranche.start_date, tranche.end_date, tranche.due_date = period.start, period.end, period.due
            tranche.save(update_fields=["start_date", "end_date", "due_date"])
    return existing


def _wanted_lines(
    *,
    contract: RbfContract,
    schedule: payments.Schedule,
    tranches: dict[str, Tranche],
    verified_on: dict[int, datetime.date],
    result: RecomputeResult,
) -> dict[tuple[int, int, str], _Wanted]:
    """The lines the open tranches should hold, keyed by (tranche, claim, kind)."""
    wanted: dict[tuple[int, int, str], _Wanted] = {}
    due_in_frozen: defaultdict[int, Decimal] = defaultdict(Decimal)
    for tranche_result in schedule.tranches:
        tranche = tranches[tranche_result.period.code]
        for line in tranche_result.lines:
            claim_id = int(line.claim)
            if tranche.is_frozen:
                due_in_frozen[claim_id] += line.amount
            else:
                wanted[(tranche.pk, claim_id, LineKind.PAYMENT)] = _Wanted(
                    verified_on=verified_on[claim_id], amount=line.amount, capped=line.capped, reason=line.reason or ""
                )
    held_in_frozen: defaultdict[int, Decimal] = defaultdict(Decimal)
    # Carried-forward lines pay for no claim: they move a balance between tranches and are never recomputed.
    frozen_lines = PaymentLine.objects.filter(tranche__contract=contract, tranche__status__in=FROZEN).exclude(
        kind=LineKind.CARRIED_FORWARD
    )
    for claim_id, amount, day in frozen_lines.values_list("claim_id", "amount", "verified_on").iterator(10_000):
        held_in_frozen[claim_id] += amount
        verified_on.setdefault(claim_id, day)  # a claim no longer verified keeps the date it was paid for
    differences = {
        claim_id: amount
        for claim_id in set(due_in_frozen) | set(held_in_frozen)
        if (amount := quantize(due_in_frozen[claim_id] - held_in_frozen[claim_id], contract.currency))
    }
    if differences:
        target = _adjustment_tranche(contract=contract, tranches=tranches, result=result)
        for claim_id, amount in differences.items():
            wanted[(target.pk, claim_id, LineKind.ADJUSTMENT)] = _Wanted(
                verified_on=verified_on[claim_id], amount=amount, capped=Decimal(0), reason="", note=ADJUSTMENT_NOTE
            )
        result.adjustments = dict(sorted(differences.items(), key=lambda item: (verified_on[item[0]], item[0])))
    return wanted


def _adjustment_tranche(*, contract: RbfContract, tranches: dict[str, Tranche], result: RecomputeResult) -> Tranche:
    """The earliest open tranche of the contract's period; past the last one, a supplementary tranche."""
    # A tranche left before the start by a change of the contract's dates takes no new lines.
    ordered = sorted((t for t in tranches.values() if t.end_date >= contract.start_date), key=lambda t: t.start_date)
    for tranche in ordered:
        if not tranche.is_frozen:
            return tranche
    last = ordered[-1]
    start = last.end_date + datetime.timedelta(days=1)
    tranche = Tranche.objects.create(
        contract=contract,
        code=f"ADJ-{start.isoformat()}",
        start_date=start,
        end_date=start,
        due_date=start + datetime.timedelta(days=contract.due_days),
    )
    tranches[tranche.code] = tranche
    result.tranches_created += 1
    return tranche


LINE_COLUMNS = ("verified_on", "amount", "capped", "reason", "note")


def _write_lines(
    *, contract: RbfContract, wanted: dict[tuple[int, int, str], _Wanted], result: RecomputeResult
) -> None:
    """Make the open tranches' lines equal ``wanted``, writing only the differences, set-based.

    Carried-forward lines (a balance moved in by ``tranche_approve``) are left alone: no rule computes them.
    """
    existing = (
        PaymentLine.objects.filter(tranche__contract=contract, tranche__status=TrancheStatus.OPEN)
        .exclude(kind=LineKind.CARRIED_FORWARD)
        .values_list("pk", "tranche_id", "claim_id", "kind", *LINE_COLUMNS)
    )
    to_update: list[tuple[object, ...]] = []
    to_delete: list[int] = []
    for pk, tranche_id, claim_id, kind, *row in existing.iterator(chunk_size=10_000):
        want = wanted.pop((tranche_id, claim_id, kind), None)
        if want is None:
            to_delete.append(pk)
        elif tuple(row) != want.row():
            to_update.append((pk, *want.row()))
    table = PaymentLine._meta.db_table
    with connection.cursor() as cursor:
        if to_delete:
            cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [to_delete])
            result.deleted = cursor.rowcount
        if to_update:
            cursor.execute(
                "CREATE TEMP TABLE recompute_changes (id bigint, verified_on date, amount numeric, capped numeric,"
                " reason varchar(30), note varchar(300)) ON COMMIT DROP"
            )
            _copy(cursor, "recompute_changes", ("id", *LINE_COLUMNS), to_update)
            cursor.execute(
                f"UPDATE {table} l SET verified_on = c.verified_on, amount = c.amount, capped = c.capped,"
                " reason = c.reason, note = c.note FROM recompute_changes c WHERE l.id = c.id"
            )
            result.updated = cursor.rowcount
            cursor.execute("DROP TABLE recompute_changes")
        if wanted:
            now = timezone.now()
            rows = [(t, c, k, *w.row(), now) for (t, c, k), w in wanted.items()]
            _copy(cursor, table, ("tranche_id", "claim_id", "kind", *LINE_COLUMNS, "created_at"), rows)
            result.created = len(rows)


def _copy(cursor: Any, table: str, columns: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """COPY rows in: PostgreSQL's fastest bulk write; its triggers still keep the history."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    buffer.seek(0)
    # FORCE_NOT_NULL: an empty reason or note is the empty string, not NULL.
    cursor.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (reason, note))", buffer
    )


def schedule_recompute_on_commit(*, contract_id: int) -> None:
    """Enqueue the contract's recompute once the current transaction commits (at once outside one)."""
    from financing.tasks import schedule_recompute_task  # tasks call services: import here, not at the top

    transaction.on_commit(lambda: schedule_recompute_task.delay(contract_id))


def verification_on_commit(*, worker_ids: Iterable[int]) -> None:
    """Re-run automatic verification, once this transaction commits, for each contract in which one of the
    workers has a claim waiting: new facts about a worker may settle it."""
    from financing.tasks import verify_pending_claims_task

    contract_ids = set(
        OutcomeClaim.objects.filter(
            worker_id__in=list(worker_ids), status=ClaimStatus.CLAIMED, in_review=False
        ).values_list("metric__contract_id", flat=True)
    )
    for contract_id in sorted(contract_ids):
        transaction.on_commit(lambda contract_id=contract_id: verify_pending_claims_task.delay(contract_id))


def worker_facts_changed(*, worker_ids: Iterable[int], fee_reported: bool = False) -> None:
    """What follows from new facts about workers (announced by ``workers`` after commit): a fee reported
    is a finding against a verified ``ZERO_FEE`` outcome (``fee_findings_apply``, in a task), and any new
    fact may settle a claim that waits (automatic verification of their contracts)."""
    from financing.tasks import fee_findings_apply_task

    ids = sorted(set(worker_ids))
    if fee_reported:
        transaction.on_commit(lambda: fee_findings_apply_task.delay(ids))
    verification_on_commit(worker_ids=ids)


def fee_findings_apply(*, worker_ids: Iterable[int]) -> int:
    """Reverse each verified ``ZERO_FEE`` outcome of these workers that a fee on record contradicts; how many.

    The same reading as the ``ZERO_FEE`` rule: a fee above zero paid to the worker's recruiter, whoever the
    contract pays. The reason names the category of the latest such fee, never its source (the recruiter reads
    it); what the claim was paid comes back through the schedule (a clawback). Safe to run twice: a reversed
    claim is not verified any more.
    """
    ids = list(worker_ids)
    recruiter_of = dict(Worker.objects.filter(pk__in=ids).values_list("pk", "recruiter_id"))
    latest: dict[int, FeeReport] = {}
    for report in FeeReport.objects.filter(worker_id__in=ids, amount__gt=0).order_by("reported_at", "id"):
        if report.recruiter_id == recruiter_of.get(report.worker_id):
            latest[report.worker_id] = report
    claims = OutcomeClaim.objects.filter(
        worker_id__in=list(latest), status=ClaimStatus.VERIFIED, metric__kind=MetricKind.ZERO_FEE
    ).order_by("id")
    reversed_ = 0
    for claim in claims:
        report = latest[claim.worker_id]
        with translation.override(settings.LANGUAGE_CODE):  # a stored reason, in the platform's language
            category = str(report.get_category_display())
        claim_reverse(
            claim=claim,
            user=None,
            rule=MetricKind.ZERO_FEE,
            # The recruiter reads this: the finding and its category, never who reported it.
            reason=f"Fee finding after verification: {category}.",
            facts={
                "fee_report": report.pk,
                "category": report.category,
                "amount": str(report.amount),
                "currency": report.currency,
            },
        )
        reversed_ += 1
    return reversed_


# --- Claims and their verification --------------------------------------------------------------------


class DuplicateClaim(Exception):  # noqa: N818 - named for what it is, like Django's DoesNotExist
    """The worker already has a claim for this metric and unit: ``existing_id`` names it."""

    def __init__(self, existing_id: int) -> None:
        super().__init__(f"A claim for this metric, worker and unit already exists: claim {existing_id}.")
        self.existing_id = existing_id


def claim_create(
    *,
    metric: OutcomeMetric,
    worker: Worker,
    unit: int = 1,
    achieved_on: datetime.date,
    claimed_by: User | None,
) -> OutcomeClaim:
    """A provider's claim that ``worker`` achieved ``metric`` (its ``unit``-th unit) on ``achieved_on``.

    Who may claim what (a recruiter: its own contracts and workers) is the caller's to check; here are the
    rules of any claim: the contract is active, the worker is in the contract's pilot, the date is in the
    contract's period and not in the future. A second claim for the same metric, worker and unit raises
    ``DuplicateClaim`` naming the first, also when two arrive at once (the unique constraint decides). A new
    claim is put to automatic verification once the transaction commits.
    """
    with transaction.atomic(), acting_as(claimed_by, action="claim_create"):
        contract = metric.contract
        if contract.status != ContractStatus.ACTIVE:
            raise ValidationError(
                {"metric": f"The metric's contract is {contract.status}: only an active contract takes claims."}
            )
        if worker.pilot_id != contract.pilot_id:
            raise ValidationError({"worker": "The worker is not in the pilot of the metric's contract."})
        if achieved_on > timezone.localdate():
            raise ValidationError({"achieved_on": "An outcome cannot be achieved in the future."})
        if not contract.start_date <= achieved_on <= contract.end_date:
            raise ValidationError(
                {"achieved_on": f"Outside the contract's period ({contract.start_date} to {contract.end_date})."}
            )
        existing = OutcomeClaim.objects.filter(metric=metric, worker=worker, unit=unit).values_list("pk", flat=True)
        if existing:
            raise DuplicateClaim(existing[0])
        claim = OutcomeClaim(metric=metric, worker=worker, unit=unit, achieved_on=achieved_on, claimed_by=claimed_by)
        claim.full_clean(validate_constraints=False)  # the unique one is the insert's to enforce, race-free
        try:
            with transaction.atomic():
                claim.save()
        except IntegrityError:
            first = OutcomeClaim.objects.filter(metric=metric, worker=worker, unit=unit).values_list("pk", flat=True)
            if first:
                raise DuplicateClaim(first[0]) from None
            raise
        contract_id = contract.pk
        transaction.on_commit(lambda: _verify_pending_claims(contract_id))
        return claim


def _verify_pending_claims(contract_id: int) -> None:
    from financing.tasks import verify_pending_claims_task

    verify_pending_claims_task.delay(contract_id)


def _require_staff(user: User | None, *, action: str) -> User:
    if user is None or not user.is_program_staff:
        raise PermissionDenied(f"Only program staff may {action}.")
    return user


def _require_independent(user: User, claim: OutcomeClaim) -> None:
    """A claim and its verification are separate acts by separate parties."""
    if user.organisation_id is not None and user.organisation_id == claim.metric.contract.provider_id:
        raise PermissionDenied("A provider's own users may not verify or decide the provider's claims.")


def _locked_claim(claim: OutcomeClaim) -> OutcomeClaim:
    return OutcomeClaim.objects.select_for_update(of=("self",)).select_related("metric__contract").get(pk=claim.pk)


def claim_verify(
    *,
    claim: OutcomeClaim,
    user: User | None,
    verified_on: datetime.date | None = None,
    rule: str = "",
    reason: str = "",
    facts: dict[str, Any] | None = None,
    recompute: bool = True,
) -> OutcomeClaim:
    """Verify a claim: by program staff (``user``), or by an automatic ``rule`` (``user=None``).

    ``recompute=False`` leaves enqueueing the contract's recompute to a caller that verifies many
    claims and enqueues it once.
    """
    with transaction.atomic(), acting_as(user, action="claim_verify"):
        if user is not None:
            _require_staff(user, action="verify claims")
        elif not rule:
            raise ValueError("an automatic verification names its rule")
        claim = _locked_claim(claim)
        if user is not None:
            _require_independent(user, claim)
        if claim.status != ClaimStatus.CLAIMED:
            raise ValidationError({"status": f"Only a claimed claim can be verified; this one is {claim.status}."})
        claim.status = ClaimStatus.VERIFIED
        claim.verified_on = verified_on or timezone.localdate()
        claim.in_review = False
        claim.pending_reason = ""
        claim.full_clean()
        claim.save(update_fields=["status", "verified_on", "in_review", "pending_reason"])
        _record(claim, Decision.VERIFIED, user=user, rule=rule, reason=reason, facts=facts)
        if recompute:
            schedule_recompute_on_commit(contract_id=claim.metric.contract_id)
        return claim


def claim_reject(*, claim: OutcomeClaim, user: User, reason: str, facts: dict[str, Any] | None = None) -> OutcomeClaim:
    """Reject a claimed outcome, with the reason the provider will read."""
    with transaction.atomic(), acting_as(user, action="claim_reject"):
        _require_staff(user, action="reject claims")
        if not reason.strip():
            raise ValidationError({"reason": "Say why the claim is rejected."})
        claim = _locked_claim(claim)
        _require_independent(user, claim)
        if claim.status != ClaimStatus.CLAIMED:
            raise ValidationError({"status": f"Only a claimed claim can be rejected; this one is {claim.status}."})
        claim.status = ClaimStatus.REJECTED
        claim.rejection_reason = reason.strip()
        claim.in_review = False
        claim.save(update_fields=["status", "rejection_reason", "in_review"])
        _record(claim, Decision.REJECTED, user=user, reason=reason.strip(), facts=facts)
        return claim


def claim_reverse(
    *, claim: OutcomeClaim, user: User | None, reason: str, rule: str = "", facts: dict[str, Any] | None = None
) -> OutcomeClaim:
    """Reverse a verified claim later found false; what it was paid comes back through the schedule."""
    with transaction.atomic(), acting_as(user, action="claim_reverse"):
        if user is not None:
            _require_staff(user, action="reverse claims")
        elif not rule:
            raise ValueError("an automatic reversal names its rule")
        if not reason.strip():
            raise ValidationError({"reason": "Say why the claim is reversed."})
        claim = _locked_claim(claim)
        if user is not None:
            _require_independent(user, claim)
        if claim.status != ClaimStatus.VERIFIED:
            raise ValidationError({"status": f"Only a verified claim can be reversed; this one is {claim.status}."})
        claim.status = ClaimStatus.REVERSED
        claim.reversal_reason = reason.strip()
        claim.save(update_fields=["status", "reversal_reason"])
        _record(claim, Decision.REVERSED, user=user, rule=rule, reason=reason.strip(), facts=facts)
        schedule_recompute_on_commit(contract_id=claim.metric.contract_id)
        return claim


#: What of a claim the schedule reads: a change to any of them changes what is paid.
CLAIM_MONEY_FIELDS = ("metric", "worker", "unit", "achieved_on")


def claim_edit_check(*, claim: OutcomeClaim, reason: str) -> list[str]:
    """The money-bearing fields that a correction of ``claim`` (not saved yet) changes; ``ValidationError``
    naming ``change_reason`` when the claim is already in a schedule (verified or reversed) and no reason is
    given for changing what it is paid for."""
    columns = {name: OutcomeClaim._meta.get_field(name).attname for name in CLAIM_MONEY_FIELDS}
    before = OutcomeClaim.objects.filter(pk=claim.pk).values(*columns.values(), "status").first()
    if before is None:
        return []
    changed = [name for name, column in columns.items() if before[column] != getattr(claim, column)]
    if changed and before["status"] in (ClaimStatus.VERIFIED, ClaimStatus.REVERSED) and not reason.strip():
        raise ValidationError(
            {
                "change_reason": f"This claim is {before['status']}: changing its {', '.join(changed)} changes what "
                "is paid. Say why; the reason is kept in its history."
            }
        )
    return changed


def claim_edit(*, claim: OutcomeClaim, user: User, reason: str = "") -> OutcomeClaim:
    """Save program staff's correction of a claim (its metric, worker, unit or date); for a claim already in a
    schedule only with a reason, which its history keeps. The schedule is recomputed once this commits."""
    with transaction.atomic():
        _require_staff(user, action="correct claims")
        changed = claim_edit_check(claim=claim, reason=reason)
        with acting_as(user, action="claim_edit", reason=reason.strip(), fields=changed):
            claim.save()
        schedule_recompute_on_commit(contract_id=claim.metric.contract_id)
    return claim


def claim_send_to_review(*, claim: OutcomeClaim, rule: str, reason: str, facts: dict[str, Any]) -> OutcomeClaim:
    """An automatic rule found evidence for and against: staff decide, with the facts in front of them."""
    with transaction.atomic(), acting_as(None, action="claim_send_to_review"):
        claim = _locked_claim(claim)
        if claim.status != ClaimStatus.CLAIMED:
            raise ValidationError({"status": f"Only a claimed claim can go to review; this one is {claim.status}."})
        if claim.in_review and _latest_review_facts(claim) == facts:
            return claim  # already waiting with the same facts: a re-run adds nothing
        claim.in_review = True
        claim.pending_reason = ""
        claim.save(update_fields=["in_review", "pending_reason"])
        _record(claim, Decision.NEEDS_REVIEW, user=None, rule=rule, reason=reason, facts=facts)
        return claim


def _latest_review_facts(claim: OutcomeClaim) -> dict[str, Any] | None:
    latest = claim.verifications.filter(decision=Decision.NEEDS_REVIEW).order_by("-decided_at", "-id").first()
    return latest.facts if latest else None


def _record(
    claim: OutcomeClaim,
    decision: str,
    *,
    user: User | None,
    rule: str = "",
    reason: str = "",
    facts: dict[str, Any] | None = None,
) -> Verification:
    return Verification.objects.create(
        claim=claim,
        decision=decision,
        method=VerificationMethod.STAFF if user is not None else VerificationMethod.AUTOMATIC,
        decided_by=user,
        rule=rule,
        reason=reason,
        facts=facts or {},
    )


#: The staff decisions that may be undone, within ``settings.DECISION_UNDO_MINUTES`` of being made.
UNDOABLE = (Decision.VERIFIED, Decision.REJECTED)


def undo_minutes() -> int:
    """How long a staff member may undo their own decision: ``settings.DECISION_UNDO_MINUTES`` (10)."""
    return int(getattr(settings, "DECISION_UNDO_MINUTES", 10))


def claim_reopen_refusal(
    *,
    claim: OutcomeClaim,
    latest: Verification | None,
    frozen: list[tuple[str, str]],
    user: User,
    now: datetime.datetime,
) -> str | None:
    """Why ``user`` may not reopen the decision on ``claim`` at ``now``, or ``None`` when they may.

    ``latest`` is the claim's latest verification row, ``frozen`` the ``(code, status)`` of the approved or
    paid tranches that hold a line of it. ``claim_reopen`` decides with it; the claim page shows its button
    (or why there is none) from the same answer, on the rows it has read already.
    """
    if claim.status not in UNDOABLE:
        return _("Only a verified or rejected claim can be reopened; this one is %(status)s.") % {
            "status": _status_words(claim.status)
        }
    if latest is None or latest.decision != claim.status or latest.method != VerificationMethod.STAFF:
        return _(
            "Only a staff member's own decision can be reopened: this claim was verified by an automatic rule. "
            "Reverse it, with a reason, if it is wrong."
        )
    if latest.decided_by_id != user.pk:
        return _("Only %(name)s, who made this decision, may reopen it.") % {"name": latest.decided_by}
    minutes = undo_minutes()
    closes = latest.decided_at + datetime.timedelta(minutes=minutes)
    if now > closes:
        values = {"minutes": minutes, "closed": formats.date_format(timezone.localtime(closes), "d M Y H:i")}
        if claim.status == ClaimStatus.VERIFIED:
            return (
                _(
                    "A decision can be reopened within %(minutes)s minutes of it; this one's window closed at "
                    "%(closed)s. Reverse the claim instead, with a reason."
                )
                % values
            )
        return (
            _("A decision can be reopened within %(minutes)s minutes of it; this one's window closed at %(closed)s.")
            % values
        )
    if frozen:
        code, status = frozen[0]
        return _(
            "Its payment line is in tranche %(code)s, which is %(status)s: reverse the claim instead, with a reason."
        ) % {"code": code, "status": _status_words(status)}
    return None


def _status_words(status: str) -> str:
    """A claim's or tranche's status as a sentence says it (``claimed``, ``approved``); an unknown one as it is."""
    words = {
        ClaimStatus.CLAIMED: _("claimed"),
        ClaimStatus.REVERSED: _("reversed"),
        TrancheStatus.APPROVED: _("approved"),
        TrancheStatus.PAID: _("paid"),
    }
    return words.get(status, status)


def claim_reopen(*, claim: OutcomeClaim, user: User, reason: str = "") -> OutcomeClaim:
    """Undo one's own decision (a verification or a rejection) on a claim within the undo window: the claim
    is claimed again and goes back to the staff review queue, for a fresh decision.

    Only the staff member who decided, within ``settings.DECISION_UNDO_MINUTES`` of it, while no approved or
    paid tranche holds a line of the claim (after that, a verified claim is reversed, with a reason). The
    claim's history keeps the decision, and a verification row (``needs_review``, by staff) says it was
    reopened, by whom and why. A reopened verification's line leaves its open tranche at the recompute.
    """
    with transaction.atomic(), acting_as(user, action="claim_reopen", reason=reason.strip()):
        _require_staff(user, action="reopen decisions")
        claim = _locked_claim(claim)
        _require_independent(user, claim)
        latest = claim.verifications.select_related("decided_by").order_by("-decided_at", "-id").first()
        # The tranches that hold its lines, locked: none can be approved while the decision is undone.
        tranches = list(
            Tranche.objects.select_for_update(of=("self",))
            .filter(lines__claim_id=claim.pk)
            .order_by("start_date")
            .values_list("code", "status")
        )
        frozen = [(code, status) for code, status in tranches if status in FROZEN]
        refusal = claim_reopen_refusal(claim=claim, latest=latest, frozen=frozen, user=user, now=timezone.now())
        if refusal is not None:
            raise ValidationError({"status": refusal})
        undone = claim.status
        claim.status = ClaimStatus.CLAIMED
        claim.verified_on = None
        claim.rejection_reason = ""
        claim.in_review = True
        claim.pending_reason = ""
        claim.full_clean()
        claim.save(update_fields=["status", "verified_on", "rejection_reason", "in_review", "pending_reason"])
        when = timezone.localtime(latest.decided_at).strftime("%d %b %Y %H:%M")
        words = f"Reopened by {user}: the {undone} decision of {when} is undone; the claim waits for a decision again."
        _record(
            claim,
            Decision.NEEDS_REVIEW,
            user=user,
            reason=f"{words} {reason.strip()}".strip(),
            facts={"reopened": latest.pk, "undone": undone},
        )
        if undone == ClaimStatus.VERIFIED:
            schedule_recompute_on_commit(contract_id=claim.metric.contract_id)
        return claim


# --- Approval and payment -----------------------------------------------------------------------------


def tranche_total(*, tranche: Tranche) -> Decimal:
    """The sum of a tranche's lines: payments, adjustments and carried-forward balances."""
    total = tranche.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return quantize(total, tranche.contract.currency)


def tranche_paid(*, tranche: Tranche) -> Decimal:
    """What the payer has paid of a tranche so far: the sum of its disbursements."""
    paid = tranche.disbursements.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return quantize(paid, tranche.contract.currency)


CARRIED_TO_NOTE = "Balance below zero carried forward to tranche {code}"
CARRIED_FROM_NOTE = "Balance below zero carried forward from tranche {code}"


def tranche_approve(*, tranche: Tranche, user: User, expected_total: Decimal | None = None) -> Tranche:
    """Approve a tranche for payment, which freezes it: later changes land in the next open tranche.

    Tranches are approved in order: an earlier one still open is approved first. Maker-checker: the
    approver verified none of the claims the tranche pays. The schedule is brought
    up to date first, so what is approved is what the rules give now; with ``expected_total`` the
    approval is refused if that is no longer the total the approver saw.

    A tranche whose total is below zero (claims reversed after an earlier tranche paid them) carries its
    balance into the next open tranche (``_carry_forward``); with none after it, the balance becomes an
    amount the provider owes back (a ``ProviderRefund``). A tranche that totals zero once approved has
    nothing to pay and is settled (paid) at once.
    """
    with transaction.atomic(), acting_as(user, action="tranche_approve"):
        _require_staff(user, action="approve tranches")
        schedule_recompute(contract_id=tranche.contract_id, user=user)
        tranche = Tranche.objects.select_for_update().select_related("contract").get(pk=tranche.pk)
        if tranche.status != TrancheStatus.OPEN:
            raise ValidationError({"status": f"Tranche {tranche.code} is already {tranche.status}."})
        if tranche.end_date >= timezone.localdate():
            raise ValidationError(
                {"status": f"Tranche {tranche.code} runs until {tranche.end_date}: approve it after."}
            )
        earlier = (
            Tranche.objects.filter(
                contract_id=tranche.contract_id, status=TrancheStatus.OPEN, start_date__lt=tranche.start_date
            )
            .order_by("start_date", "id")
            .values_list("code", flat=True)
            .first()
        )
        if earlier is not None:
            # In order: every frozen tranche then precedes every open one, so a late change always lands after
            # what was approved.
            raise ValidationError({"status": f"Approve tranche {earlier} first: tranches are approved in order."})
        if Verification.objects.filter(
            claim__payment_lines__tranche=tranche, decided_by=user, decision=Decision.VERIFIED
        ).exists():
            raise PermissionDenied(
                "Maker-checker: you verified claims this tranche pays, so another staff member must approve it."
            )
        total = tranche_total(tranche=tranche)
        if expected_total is not None and quantize(expected_total, tranche.contract.currency) != total:
            raise ValidationError(
                {"expected_total": f"The tranche now totals {total}, not {expected_total}: review it again."}
            )
        tranche.status = TrancheStatus.APPROVED
        tranche.approved_by = user
        tranche.approved_at = timezone.now()
        tranche.save(update_fields=["status", "approved_by", "approved_at"])
        if total < 0:
            total += _carry_forward(tranche=tranche, balance=total)
        if total == 0:
            tranche.status = TrancheStatus.PAID  # nothing to pay: settled as it is approved
            tranche.save(update_fields=["status"])
        return tranche


def _carry_forward(*, tranche: Tranche, balance: Decimal) -> Decimal:
    """Move the negative ``balance`` of ``tranche`` (approved just now) into the contract's next open tranche:
    a carried-forward line on each, naming the other, bringing ``tranche`` to zero. With no later open tranche
    (the contract's last one), record the balance as owed back by the provider, due the contract's
    ``due_days`` after today. Returns what ``tranche``'s total moved by (``-balance``, or 0 for a refund)."""
    contract = tranche.contract
    following = (
        Tranche.objects.select_for_update()
        .filter(contract=contract, status=TrancheStatus.OPEN, start_date__gt=tranche.start_date)
        .order_by("start_date", "id")
        .first()
    )
    if following is None:
        ProviderRefund.objects.create(
            tranche=tranche,
            amount=-balance,
            currency=contract.currency,
            due=timezone.localdate() + datetime.timedelta(days=contract.due_days),
        )
        return Decimal(0)
    # verified_on: the last day of the tranche whose balance is carried (the lines' allocation order).
    PaymentLine.objects.bulk_create(
        [
            PaymentLine(
                tranche=tranche,
                kind=LineKind.CARRIED_FORWARD,
                carried_with=following,
                verified_on=tranche.end_date,
                amount=-balance,
                note=CARRIED_TO_NOTE.format(code=following.code),
            ),
            PaymentLine(
                tranche=following,
                kind=LineKind.CARRIED_FORWARD,
                carried_with=tranche,
                verified_on=tranche.end_date,
                amount=balance,
                note=CARRIED_FROM_NOTE.format(code=tranche.code),
            ),
        ]
    )
    return -balance


def disbursement_record(
    *, tranche: Tranche, user: User, amount: Decimal, paid_on: datetime.date, reference: str
) -> Disbursement:
    """Record a payment by the payer of an approved tranche: all of what is left to pay, or a part of it.

    Each payment is positive and in whole minor units of the contract's currency; together they never exceed
    the tranche's total. The tranche is paid once they reach it exactly; until then it stays approved, partly
    paid. A reference already recorded for the tranche is refused (a form sent twice records one payment).
    """
    with transaction.atomic(), acting_as(user, action="disbursement_record"):
        _require_staff(user, action="record disbursements")
        tranche = Tranche.objects.select_for_update().select_related("contract").get(pk=tranche.pk)
        if tranche.status == TrancheStatus.PAID:
            raise ValidationError({"tranche": _("Tranche %(code)s is already paid in full.") % {"code": tranche.code}})
        if tranche.status != TrancheStatus.APPROVED:
            raise ValidationError(
                {"tranche": _("Tranche %(code)s must be approved before it is paid.") % {"code": tranche.code}}
            )
        currency = tranche.contract.currency
        total = tranche_total(tranche=tranche)
        paid = tranche_paid(tranche=tranche)
        left = total - paid
        if left <= 0:
            raise ValidationError(
                {
                    "tranche": _(
                        "Tranche %(code)s totals %(total)s: the payer has nothing to pay. What the provider owes "
                        "back is settled as a refund."
                    )
                    % {"code": tranche.code, "total": format_money(total, currency)}
                }
            )
        if paid_on > timezone.localdate():
            raise ValidationError(
                {"paid_on": _("A payment cannot be recorded before it is made: the date is in the future.")}
            )
        if paid_on < tranche.start_date:
            raise ValidationError(
                {
                    "paid_on": _("A payment of tranche %(code)s cannot precede its period, which starts %(start)s.")
                    % {"code": tranche.code, "start": tranche.start_date.isoformat()}
                }
            )
        if not amount.is_finite() or amount != quantize(amount, currency):
            raise ValidationError(
                {"amount": _("Give the amount in whole %(currency)s minor units.") % {"currency": currency}}
            )
        if amount <= 0 or amount > left:
            raise ValidationError(
                {
                    "amount": _(
                        "Tranche %(code)s has %(left)s left to pay (total %(total)s, paid %(paid)s): a payment is "
                        "more than zero and at most that."
                    )
                    % {
                        "code": tranche.code,
                        "left": format_money(left, currency),
                        "total": format_money(total, currency),
                        "paid": format_money(paid, currency),
                    }
                }
            )
        reference = reference.strip()
        if not reference:
            raise ValidationError({"reference": _("Give the payment reference.")})
        if tranche.disbursements.filter(reference=reference).exists():
            raise ValidationError(
                {
                    "reference": _("A payment with reference %(reference)s is already recorded for tranche %(code)s.")
                    % {"reference": reference, "code": tranche.code}
                }
            )
        disbursement = Disbursement(
            tranche=tranche, amount=amount, currency=currency, paid_on=paid_on, reference=reference, recorded_by=user
        )
        disbursement.full_clean()
        disbursement.save()
        if paid + amount == total:
            tranche.status = TrancheStatus.PAID
            tranche.save(update_fields=["status"])
        return disbursement


def refund_settle(
    *, refund: ProviderRefund, user: User, amount: Decimal, settled_on: datetime.date, reference: str
) -> ProviderRefund:
    """Record the provider's repayment of what it owes back: the whole amount, in one payment.

    The tranche whose balance it was is then settled (paid). One repayment, for exactly the amount, because
    the refund is one debt of a closed schedule: a part repayment would leave a balance with no tranche left
    to carry it, so the provider repays it whole.
    """
    with transaction.atomic(), acting_as(user, action="refund_settle"):
        _require_staff(user, action="record refunds")
        refund = ProviderRefund.objects.select_for_update().select_related("tranche").get(pk=refund.pk)
        if refund.settled_on is not None:
            raise ValidationError(
                {
                    "refund": _("This refund was already settled on %(day)s (reference %(reference)s).")
                    % {"day": refund.settled_on.isoformat(), "reference": refund.reference}
                }
            )
        if settled_on > timezone.localdate():
            raise ValidationError(
                {"settled_on": _("A repayment cannot be recorded before it is made: the date is in the future.")}
            )
        raised_on = timezone.localdate(refund.created_at)
        if settled_on < raised_on:
            raise ValidationError(
                {
                    "settled_on": _("The refund was raised on %(day)s: a repayment cannot precede it.")
                    % {"day": raised_on.isoformat()}
                }
            )
        if not amount.is_finite() or amount != refund.amount:
            raise ValidationError(
                {
                    "amount": _("The provider owes %(amount)s: record the repayment of exactly that.")
                    % {"amount": format_money(refund.amount, refund.currency)}
                }
            )
        reference = reference.strip()
        if not reference:
            raise ValidationError({"reference": _("Give the repayment's reference.")})
        refund.settled_on = settled_on
        refund.reference = reference
        refund.recorded_by = user
        refund.full_clean()
        refund.save(update_fields=["settled_on", "reference", "recorded_by"])
        Tranche.objects.filter(pk=refund.tranche_id).update(status=TrancheStatus.PAID)
        return refund


# --- Automatic verification: the rules of ``financing.verification`` applied --------------------------


@dataclass
class VerificationRun:
    verified: int = 0
    review: int = 0
    waiting: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"verified": self.verified, "review": self.review, "waiting": self.waiting}


def verify_pending_claims(*, contract_id: int, today: datetime.date | None = None) -> VerificationRun:
    """Apply the automatic rules to the contract's claims that wait for a decision (not those in review).

    A claim the rules leave waiting keeps what it waits for in ``pending_reason`` ("needs an independent
    source…"), written only when it changed. Safe to run again: a verified claim is not pending any more,
    and a claim sent to review with the same facts is not sent twice.
    """
    today = today or timezone.localdate()
    run = VerificationRun()
    pending = list(
        OutcomeClaim.objects.filter(metric__contract_id=contract_id, status=ClaimStatus.CLAIMED, in_review=False)
        .select_related("metric__contract")
        .order_by("id")
    )
    for batch_start in range(0, len(pending), 2_000):
        batch = pending[batch_start : batch_start + 2_000]
        facts = worker_facts(worker_ids={claim.worker_id for claim in batch}, today=today)
        still_waiting: list[OutcomeClaim] = []
        for claim in batch:
            verdict = decide(claim, facts[claim.worker_id], today=today)
            if verdict.answer == Answer.VERIFY:
                try:
                    claim_verify(
                        claim=claim,
                        user=None,
                        verified_on=today,
                        rule=claim.metric.kind,
                        reason=verdict.reason,
                        facts=verdict.facts,
                        recompute=False,
                    )
                except ValidationError as refused:
                    # e.g. a claim dated after today: it stays claimed; the rest of the run goes on.
                    logger.warning("claim %s not verified: %s", claim.pk, "; ".join(refused.messages))
                    run.waiting += 1
                    continue
                run.verified += 1
            elif verdict.answer == Answer.REVIEW:
                claim_send_to_review(claim=claim, rule=claim.metric.kind, reason=verdict.reason, facts=verdict.facts)
                run.review += 1
            else:
                run.waiting += 1
                reason = verdict.reason[: OutcomeClaim._meta.get_field("pending_reason").max_length]
                if claim.pending_reason != reason:
                    claim.pending_reason = reason
                    still_waiting.append(claim)
        if still_waiting:
            OutcomeClaim.objects.bulk_update(still_waiting, ["pending_reason"])
    if run.verified:
        schedule_recompute_on_commit(contract_id=contract_id)  # once for the run, not per claim
    return run
