"""The payee's word never pays the payee: what a recruiter supplies through the API about its own workers is
shown and kept, but never verifies its own claim, and each unit needs an outcome of its own.

The three ways a recruiter could once be paid on its own say, tried through the partner API: none verifies,
none adds a payment line, and each claim says which independent source it waits for.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from financing import models as fin
from financing.services import schedule_recompute
from pilots import models as pil
from tests import factories as f
from workers import models as wrk

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 4, 6)


@dataclass
class World:
    client: APIClient
    user: pil.User
    contract: fin.RbfContract
    placed: fin.OutcomeMetric
    zero_fee: fin.OutcomeMetric
    worker: wrk.Worker


@pytest.fixture
def world() -> World:
    recruiter = f.RecruiterFactory()
    contract = f.RbfContractFactory(provider=recruiter.organisation)
    user = f.RecruiterUserFactory(organisation=recruiter.organisation)
    client = APIClient()
    client.force_authenticate(user)
    return World(
        client=client,
        user=user,
        contract=contract,
        placed=f.OutcomeMetricFactory(contract=contract, code="PLACED", max_units_per_worker=2),
        zero_fee=f.OutcomeMetricFactory(contract=contract, code="ZERO_FEE", kind=fin.MetricKind.ZERO_FEE),
        worker=f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot),
    )


def claim(world: World, metric: fin.OutcomeMetric, **changes: object) -> dict:
    body = {"metric": metric.pk, "worker": world.worker.pk, "achieved_on": START.isoformat(), **changes}
    response = world.client.post("/api/v1/claims/", body, format="json")
    assert response.status_code == 201, response.content
    return world.client.get(f"/api/v1/claims/{response.json()['id']}/").json()


def upload(world: World, kind: str, facts: dict) -> dict:
    body = {"kind": kind, "reference": "Sent by the agency", "facts": facts}
    response = world.client.post(f"/api/v1/workers/{world.worker.pk}/evidence/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def lines(world: World) -> int:
    schedule_recompute(contract_id=world.contract.pk)
    return fin.PaymentLine.objects.filter(tranche__contract=world.contract).count()


@pytest.fixture
def runs_the_rules(django_capture_on_commit_callbacks, eager_tasks, monkeypatch):  # noqa: ANN201
    """Each API write's after-commit work runs once the request is answered, as a worker would run it: the
    automatic rules see every new fact and claim."""
    post = APIClient.post

    def post_and_commit(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        with django_capture_on_commit_callbacks(execute=True):
            return post(self, *args, **kwargs)

    monkeypatch.setattr(APIClient, "post", post_and_commit)


def test_a_survey_the_recruiter_wrote_does_not_pay_its_zero_fee_claim(world, runs_the_rules):
    evidence = upload(world, "worker_survey", {"fee_paid": False})
    assert (evidence["source"], evidence["source_organisation"]) == ("recruiter", world.contract.provider_id)

    body = claim(world, world.zero_fee)

    assert body["status"] == "claimed"
    assert "Waiting for" in body["pending_reason"] and "the worker's own answer about fees" in body["pending_reason"]
    assert lines(world) == 0


def test_one_employment_pays_one_placement(world, runs_the_rules):
    job = f.EmploymentFactory(worker=world.worker, start_date=START)
    job.source, job.source_organisation = wrk.Source.EMPLOYER, job.job_opening.employer
    job.save()
    assert claim(world, world.placed)["status"] == "verified"

    second = claim(world, world.placed, unit=2)

    assert second["status"] == "claimed"
    assert second["pending_reason"] == "Waiting for employment number 2 (a new season) to be on record."
    assert lines(world) == 1  # the first placement only


def test_a_claim_dated_outside_the_contract_is_refused_naming_the_date(world):
    response = world.client.post(
        "/api/v1/claims/",
        {"metric": world.placed.pk, "worker": world.worker.pk, "achieved_on": "0001-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["achieved_on"]
    assert not fin.OutcomeClaim.objects.exists()


def test_an_attestation_the_recruiter_uploaded_does_not_verify_its_placement(world, runs_the_rules):
    f.EmploymentFactory(worker=world.worker, start_date=START)
    upload(world, "employer_attestation", {"employment_started_on": START.isoformat()})

    body = claim(world, world.placed)

    assert body["status"] == "claimed"
    assert body["pending_reason"].startswith("Needs an independent source: the employment is supported only by")
    assert lines(world) == 0


def test_the_recruiter_declares_once_and_never_sees_what_the_worker_said(world, runs_the_rules):
    url = f"/api/v1/workers/{world.worker.pk}/fee-declaration/"
    assert world.client.get(url).status_code == 404
    first = world.client.post(url, {"note": "No costs charged."}, format="json")
    again = world.client.post(url, {"note": "Again."}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() == world.client.get(url).json()
    assert first.json()["recruiter"] == world.worker.recruiter_id

    f.EvidenceFactory(worker=world.worker, kind="worker_survey", source=wrk.Source.WORKER, facts={"fee_paid": True})
    listed = world.client.get(f"/api/v1/workers/{world.worker.pk}/evidence/").json()
    assert all(row["source"] != "worker" for row in listed)

    staff = APIClient()
    staff.force_authenticate(f.StaffUserFactory())
    refused = staff.post(url, {}, format="json")
    assert refused.status_code == 403  # only the worker's recruiter declares
    too_long = world.client.post(url, {"note": "x" * 2001}, format="json")
    assert too_long.status_code in (200, 400)  # the first declaration stands either way
