"""Writes about recruitment: fee reports, and what a reported fee means for zero-fee outcomes."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from financing import services as financing_services
from financing.models import ClaimStatus, MetricKind, OutcomeClaim
from lamp.history import acting_as
from pilots.models import User
from recruitment.models import FeeReport
from workers.models import Worker


@transaction.atomic
def fee_report_record(
    *,
    worker: Worker,
    category: str,
    amount: Decimal,
    currency: str,
    source: str,
    reported_by: User | None,
    paid_to: str = "",
    paid_on: datetime.date | None = None,
    recovered_by_wage_deduction: bool = False,
    note: str = "",
) -> FeeReport:
    """Record a fee the worker paid to be recruited.

    The pilots are zero-fee, so a fee above zero is a finding: a verified ``ZERO_FEE`` outcome of this
    worker is reversed, and what it was paid comes back through the schedule (a clawback).
    """
    with acting_as(reported_by, action="fee_report_record"):
        report = FeeReport(
            worker=worker,
            recruiter_id=worker.recruiter_id,
            category=category,
            amount=amount,
            currency=currency,
            source=source,
            reported_by=reported_by,
            paid_to=paid_to,
            paid_on=paid_on,
            recovered_by_wage_deduction=recovered_by_wage_deduction,
            note=note,
        )
        report.full_clean()
        report.save()
    if amount > 0:
        # The same reading as the ZERO_FEE rule: a fee paid to the worker's recruiter, whoever the contract pays.
        claims = OutcomeClaim.objects.filter(
            worker=worker, status=ClaimStatus.VERIFIED, metric__kind=MetricKind.ZERO_FEE
        )
        for claim in claims:
            financing_services.claim_reverse(
                claim=claim,
                user=None,
                rule=MetricKind.ZERO_FEE,
                reason=f"Fee reported after verification: {report.get_category_display()}, {report.amount_display}.",
                facts={"fee_report": report.pk, "category": category, "amount": str(amount), "currency": currency},
            )
    return report
