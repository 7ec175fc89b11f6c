"""Automatic verification: each rule verifies, waits, or sends to review; a later fee claws back."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from financing.models import ClaimStatus, Decision, MetricKind, VerificationMethod
from financing.services import verify_pending_claims
from tests import factories as f
from workers.models import EvidenceKind, FeeDeclaration, Source
from workers.services import fee_report_record

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 10, 15)


def claim_for(kind: str, **metric_fields):  # noqa: ANN201
    metric = f.OutcomeMetricFactory(kind=kind, **metric_fields)
    return f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 4, 6))


def zero_fee_claim(*, payroll: bool, declaration: bool, **metric_fields):  # noqa: ANN003, ANN201
    """A ZERO_FEE claim of the worker's own recruiter, for an employment that started on its date; with the
    employer's payroll (no fee deducted) and the recruiter's declaration as asked."""
    claim = claim_for(MetricKind.ZERO_FEE, **metric_fields)
    job = f.EmploymentFactory(worker=claim.worker, start_date=claim.achieved_on)
    if payroll:
        employer = job.job_opening.employer
        f.EvidenceFactory(
            worker=claim.worker,
            kind=EvidenceKind.PAYROLL_RECORD,
            source=Source.EMPLOYER,
            source_organisation=employer,
            facts={"period_start": "2026-04-06", "period_end": "2026-04-19", "deductions": [{"purpose": "tax"}]},
        )
    if declaration:
        FeeDeclaration.objects.create(worker=claim.worker, recruiter=claim.worker.recruiter)
    return claim


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
    assert any("Employer attestation from program staff" in line for line in verification.facts["for"])


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
    metric = f.OutcomeMetricFactory(kind=MetricKind.RETAINED_N, retention_days=180)
    claim = f.OutcomeClaimFactory(metric=metric, achieved_on=start + datetime.timedelta(days=180))
    f.EmploymentFactory(
        worker=claim.worker, start_date=start, end_date=end, separation_reason="resigned" if end else ""
    )
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)  # staff, on the day of the run
    assert getattr(run(claim), expected) == 1


def test_zero_fee_needs_the_workers_survey_and_no_fee():
    claim = zero_fee_claim(payroll=True, declaration=True)
    assert run(claim).waiting == 1
    assert claim.pending_reason == "Waiting for the worker's own answer about fees."
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    assert run(claim).verified == 1


def test_zero_fee_with_a_reported_fee_goes_to_review():
    claim = zero_fee_claim(payroll=True, declaration=True)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    f.FeeReportFactory(worker=claim.worker, amount=Decimal("350.00"))
    assert run(claim).review == 1
    assert claim.verifications.get().facts["against"] == ["Fee reported: Recruitment fee"]


def test_a_fee_reported_after_verification_reverses_the_zero_fee_claim(django_capture_on_commit_callbacks, eager_tasks):
    claim = zero_fee_claim(payroll=True, declaration=True)
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
    claim = zero_fee_claim(payroll=True, declaration=True)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    run(claim)
    fee_report_record(
        worker=claim.worker, category="medical", amount=Decimal("0"), currency="GTQ", source="staff", reported_by=None
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED


def test_trained_needs_a_passed_course_with_certificate():
    claim = claim_for(MetricKind.TRAINED)
    enrollment = f.TrainingEnrollmentFactory(worker=claim.worker, completed_on=datetime.date(2026, 4, 6), passed=True)
    assert run(claim).waiting == 1  # a result nobody independent recorded
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
    # The claims; the workers, employments, evidence, fees, declarations and courses; and one write of what
    # the waiting claims now wait for, which a second run with nothing new leaves out.
    with django_assert_max_num_queries(8):
        assert verify_pending_claims(contract_id=metric.contract_id, today=TODAY).waiting == 15
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


def test_a_claim_dated_other_than_its_employment_goes_to_review_and_the_run_goes_on():
    metric = f.OutcomeMetricFactory(kind=MetricKind.PLACED)
    wrong = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 1, 5))
    f.EmploymentFactory(worker=wrong.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=wrong.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)
    ready = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=ready.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=ready.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)

    run_result = verify_pending_claims(contract_id=metric.contract_id, today=TODAY)

    assert (run_result.verified, run_result.review) == (1, 1)
    wrong.refresh_from_db()
    assert wrong.in_review and "not the day the employment started" in wrong.verifications.get().reason


# --- The payee's word never pays the payee ----------------------------------------------------------------


def payee_claim(kind: str, **metric_fields):  # noqa: ANN003, ANN201
    """A claim under a contract whose provider (the payee) is the worker's own recruiter."""
    worker = f.WorkerFactory()
    contract = f.RbfContractFactory(pilot=worker.pilot, provider=worker.recruiter.organisation)
    metric = f.OutcomeMetricFactory(contract=contract, kind=kind, **metric_fields)
    return f.OutcomeClaimFactory(metric=metric, worker=worker, achieved_on=datetime.date(2026, 4, 6))


def from_payee(claim, **fields):  # noqa: ANN001, ANN003, ANN201
    return f.EvidenceFactory(
        worker=claim.worker, source=Source.RECRUITER, source_organisation=claim.metric.contract.provider, **fields
    )


def test_an_attestation_the_payee_uploaded_does_not_verify_a_placement():
    claim = payee_claim(MetricKind.PLACED)
    f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))
    from_payee(claim, kind=EvidenceKind.EMPLOYER_ATTESTATION)

    assert run(claim).waiting == 1
    assert claim.pending_reason.startswith("Needs an independent source: the employment is supported only by the payee")
    assert "the employer (an attestation or payroll), the worker's own answer, program staff" in claim.pending_reason


def test_the_employer_confirms_a_placement_on_its_own_record():
    claim = payee_claim(MetricKind.PLACED)
    job = f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))
    job.source, job.source_organisation = Source.EMPLOYER, job.job_opening.employer
    job.save()
    assert run(claim).verified == 1


def test_a_second_unit_needs_a_second_employment():
    claim = payee_claim(MetricKind.PLACED, max_units_per_worker=2)
    f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)
    assert run(claim).verified == 1
    second = f.OutcomeClaimFactory(metric=claim.metric, worker=claim.worker, unit=2, achieved_on=claim.achieved_on)

    assert run(second).waiting == 1  # the same job cannot pay twice
    assert second.pending_reason == "Waiting for employment number 2 (a new season) to be on record."


def test_a_survey_the_payee_wrote_is_not_the_workers_answer():
    claim = payee_claim(MetricKind.ZERO_FEE, sources=[Source.RECRUITER, Source.WORKER])
    f.EmploymentFactory(worker=claim.worker, start_date=claim.achieved_on)
    FeeDeclaration.objects.create(worker=claim.worker, recruiter=claim.worker.recruiter)
    from_payee(claim, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})

    assert run(claim).waiting == 1
    assert claim.pending_reason == "Waiting for the worker's own answer about fees."


def test_zero_fee_waits_for_each_missing_voice_and_a_pilot_may_name_fewer():
    claim = zero_fee_claim(payroll=False, declaration=False)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    assert run(claim).waiting == 1
    assert claim.pending_reason == (
        "Waiting for the recruiter's declaration that no fee was charged and the employer's payroll."
    )
    cruise = zero_fee_claim(payroll=False, declaration=True, sources=[Source.RECRUITER, Source.WORKER])
    f.EvidenceFactory(worker=cruise.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    assert run(cruise).verified == 1


def test_a_payroll_deduction_that_recovers_a_fee_is_a_finding():
    claim = zero_fee_claim(payroll=False, declaration=True)
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"fee_paid": False})
    employer = claim.worker.employments.get().job_opening.employer
    f.EvidenceFactory(
        worker=claim.worker,
        kind=EvidenceKind.PAYROLL_RECORD,
        source=Source.EMPLOYER,
        source_organisation=employer,
        facts={"deductions": [{"purpose": "recruitment_fee", "amount": "150.00"}]},
    )
    assert run(claim).review == 1
    assert "The payroll deducts 150.00 for recruitment fee" in claim.verifications.get().facts["against"]


def test_retention_is_confirmed_on_or_after_day_n_and_a_separation_before_it_is_a_review():
    metric = f.OutcomeMetricFactory(kind=MetricKind.RETAINED_N, retention_days=180)
    start = datetime.date(2026, 4, 6)
    claim = f.OutcomeClaimFactory(metric=metric, achieved_on=start + datetime.timedelta(days=180))
    f.EmploymentFactory(worker=claim.worker, start_date=start)
    f.EvidenceFactory(worker=claim.worker, facts={"employed_on": "2026-06-01"})  # before day 180: does not count
    assert run(claim).waiting == 1
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.WORKER_SURVEY, facts={"working": False})
    assert run(claim).review == 0  # the worker's "no longer working" came after day 180: not a separation before it
    assert run(claim).verified == 0

    other = f.OutcomeClaimFactory(metric=metric, achieved_on=start + datetime.timedelta(days=180))
    f.EmploymentFactory(worker=other.worker, start_date=start)
    f.EvidenceFactory(worker=other.worker, facts={"separated_on": "2026-07-01"})
    assert run(other).review == 1


def test_a_certificate_from_the_payee_supports_but_does_not_verify_a_training_outcome():
    provider = f.OrganisationFactory(kind="training_provider", country="GT")
    worker = f.WorkerFactory()
    contract = f.RbfContractFactory(pilot=worker.pilot, provider=provider)
    metric = f.OutcomeMetricFactory(contract=contract, kind=MetricKind.TRAINED)
    claim = f.OutcomeClaimFactory(metric=metric, worker=worker, achieved_on=datetime.date(2026, 4, 6))
    certificate = f.EvidenceFactory(
        worker=worker, kind=EvidenceKind.CERTIFICATE, source=Source.TRAINING_PROVIDER, source_organisation=provider
    )
    course = f.TrainingEnrollmentFactory(
        worker=worker, provider=provider, completed_on=claim.achieved_on, passed=True, certificate=certificate
    )
    assert run(claim).waiting == 1 and "only by the payee" in claim.pending_reason

    course.result_source, course.result_organisation = Source.VERIFIER, f.OrganisationFactory(kind="verifier")
    course.save()
    assert run(claim).verified == 1
