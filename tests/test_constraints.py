"""Integrity held by the database itself: a write that breaks a rule fails whatever code path made it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from financing.models import OutcomeClaim
from tests import factories as f

pytestmark = pytest.mark.django_db


def refused(make) -> None:  # noqa: ANN001 - a callable building one row
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_one_claim_per_worker_metric_and_unit():
    claim = f.OutcomeClaimFactory()
    refused(lambda: f.OutcomeClaimFactory(metric=claim.metric, worker=claim.worker, unit=1))
    f.OutcomeClaimFactory(metric=claim.metric, worker=claim.worker, unit=2)
    assert OutcomeClaim.objects.count() == 2


def test_licence_numbers_are_unique_per_country():
    recruiter = f.RecruiterFactory(licence_number="MINTRAB-0042", licence_country="GT")
    refused(lambda: f.RecruiterFactory(licence_number=recruiter.licence_number, licence_country="GT"))
    f.RecruiterFactory(licence_number=recruiter.licence_number, licence_country="MX")


@pytest.mark.parametrize(
    "fields",
    [
        {"price": Decimal("-1.00")},
        {"price": None, "tiers": None},
        {"price": Decimal("500"), "tiers": [{"units": None, "price": "500"}]},
        {"threshold_rate": Decimal("1.5")},
        {"cap_amount": Decimal("-0.01")},
        {"max_units_per_worker": 0},
        {"kind": "retained_n", "retention_days": None},
    ],
    ids=["negative price", "no price", "price and tiers", "rate above 1", "negative cap", "zero units", "no days"],
)
def test_metric_terms_are_checked(fields):
    refused(lambda: f.OutcomeMetricFactory(**fields))


def test_threshold_needs_its_denominator():
    placed = f.OutcomeMetricFactory(code="PLACED")
    refused(lambda: f.OutcomeMetricFactory(contract=placed.contract, code="R180", threshold_rate=Decimal("0.8")))
    f.OutcomeMetricFactory(
        contract=placed.contract, code="R180", threshold_rate=Decimal("0.8"), denominator_metric=placed
    )


@pytest.mark.parametrize(
    ("factory", "fields"),
    [
        (f.RbfContractFactory, {"end_date": datetime.date(2025, 12, 31)}),
        (f.RbfContractFactory, {"cap_total": Decimal("-5")}),
        (f.PilotFactory, {"end_date": datetime.date(2025, 1, 1)}),
        (f.PilotFactory, {"origin_countries": []}),
        (f.PilotFactory, {"required_stages": ["registered", "screened", "working"]}),
        (f.JobOpeningFactory, {"season_end": datetime.date(2026, 1, 1)}),
        (f.JobOpeningFactory, {"wage_amount": Decimal("-1")}),
        (f.EmploymentFactory, {"end_date": datetime.date(2026, 1, 1)}),
        (f.EmploymentFactory, {"separation_reason": "resigned"}),
        (f.TrancheFactory, {"end_date": datetime.date(2025, 12, 1)}),
        (f.TrancheFactory, {"status": "approved"}),
        (f.FeeReportFactory, {"amount": Decimal("-10")}),
        (f.OutcomeClaimFactory, {"status": "verified"}),
        (f.OutcomeClaimFactory, {"status": "rejected"}),
        (f.OutcomeClaimFactory, {"verified_on": datetime.date(2025, 1, 1)}),
        (f.EvidenceFactory, {"reference": ""}),
        (f.RecruiterFactory, {"zero_fee_pledge_signed_on": None}),
        (f.UserFactory, {"role": "recruiter"}),
    ],
    ids=lambda v: getattr(v, "__name__", None) or ",".join(v),
)
def test_check_constraints(factory, fields):
    refused(lambda: factory(**fields))


def test_payer_and_provider_differ():
    org = f.OrganisationFactory()
    refused(lambda: f.RbfContractFactory(payer=org, provider=org))


def test_a_payment_reference_is_recorded_once_per_tranche():
    disbursement = f.DisbursementFactory(amount=Decimal("500.00"))
    f.DisbursementFactory(tranche=disbursement.tranche, amount=Decimal("500.00"))  # a second part: fine
    refused(lambda: f.DisbursementFactory(tranche=disbursement.tranche, reference=disbursement.reference))


def test_deletes_that_would_lose_money_or_history_are_protected():
    line = f.PaymentLineFactory()
    with pytest.raises(ProtectedError):
        line.claim.delete()
    with pytest.raises(ProtectedError):
        line.tranche.contract.delete()
    with pytest.raises(ProtectedError):
        line.claim.worker.delete()
    with pytest.raises(ProtectedError):
        line.claim.worker.recruiter.organisation.delete()
