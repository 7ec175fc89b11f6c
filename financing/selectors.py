"""Reads that turn a live contract into the plain inputs of the payment rules."""

from __future__ import annotations

from financing import payments
from financing.models import ClaimStatus, OutcomeClaim, OutcomeMetric, RbfContract, Tranche, TranchePeriod


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
