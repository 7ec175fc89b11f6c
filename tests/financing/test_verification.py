"""Automatic verification: each rule verifies, waits, or sends to review; a later fee claws back."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from financing.models import ClaimStatus, Decision, MetricKind, VerificationMethod
from financing.services import verify_pending_claims
from tests import factories as f
from workers.models import EvidenceKind
from workers.services import fee_report_record

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 10, 15)


def claim_for(kind: str, **metric_fields):  # noqa: ANN201
    metric = f.OutcomeMetricFactory(kind=kind, **metric_fields)
    return f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 4, 6))


def run(claim):  # noqa: ANN001, ANN201
    result = verify_pending_claims(contract_id=claim.metric.contract_id, today=TODAY)
    claim.refresh_from_db()
    return result


def test_placed_verifies_with_employment_and_attestation():
    claim = claim_for(MetricKind.PLACED)
    f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))
    assert run(claim).waiting == 1 and claim.status == ClaimStatus.CLAIMED

    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)
    assert run(claim).verified == 1
    assert (claim.status, claim.verified_on) == (ClaimStatus.VERIFIED, TODAY)
    verification = claim.verifications.get()
    assert (verification.method, verification.decided_by, verification.rule) == (
        VerificationMethod.AUTOMATIC,
        None,
        MetricKind.PLACED,
    )
    assert verification.facts["employer_attestation"] is True


def test_placed_goes_to_review_when_the_journey_disagrees():
    claim = claim_for(MetricKind.PLACED)
    claim.worker.current_stage = "visa_denied"
    claim.worker.save()
    f.EmploymentFactory(worker=claim.worker)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)

    assert run(claim).review == 1
    assert claim.status == ClaimStatus.CLAIMED and claim.in_review
    review = claim.verifications.get()
    assert review.decision == Decision.NEEDS_REVIEW and "visa_denied" in review.reason
    assert run(claim).review == 0  # claims in review wait for staff: a re-run adds nothing
    assert claim.verifications.count() == 1


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime.date(2026, 4, 6), None, "verified"),
        (datetime.date(2026, 4, 6), datetime.date(2026, 10, 10), "verified"),
        (datetime.date(2026, 6, 1), None, "waiting"),
        (datetime.date(2026, 4, 6), datetime.date(2026, 7, 1), "review"),
    ],
    ids=["still employed", "ended after day 180", "day 180 not reached", "separated before day 180"],
)
def test_retention_counts_days_of_employment(start, end, expected):
    claim = claim_for(MetricKind.RETAINED_N, retention_days=180)
    f.EmploymentFactory(
        worker=claim.worker, start_date=start, end_date=end, separation_reason="resigned" if end else ""
    )
    assert getattr(run(claim), expected) == 1


def test_zero_fee_needs_the_workers_survey_and_no_fee():
    claim = claim_for(MetricKind.ZERO_FEE)
    assert run(claim).waiting == 1
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    assert run(claim).verified == 1


def test_zero_fee_with_a_reported_fee_goes_to_review():
    claim = claim_for(MetricKind.ZERO_FEE)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    f.FeeReportFactory(worker=claim.worker, amount=Decimal("350.00"))
    assert run(claim).review == 1
    assert claim.verifications.get().facts["fees_reported"][0]["amount"] == "350.000"


def test_a_fee_reported_after_verification_reverses_the_zero_fee_claim(django_capture_on_commit_callbacks, eager_tasks):
    claim = claim_for(MetricKind.ZERO_FEE)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    run(claim)
    assert claim.status == ClaimStatus.VERIFIED

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fee_report_record(
            worker=claim.worker,
            category="medical",
            amount=Decimal("120.00"),
            currency="GTQ",
            source="worker_survey",
            reported_by=None,
        )

    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED and "Medical costs" in claim.reversal_reason
    assert claim.verifications.order_by("id").last().decision == Decision.REVERSED
    # After commit, in order: the fee is announced, financing applies the finding, and the contract's
    # schedule is recomputed (the clawback).
    assert len(callbacks) == 3


def test_a_zero_fee_report_changes_nothing():
    claim = claim_for(MetricKind.ZERO_FEE)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    run(claim)
    fee_report_record(
        worker=claim.worker, category="medical", amount=Decimal("0"), currency="GTQ", source="staff", reported_by=None
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED


def test_trained_needs_a_passed_course_with_certificate():
    claim = claim_for(MetricKind.TRAINED)
    enrollment = f.TrainingEnrollmentFactory(worker=claim.worker, completed_on=datetime.date(2026, 3, 30), passed=True)
    assert run(claim).waiting == 1
    enrollment.certificate = f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.CERTIFICATE)
    enrollment.save()
    assert run(claim).verified == 1


def test_manual_metrics_wait_for_staff():
    claim = claim_for(MetricKind.MANUAL)
    assert run(claim).waiting == 1


def test_facts_are_read_in_a_constant_number_of_queries(django_assert_max_num_queries):
    metric = f.OutcomeMetricFactory(kind=MetricKind.RETAINED_N, retention_days=180)
    for _ in range(15):
        claim = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 6, 1))
        f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 6, 1))
    with django_assert_max_num_queries(7):
        assert verify_pending_claims(contract_id=metric.contract_id, today=TODAY).waiting == 15


def test_a_run_enqueues_one_recompute_for_the_contract_not_one_per_claim(django_capture_on_commit_callbacks):
    metric = f.OutcomeMetricFactory(kind=MetricKind.PLACED)
    for _ in range(4):
        claim = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 4, 6))
        f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))
        f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)

    with django_capture_on_commit_callbacks() as callbacks:
        assert verify_pending_claims(contract_id=metric.contract_id, today=TODAY).verified == 4

    assert len(callbacks) == 1


def test_a_claim_that_cannot_be_verified_yet_does_not_stop_the_run():
    metric = f.OutcomeMetricFactory(kind=MetricKind.PLACED)
    early = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 12, 1))  # after "today"
    f.EmploymentFactory(worker=early.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=early.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)
    ready = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=ready.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=ready.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)

    run_result = verify_pending_claims(contract_id=metric.contract_id, today=TODAY)

    assert (run_result.verified, run_result.waiting) == (1, 1)
    early.refresh_from_db()
    assert early.status == ClaimStatus.CLAIMED and not early.verifications.exists()
