"""``POST /api/v1/claims/``: a provider claims an outcome of its own worker under its own active contract.

Another organisation's metric or worker is "unknown", as one that does not exist; a duplicate is a 409
naming the first claim; the status is never the caller's to set; funders cannot claim."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.test import APIClient

from financing import models as fin
from pilots import models as pil
from tests import factories as f
from workers import models as wrk

pytestmark = pytest.mark.django_db

URL = "/api/v1/claims/"


def client_for(user: pil.User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass
class World:
    recruiter: pil.User
    metric: fin.OutcomeMetric
    worker: wrk.Worker
    other_metric: fin.OutcomeMetric
    other_worker: wrk.Worker
    funder: pil.User


@pytest.fixture
def world() -> World:
    mine = f.RecruiterFactory()
    theirs = f.RecruiterFactory()
    contract = f.RbfContractFactory(provider=mine.organisation)
    other_contract = f.RbfContractFactory(provider=theirs.organisation, pilot=contract.pilot)
    return World(
        recruiter=f.RecruiterUserFactory(organisation=mine.organisation),
        metric=f.OutcomeMetricFactory(contract=contract, code="PLACED"),
        worker=f.WorkerFactory(recruiter=mine, pilot=contract.pilot),
        other_metric=f.OutcomeMetricFactory(contract=other_contract, code="PLACED"),
        other_worker=f.WorkerFactory(recruiter=theirs, pilot=contract.pilot),
        funder=f.UserFactory(role=pil.Role.FUNDER, organisation=contract.payer),
    )


def body(world: World, **changes: object) -> dict[str, object]:
    return {"metric": world.metric.pk, "worker": world.worker.pk, "achieved_on": "2026-04-06", **changes}


def assert_error(response, status: int, field: str | None, message: str | None = None) -> None:  # noqa: ANN001
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    if message is not None:
        assert message in [error["message"] for error in errors], errors


def test_recruiter_claims_for_its_own_worker_under_its_own_contract(world):
    response = client_for(world.recruiter).post(URL, body(world), format="json")

    assert response.status_code == 201, response.content
    claim = fin.OutcomeClaim.objects.get()
    assert response.json() == {
        "id": claim.pk,
        "contract": world.metric.contract_id,
        "metric": "PLACED",
        "worker": world.worker.pk,
        "unit": 1,
        "achieved_on": "2026-04-06",
        "status": "claimed",
        "verified_on": None,
        "claimed_at": response.json()["claimed_at"],
        "rejection_reason": "",
        "reversal_reason": "",
        "in_review": False,
        "pending_reason": "",
    }
    assert claim.status == fin.ClaimStatus.CLAIMED
    assert claim.claimed_by == world.recruiter
    events = apps.get_model("financing", "OutcomeClaimEvent").objects.filter(pgh_obj=claim)
    assert [event.pgh_label for event in events] == ["insert"]


def test_staff_may_claim_on_behalf_of_a_provider(world):
    staff = f.StaffUserFactory()
    response = client_for(staff).post(URL, body(world, unit=2), format="json")
    assert response.status_code == 201, response.content
    assert fin.OutcomeClaim.objects.get().claimed_by == staff


@pytest.mark.parametrize(
    ("field", "other"),
    [("metric", "other_metric"), ("worker", "other_worker")],
)
def test_another_organisations_metric_or_worker_is_unknown_and_nothing_is_written(world, field, other):
    client = client_for(world.recruiter)
    foreign = client.post(URL, body(world, **{field: getattr(world, other).pk}), format="json")
    missing = client.post(URL, body(world, **{field: 999_999}), format="json")

    assert_error(foreign, 400, field, f"unknown {field}")
    assert foreign.json() == missing.json()  # the same answer as for an id that does not exist
    assert not fin.OutcomeClaim.objects.exists()


def test_a_duplicate_is_a_409_naming_the_existing_claim(world):
    client = client_for(world.recruiter)
    first = client.post(URL, body(world), format="json").json()

    again = client.post(URL, body(world, achieved_on="2026-04-07"), format="json")

    assert again.status_code == 409, again.content
    assert again.json()["existing_id"] == first["id"]
    assert str(first["id"]) in again.json()["detail"]
    assert fin.OutcomeClaim.objects.count() == 1
    assert client.post(URL, body(world, unit=2), format="json").status_code == 201  # another unit is another claim


def test_the_status_cannot_be_set_by_the_caller(world):
    client = client_for(world.recruiter)
    response = client.post(
        URL, body(world, status="verified", verified_on="2026-04-07", in_review=True), format="json"
    )
    assert response.status_code == 201, response.content
    claim = fin.OutcomeClaim.objects.get()
    assert (claim.status, claim.verified_on, claim.in_review) == ("claimed", None, False)

    for method in ("put", "patch"):
        changed = getattr(client, method)(f"{URL}{claim.pk}/", {"status": "verified"}, format="json")
        assert changed.status_code == 405
    assert client.delete(f"{URL}{claim.pk}/").status_code == 405
    claim.refresh_from_db()
    assert claim.status == fin.ClaimStatus.CLAIMED


def test_a_funder_cannot_claim(world):
    response = client_for(world.funder).post(URL, body(world), format="json")
    assert response.status_code == 403
    assert not fin.OutcomeClaim.objects.exists()


def test_anonymous_is_401(world):
    response = client_for(None).post(URL, body(world), format="json")
    assert response.status_code == 401
    assert not fin.OutcomeClaim.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"metric": "PLACED"}, "metric"),
        ({"worker": None}, "worker"),
        ({"unit": 0}, "unit"),
        ({"unit": "one"}, "unit"),
        ({"achieved_on": "6 April"}, "achieved_on"),
        ({"achieved_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()}, "achieved_on"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(world, changes, field):
    response = client_for(world.recruiter).post(URL, body(world, **changes), format="json")
    assert_error(response, 400, field)
    assert not fin.OutcomeClaim.objects.exists()


@pytest.mark.parametrize("missing", ["metric", "worker", "achieved_on"])
def test_a_missing_field_is_named(world, missing):
    data = body(world)
    del data[missing]
    assert_error(client_for(world.recruiter).post(URL, data, format="json"), 400, missing)


@pytest.mark.parametrize("status", [fin.ContractStatus.DRAFT, fin.ContractStatus.CLOSED])
def test_a_contract_that_is_not_active_takes_no_claim(world, status):
    fin.RbfContract.objects.filter(pk=world.metric.contract_id).update(status=status)
    response = client_for(world.recruiter).post(URL, body(world), format="json")
    assert_error(response, 400, "metric")
    assert not fin.OutcomeClaim.objects.exists()


def test_a_worker_of_another_pilot_is_refused(world):
    elsewhere = f.WorkerFactory(recruiter=world.worker.recruiter)
    response = client_for(world.recruiter).post(URL, body(world, worker=elsewhere.pk), format="json")
    assert_error(response, 400, "worker")
    assert not fin.OutcomeClaim.objects.exists()


def test_a_duplicate_that_slips_past_the_check_is_caught_by_the_constraint(world, monkeypatch):
    """Two claims at once: both pass the check, the unique constraint refuses the second, still a duplicate."""
    from financing.services import DuplicateClaim, claim_create

    first = f.OutcomeClaimFactory(metric=world.metric, worker=world.worker)
    manager = fin.OutcomeClaim.objects
    real_filter = manager.filter
    calls: list[int] = []

    def first_check_misses(*args: object, **kwargs: object):  # noqa: ANN202
        calls.append(1)
        found = real_filter(*args, **kwargs)
        return found.none() if len(calls) == 1 else found

    monkeypatch.setattr(manager, "filter", first_check_misses)
    with pytest.raises(DuplicateClaim) as raised:
        claim_create(
            metric=world.metric, worker=world.worker, achieved_on=datetime.date(2026, 4, 6), claimed_by=world.recruiter
        )
    assert raised.value.existing_id == first.pk
    assert len(calls) == 2
    assert fin.OutcomeClaim.objects.count() == 1
