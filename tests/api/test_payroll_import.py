"""``POST /api/v1/payroll/import/``: an employer's pay slips become payroll records the rules read, and a
deduction that recovers a recruitment fee is a finding."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from financing import models as fin
from financing.services import verify_pending_claims
from pilots import models as pil
from tests import factories as f
from workers.models import Evidence, FeeDeclaration, FeeReport

pytestmark = pytest.mark.django_db

URL = "/api/v1/payroll/import/"
START = datetime.date(2026, 4, 6)


@pytest.fixture
def world() -> dict:
    recruiter = f.RecruiterFactory()
    contract = f.RbfContractFactory(provider=recruiter.organisation)
    grower = f.OrganisationFactory(kind=pil.OrganisationKind.EMPLOYER, country="US")
    opening = f.JobOpeningFactory(pilot=contract.pilot, employer=grower)
    worker = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot)
    f.EmploymentFactory(worker=worker, job_opening=opening, start_date=START)
    stranger = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot)
    f.EmploymentFactory(worker=stranger, start_date=START)  # another employer's
    client = APIClient()
    client.force_authenticate(f.UserFactory(role=pil.Role.EMPLOYER, organisation=grower))
    return {"client": client, "worker": worker, "stranger": stranger, "contract": contract, "grower": grower}


def slip(worker, **changes) -> dict:  # noqa: ANN001, ANN003
    return {
        "worker": worker.pk,
        "period_start": "2026-04-06",
        "period_end": "2026-04-19",
        "currency": "USD",
        "gross": "1840.00",
        "deductions": [{"purpose": "tax", "amount": "248.60"}, {"purpose": "housing", "amount": "79.00"}],
        "net": "1512.40",
        **changes,
    }


def test_a_pay_slip_becomes_the_employers_payroll_record_and_confirms_a_zero_fee_outcome(world, eager_tasks):
    metric = f.OutcomeMetricFactory(contract=world["contract"], kind=fin.MetricKind.ZERO_FEE)
    claim = f.OutcomeClaimFactory(metric=metric, worker=world["worker"], achieved_on=START)
    FeeDeclaration.objects.create(worker=world["worker"], recruiter=world["worker"].recruiter)
    f.EvidenceFactory(worker=world["worker"], kind="worker_survey", facts={"fee_paid": False})

    response = world["client"].post(URL, {"rows": [slip(world["worker"])]}, format="json")

    assert response.status_code == 201, response.content
    record = Evidence.objects.get(pk=response.json()["ids"][0])
    assert (record.kind, record.source, record.source_organisation) == ("payroll_record", "employer", world["grower"])
    assert record.facts["deductions"][0] == {"purpose": "tax", "amount": "248.60"}
    assert verify_pending_claims(contract_id=world["contract"].pk).verified == 1
    claim.refresh_from_db()
    assert claim.status == fin.ClaimStatus.VERIFIED


def test_a_deduction_for_a_recruitment_fee_is_a_finding(world):
    row = slip(
        world["worker"],
        deductions=[{"purpose": "tax", "amount": "248.60"}, {"purpose": "recruitment_fee", "amount": "150.00"}],
        net="1441.40",
    )
    assert world["client"].post(URL, [row], format="json").status_code == 201
    fee = FeeReport.objects.get()
    assert (fee.source, fee.category, fee.amount, fee.recovered_by_wage_deduction) == (
        "employer_payroll",
        "recruitment_fee",
        150,
        True,
    )


def test_csv_with_bad_rows_atomic_writes_nothing_and_partial_writes_the_good(world):
    csv = (
        "worker,period_start,period_end,currency,gross,deductions,net\n"
        f"{world['worker'].pk},2026-04-06,2026-04-19,USD,1840.00,tax:248.60;housing:79.00,1512.40\n"
        f"{world['stranger'].pk},2026-04-06,2026-04-19,USD,1840.00,,1840.00\n"
        f"{world['worker'].pk},2026-04-20,2026-04-03,USD,1840.00,,1840.00\n"
        f"{world['worker'].pk},2026-05-04,2026-05-17,USD,1840.00,bribe:10,1830.00\n"
        f"{world['worker'].pk},2026-05-18,2026-05-31,USD,1840.001,,1840.00\n"
        f"{world['worker'].pk},2026-06-01,2026-06-14,USD,1840.00,tax:100,1840.00\n"
    )
    atomic = world["client"].post(URL, csv, content_type="text/csv")
    assert atomic.status_code == 400
    fields = [error["field"] for error in atomic.json()["errors"]]
    assert fields == [
        "rows[2].worker",
        "rows[3].period_end",
        "rows[4].deductions[0].purpose",
        "rows[5].gross",
        "rows[6].net",
    ]
    assert not Evidence.objects.exists()

    partial = world["client"].post(URL + "?mode=partial", csv, content_type="text/csv")
    assert partial.status_code == 201
    assert partial.json()["created"] == 1 and len(partial.json()["errors"]) == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("worker,period_start\n1,2026-04-06\n", "file"),  # missing columns
        ("worker,period_start,period_end,currency,gross,net,colour\n", "file"),  # unknown column
        (b"worker,period_start,period_end,currency,gross,net\n1,\x00,2026-04-19,USD,1,1\n", "file"),
        (b"\xff\xfe", "file"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_400_naming_it(world, body, field):
    response = world["client"].post(URL, body, content_type="text/csv")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_only_employers_and_staff_import_payroll_and_only_their_employees(world):
    recruiter = APIClient()
    recruiter.force_authenticate(f.RecruiterUserFactory(organisation=world["worker"].recruiter.organisation))
    assert recruiter.post(URL, [slip(world["worker"])], format="json").status_code == 403
    other = world["client"].post(URL, [slip(world["stranger"])], format="json")
    assert other.status_code == 400 and other.json()["errors"][0]["field"] == "rows[1].worker"
    future = world["client"].post(URL, [slip(world["worker"], period_end="2099-01-01")], format="json")
    assert future.json()["errors"][0]["field"] == "rows[1].period_end"
    assert world["client"].post(URL + "?mode=all", [slip(world["worker"])], format="json").status_code == 400
