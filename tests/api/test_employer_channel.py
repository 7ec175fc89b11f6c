"""The employer's own channel: an employer's users see only the workers employed in its own job openings,
attest starts and continued employment, record separations, and what they supply verifies outcomes that
the recruiter's word alone cannot."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from financing import models as fin
from financing.services import verify_pending_claims
from pilots import models as pil
from tests import factories as f
from workers import models as wrk

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 4, 6)


@dataclass
class World:
    employer: APIClient
    recruiter: APIClient
    mine: wrk.Worker
    theirs: wrk.Worker
    unplaced: wrk.Worker
    employment: wrk.Employment
    other_employment: wrk.Employment
    claim: fin.OutcomeClaim


def client_for(user: pil.User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world() -> World:
    recruiter = f.RecruiterFactory()
    contract = f.RbfContractFactory(provider=recruiter.organisation)
    grower = f.OrganisationFactory(kind=pil.OrganisationKind.EMPLOYER, country="US")
    opening = f.JobOpeningFactory(pilot=contract.pilot, employer=grower)
    other_opening = f.JobOpeningFactory(pilot=contract.pilot)
    mine, theirs, unplaced = (f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot) for _ in range(3))
    employment = f.EmploymentFactory(worker=mine, job_opening=opening, start_date=START)
    other_employment = f.EmploymentFactory(worker=theirs, job_opening=other_opening, start_date=START)
    metric = f.OutcomeMetricFactory(contract=contract, kind=fin.MetricKind.PLACED)
    return World(
        employer=client_for(f.UserFactory(role=pil.Role.EMPLOYER, organisation=grower)),
        recruiter=client_for(f.RecruiterUserFactory(organisation=recruiter.organisation)),
        mine=mine,
        theirs=theirs,
        unplaced=unplaced,
        employment=employment,
        other_employment=other_employment,
        claim=f.OutcomeClaimFactory(metric=metric, worker=mine, achieved_on=START),
    )


def test_an_employer_sees_only_the_workers_employed_in_its_openings(world):
    listed = world.employer.get("/api/v1/workers/").json()["results"]
    assert [row["id"] for row in listed] == [world.mine.pk]
    assert world.employer.get(f"/api/v1/workers/{world.mine.pk}/").status_code == 200
    for other in (world.theirs, world.unplaced):
        assert world.employer.get(f"/api/v1/workers/{other.pk}/").status_code == 404
        assert world.employer.get(f"/api/v1/workers/{other.pk}/evidence/").status_code == 404
    jobs = world.employer.get(f"/api/v1/workers/{world.mine.pk}/employments/").json()
    assert [job["id"] for job in jobs] == [world.employment.pk]


def test_an_employer_reads_nothing_else(world):
    for url in ("/api/v1/claims/", "/api/v1/fee-reports/", "/api/v1/contracts/"):
        response = world.employer.get(url)
        assert response.status_code == 200 and response.json()["results"] == [], url
    for url in ("/api/v1/scorecard/", "/api/v1/decisions/"):
        assert world.employer.get(url).status_code == 403, url


def test_an_employer_changes_no_worker_journey_claim_or_declaration(world):
    worker = f"/api/v1/workers/{world.mine.pk}/"
    assert world.employer.patch(worker, {"phone": "+1 509 555 0100"}, format="json").status_code == 403
    move = world.employer.post(worker + "events/", {"stage": "screened"}, format="json")
    assert move.status_code == 403
    assert world.employer.post(worker + "fee-declaration/", {}, format="json").status_code == 403
    claim = {"metric": world.claim.metric_id, "worker": world.mine.pk, "achieved_on": START.isoformat()}
    assert world.employer.post("/api/v1/claims/", claim, format="json").status_code in (400, 403)
    assert not wrk.JourneyEvent.objects.filter(worker=world.mine).exists()


def test_the_employers_attestation_verifies_what_the_recruiters_could_not(world):
    recruiter_upload = world.recruiter.post(
        f"/api/v1/workers/{world.mine.pk}/evidence/",
        {"kind": "employer_attestation", "reference": "Letter forwarded by the agency"},
        format="json",
    )
    assert recruiter_upload.json()["source"] == "recruiter"
    assert verify_pending_claims(contract_id=world.claim.metric.contract_id).waiting == 1

    attestation = world.employer.post(
        f"/api/v1/workers/{world.mine.pk}/evidence/",
        {
            "kind": "employer_attestation",
            "reference": "HR letter 2026-0418",
            "facts": {"employment_started_on": START.isoformat()},
        },
        format="json",
    )
    assert attestation.status_code == 201
    assert (attestation.json()["source"], attestation.json()["source_organisation"]) == (
        "employer",
        world.employment.job_opening.employer_id,
    )
    assert verify_pending_claims(contract_id=world.claim.metric.contract_id).verified == 1
    # The employer sees what it supplied, not the recruiter's upload.
    seen = world.employer.get(f"/api/v1/workers/{world.mine.pk}/evidence/").json()
    assert [row["id"] for row in seen] == [attestation.json()["id"]]


def test_an_employer_records_a_separation_of_its_own_employee_only(world):
    end = {"end_date": "2026-07-01", "separation_reason": "resigned"}
    url = f"/api/v1/workers/{world.mine.pk}/employments/{world.employment.pk}/"
    ended = world.employer.patch(url, end, format="json")
    assert ended.status_code == 200, ended.content
    assert (ended.json()["end_date"], ended.json()["source"]) == ("2026-07-01", "employer")

    other = f"/api/v1/workers/{world.theirs.pk}/employments/{world.other_employment.pk}/"
    assert world.employer.patch(other, end, format="json").status_code == 404
    world.other_employment.refresh_from_db()
    assert world.other_employment.end_date is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2099-01-01", "separation_reason": "resigned"}, "end_date"),
        ({"end_date": "2026-01-01", "separation_reason": "resigned"}, "end_date"),  # before the start
        ({"end_date": "2026-07-01", "separation_reason": "vanished"}, "separation_reason"),
        ({"end_date": "not a date", "separation_reason": "resigned"}, "end_date"),
        ({"end_date": "2026-07-01", "separation_reason": "resigned", "note": "x" * 2001}, "note"),
    ],
)
def test_a_bad_separation_is_a_400_naming_the_field_and_nothing_is_written(world, change, field):
    url = f"/api/v1/workers/{world.mine.pk}/employments/{world.employment.pk}/"
    response = world.employer.patch(url, change, format="json")
    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    world.employment.refresh_from_db()
    assert world.employment.end_date is None


def test_the_recruiter_records_a_start_that_only_the_employer_can_confirm(world):
    opening = world.employment.job_opening
    response = world.recruiter.post(
        f"/api/v1/workers/{world.unplaced.pk}/employments/",
        {"job_opening": opening.pk, "start_date": START.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["source"] == "recruiter"
    # The worker now works for the grower: its employer sees them, and can attest.
    assert world.employer.get(f"/api/v1/workers/{world.unplaced.pk}/").status_code == 200

    bad = world.recruiter.post(
        f"/api/v1/workers/{world.unplaced.pk}/employments/",
        {"job_opening": 10**9, "start_date": "2999-01-01"},
        format="json",
    )
    assert bad.status_code == 400
    assert {error["field"] for error in bad.json()["errors"]} == {"start_date"}
