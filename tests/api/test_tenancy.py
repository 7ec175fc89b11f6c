"""Tenancy: every caller sees exactly its own world, through the QuerySets and through every endpoint.

One world of two recruiters (A and B), two funders (F pays A's contract, G pays B's) and a pilot nobody
but staff works in. Another organisation's record is a 404 and absent from lists; filtering by its id
is an empty list, the same answer as for an id that does not exist.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.utils import timezone
from rest_framework.test import APIClient

from financing import models as fin
from financing.services import schedule_recompute
from pilots import models as pil
from recruitment import models as rec
from tests import factories as f
from workers import models as wrk
from workers.services import check_in_create

pytestmark = pytest.mark.django_db


@dataclass
class World:
    staff: pil.User
    recruiter_a: pil.User
    recruiter_b: pil.User
    funder_f: pil.User
    funder_g: pil.User
    employer_e: pil.User
    objects: dict[str, models.Model]

    def __getitem__(self, name: str) -> Any:
        return self.objects[name]



@pytest.fixture
def world() -> World:
    org_a, org_b = f.RecruiterFactory().organisation, f.RecruiterFactory().organisation
    org_f = f.OrganisationFactory(kind=pil.OrganisationKind.FUNDER)
    org_g = f.OrganisationFactory(kind=pil.OrganisationKind.FUNDER)
    o: dict[str, models.Model] = {"org_a": org_a, "org_b": org_b, "org_f": org_f, "org_g": org_g}

    # A is assigned to pilot_a and provides a contract in pilot_c; B is assigned to pilot_b, where it
    # provides its contract; nobody but staff works in pilot_x.
    for name in ("pilot_a", "pilot_b", "pilot_c", "pilot_x"):
        o[name] = f.PilotFactory()
    o["assignment_a"] = f.RecruiterAssignmentFactory(recruiter=org_a.recruiter, pilot=o["pilot_a"])
    o["assignment_b"] = f.RecruiterAssignmentFactory(recruiter=org_b.recruiter, pilot=o["pilot_b"])
    for name in ("a", "b", "c", "x"):
        o[f"job_{name}"] = f.JobOpeningFactory(pilot=o[f"pilot_{name}"])
        o[f"partner_{name}"] = f.PilotPartnerFactory(pilot=o[f"pilot_{name}"])

    o["contract_a"] = f.RbfContractFactory(pilot=o["pilot_c"], provider=org_a, payer=org_f)
    o["contract_b"] = f.RbfContractFactory(pilot=o["pilot_b"], provider=org_b, payer=org_g)
    for side in ("a", "b"):
        recruiter = o[f"org_{side}"].recruiter
        contract = o[f"contract_{side}"]
        worker = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot)
        o[f"metric_{side}"] = metric = f.OutcomeMetricFactory(contract=contract, code="PLACED")
        o[f"worker_{side}"] = worker
        o[f"claim_{side}"] = f.OutcomeClaimFactory(
            metric=metric, worker=worker, status=fin.ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 1, 20)
        )
        o[f"verification_{side}"] = f.VerificationFactory(claim=o[f"claim_{side}"])
        o[f"event_{side}"] = f.JourneyEventFactory(worker=worker)
        o[f"evidence_{side}"] = f.EvidenceFactory(worker=worker)
        o[f"fee_{side}"] = f.FeeReportFactory(worker=worker, source=wrk.FeeSource.RECRUITER)
        job = o["job_c"] if side == "a" else o["job_b"]  # an opening of the worker's pilot
        o[f"employment_{side}"] = f.EmploymentFactory(worker=worker, job_opening=job)
        o[f"training_{side}"] = f.TrainingEnrollmentFactory(worker=worker)
        o[f"declaration_{side}"] = f.FeeDeclarationFactory(worker=worker)
        o[f"check_in_{side}"] = check_in_create(worker=worker, moment="day_30", created_by=None)[0]
        o[f"recruiter_{side}"] = recruiter
        schedule_recompute(contract_id=contract.pk)
        o[f"tranche_{side}"] = fin.Tranche.objects.get(contract=contract, code="2026-Q1")
        o[f"line_{side}"] = fin.PaymentLine.objects.get(claim=o[f"claim_{side}"])
    # A claim about A's worker under B's contract, and one about B's worker under A's contract: neither
    # is both about A's own worker and under A's contract, so A sees neither.
    o["claim_a_worker_b_contract"] = f.OutcomeClaimFactory(metric=o["metric_b"], worker=o["worker_a"])
    o["claim_b_worker_a_contract"] = f.OutcomeClaimFactory(metric=o["metric_a"], worker=o["worker_b"])
    staff = f.StaffUserFactory()
    for side in ("a", "b"):
        tranche = o[f"tranche_{side}"]
        fin.Tranche.objects.filter(pk=tranche.pk).update(
            status=fin.TrancheStatus.APPROVED, approved_by=staff, approved_at=timezone.now()
        )
        o[f"disbursement_{side}"] = f.DisbursementFactory(tranche=tranche, amount=Decimal("500.00"))

    return World(
        staff=staff,
        recruiter_a=f.RecruiterUserFactory(organisation=org_a),
        recruiter_b=f.RecruiterUserFactory(organisation=org_b),
        funder_f=f.UserFactory(role=pil.Role.FUNDER, organisation=org_f),
        funder_g=f.UserFactory(role=pil.Role.FUNDER, organisation=org_g),
        employer_e=f.UserFactory(role=pil.Role.EMPLOYER, organisation=o["job_c"].employer),
        objects=o,
    )


def client_for(user: pil.User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- QuerySet.visible_to on every model -----------------------------------------------------------

# model -> what recruiter A, recruiter B, funder F and employer E (job_c's, which employs worker A) see, by the
# world's names; staff see every row.
VISIBLE: dict[type[models.Model], tuple[set[str], set[str], set[str], set[str]]] = {
    pil.Organisation: ({"org_a"}, {"org_b"}, {"org_f"}, set()),
    pil.Pilot: ({"pilot_a", "pilot_c"}, {"pilot_b"}, {"pilot_c"}, set()),
    pil.PilotPartner: ({"partner_a", "partner_c"}, {"partner_b"}, {"partner_c"}, set()),
    pil.JobOpening: ({"job_a", "job_c"}, {"job_b"}, set(), set()),
    rec.Recruiter: ({"recruiter_a"}, {"recruiter_b"}, set(), set()),
    rec.RecruiterAssignment: ({"assignment_a"}, {"assignment_b"}, set(), set()),
    wrk.FeeReport: ({"fee_a"}, {"fee_b"}, set(), set()),
    wrk.Worker: ({"worker_a"}, {"worker_b"}, set(), {"worker_a"}),
    wrk.JourneyEvent: ({"event_a"}, {"event_b"}, set(), set()),
    wrk.Evidence: ({"evidence_a"}, {"evidence_b"}, set(), set()),
    wrk.Employment: ({"employment_a"}, {"employment_b"}, set(), {"employment_a"}),
    wrk.TrainingEnrollment: ({"training_a"}, {"training_b"}, set(), set()),
    fin.RbfContract: ({"contract_a"}, {"contract_b"}, {"contract_a"}, set()),
    fin.OutcomeMetric: ({"metric_a"}, {"metric_b"}, {"metric_a"}, set()),
    fin.OutcomeClaim: ({"claim_a"}, {"claim_b"}, set(), set()),
    fin.Verification: ({"verification_a"}, {"verification_b"}, set(), set()),
    fin.Tranche: ({"tranche_a"}, {"tranche_b"}, {"tranche_a"}, set()),
    fin.PaymentLine: ({"line_a"}, {"line_b"}, {"line_a"}, set()),
    fin.Disbursement: ({"disbursement_a"}, {"disbursement_b"}, {"disbursement_a"}, set()),
    wrk.FeeDeclaration: ({"declaration_a"}, {"declaration_b"}, set(), set()),
    wrk.CheckIn: (set(), set(), set(), set()),
}


def names_of(world: World, rows: models.QuerySet, model: type[models.Model]) -> set[str]:
    """The world's names of ``rows`` (rows the world did not name, like Q2's tranche, are left out)."""
    pks = set(rows.values_list("pk", flat=True))
    return {name for name, obj in world.objects.items() if isinstance(obj, model) and obj.pk in pks}


@pytest.mark.parametrize("model", VISIBLE, ids=lambda model: model.__name__)
def test_visible_to_scopes_every_model(world, model):
    as_a, as_b, as_f, as_e = VISIBLE[model]
    everything = {name for name, obj in world.objects.items() if isinstance(obj, model)}

    assert names_of(world, model.objects.visible_to(world.recruiter_a), model) == as_a
    assert names_of(world, model.objects.visible_to(world.recruiter_b), model) == as_b
    assert names_of(world, model.objects.visible_to(world.funder_f), model) == as_f
    assert names_of(world, model.objects.visible_to(world.employer_e), model) == as_e
    assert names_of(world, model.objects.visible_to(world.staff), model) == everything
    assert model.objects.visible_to(AnonymousUser()).count() == 0
    assert model.objects.visible_to(None).count() == 0


def test_staff_see_everything_and_a_superuser_whatever_its_role(world):
    superuser = f.SuperUserFactory(role=pil.Role.RECRUITER, organisation=world["org_b"])
    assert fin.OutcomeClaim.objects.visible_to(superuser).count() == fin.OutcomeClaim.objects.count() == 4
    assert fin.OutcomeClaim.objects.visible_to(world.staff).count() == 4


def test_an_inactive_partner_user_sees_nothing(world):
    world.recruiter_a.is_active = False
    assert not wrk.Worker.objects.visible_to(world.recruiter_a).exists()
    assert not fin.RbfContract.objects.visible_to(world.recruiter_a).exists()


def test_a_recruiter_without_an_assignment_or_contract_sees_no_pilot(world):
    loner = f.RecruiterUserFactory()
    assert not pil.Pilot.objects.visible_to(loner).exists()
    assert not pil.JobOpening.objects.visible_to(loner).exists()


# --- Every endpoint -------------------------------------------------------------------------------

# endpoint -> (list URL or None, detail URL pattern, the world's name of A's and B's object)
ENDPOINTS = {
    "pilots": ("/api/v1/pilots/", "/api/v1/pilots/{pk}/", "pilot_a", "pilot_b"),
    "job-openings": ("/api/v1/job-openings/", "/api/v1/job-openings/{pk}/", "job_a", "job_b"),
    "contracts": ("/api/v1/contracts/", "/api/v1/contracts/{pk}/", "contract_a", "contract_b"),
    "schedule": (None, "/api/v1/contracts/{pk}/schedule/", "contract_a", "contract_b"),
    "claims": ("/api/v1/claims/", "/api/v1/claims/{pk}/", "claim_a", "claim_b"),
}
LISTS = [name for name, (url, *_) in ENDPOINTS.items() if url]


def listed_ids(client: APIClient, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def ids(world: World, *names: str) -> set[int]:
    return {world[name].pk for name in names}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_recruiter_reads_its_own_record_and_the_others_is_a_404(world, endpoint):
    _, detail, mine, theirs = ENDPOINTS[endpoint]
    client = client_for(world.recruiter_a)

    assert client.get(detail.format(pk=world[mine].pk)).status_code == 200
    response = client.get(detail.format(pk=world[theirs].pk))
    assert response.status_code == 404
    # The same answer as for a record that does not exist at all.
    missing = client.get(detail.format(pk=10**9))
    assert missing.status_code == 404 and missing.json() == response.json()


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("pilots", ("pilot_a", "pilot_c")),
        ("job-openings", ("job_a", "job_c")),
        ("contracts", ("contract_a",)),
        ("claims", ("claim_a",)),
    ],
)
def test_recruiter_lists_only_its_own_records(world, endpoint, expected):
    assert listed_ids(client_for(world.recruiter_a), ENDPOINTS[endpoint][0]) == ids(world, *expected)


@pytest.mark.parametrize(
    ("url", "foreign"),
    [
        ("/api/v1/job-openings/?pilot={pk}", "pilot_b"),
        ("/api/v1/job-openings/?employer={pk}", "job_b"),
        ("/api/v1/contracts/?pilot={pk}", "pilot_b"),
        ("/api/v1/contracts/?provider={pk}", "org_b"),
        ("/api/v1/contracts/?payer={pk}", "org_g"),
        ("/api/v1/claims/?contract={pk}", "contract_b"),
        ("/api/v1/claims/?worker={pk}", "worker_b"),
    ],
)
def test_filtering_by_another_organisations_id_is_an_empty_list_not_a_400(world, url, foreign):
    client = client_for(world.recruiter_a)
    pk = world[foreign].employer_id if foreign == "job_b" else world[foreign].pk

    response = client.get(url.format(pk=pk))
    missing = client.get(url.format(pk=10**9))

    assert response.status_code == 200 and response.json()["results"] == []
    assert missing.status_code == 200 and missing.json() == response.json()


@pytest.mark.parametrize(
    ("url", "mine"),
    [
        ("/api/v1/job-openings/?pilot={pk}", "pilot_a"),
        ("/api/v1/contracts/?pilot={pk}", "pilot_c"),
        ("/api/v1/contracts/?provider={pk}", "org_a"),
        ("/api/v1/claims/?contract={pk}", "contract_a"),
        ("/api/v1/claims/?worker={pk}", "worker_a"),
    ],
)
def test_filtering_by_an_own_id_finds_the_records(world, url, mine):
    response = client_for(world.recruiter_a).get(url.format(pk=world[mine].pk))
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_funder_reads_the_contracts_it_pays_and_their_pilots(world):
    client = client_for(world.funder_f)

    assert listed_ids(client, "/api/v1/contracts/") == ids(world, "contract_a")
    assert listed_ids(client, "/api/v1/pilots/") == ids(world, "pilot_c")
    assert client.get(f"/api/v1/contracts/{world['contract_b'].pk}/").status_code == 404
    assert client.get(f"/api/v1/contracts/{world['contract_b'].pk}/schedule/").status_code == 404
    assert client.get(f"/api/v1/pilots/{world['pilot_a'].pk}/").status_code == 404


def test_funder_sees_no_claim_and_no_job_opening(world):
    client = client_for(world.funder_f)

    assert listed_ids(client, "/api/v1/claims/") == set()
    assert client.get(f"/api/v1/claims/{world['claim_a'].pk}/").status_code == 404
    assert listed_ids(client, "/api/v1/job-openings/") == set()
    assert client.get(f"/api/v1/job-openings/{world['job_c'].pk}/").status_code == 404


def test_funders_schedule_lines_name_no_worker_but_the_providers_and_staffs_do(world):
    url = f"/api/v1/contracts/{world['contract_a'].pk}/schedule/"

    def first_line(user: pil.User) -> dict[str, Any]:
        response = client_for(user).get(url)
        assert response.status_code == 200
        return response.json()["tranches"][0]["lines"][0]

    funders = first_line(world.funder_f)
    assert "worker" not in funders
    assert funders["claim"] == world["claim_a"].pk and funders["metric"] == "PLACED"
    assert funders["amount"] == "500.00"
    assert first_line(world.recruiter_a)["worker"] == world["worker_a"].pk
    assert first_line(world.staff)["worker"] == world["worker_a"].pk


def keys_of(body: Any) -> set[str]:
    """Every key anywhere in a JSON body."""
    if isinstance(body, dict):
        return set(body) | {key for value in body.values() for key in keys_of(value)}
    if isinstance(body, list):
        return {key for value in body for key in keys_of(value)}
    return set()


def test_no_funder_response_carries_a_worker(world):
    client = client_for(world.funder_f)
    contract = world["contract_a"].pk
    urls = ["/api/v1/contracts/", f"/api/v1/contracts/{contract}/", f"/api/v1/contracts/{contract}/schedule/"]
    for url in urls + ["/api/v1/pilots/", f"/api/v1/pilots/{world['pilot_c'].pk}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not {key for key in keys_of(response.json()) if key.startswith("worker")}, url
    # The provider's view of the same schedule does name them: the check above can fail.
    assert "worker" in keys_of(client_for(world.recruiter_a).get(urls[2]).json())


@pytest.mark.parametrize(
    ("endpoint", "everything"),
    [
        ("pilots", ("pilot_a", "pilot_b", "pilot_c", "pilot_x")),
        ("job-openings", ("job_a", "job_b", "job_c", "job_x")),
        ("contracts", ("contract_a", "contract_b")),
        ("claims", ("claim_a", "claim_b", "claim_a_worker_b_contract", "claim_b_worker_a_contract")),
    ],
)
def test_staff_list_everything(world, endpoint, everything):
    assert listed_ids(client_for(world.staff), ENDPOINTS[endpoint][0]) == ids(world, *everything)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_is_refused_everywhere(world, endpoint):
    url, detail, mine, _ = ENDPOINTS[endpoint]
    client = client_for(None)
    for target in filter(None, [url, detail.format(pk=world[mine].pk)]):
        assert client.get(target).status_code in (401, 403), target


# --- Writes: none of these endpoints takes one ---------------------------------------------------

def snapshot() -> list[tuple[Any, ...]]:
    return [
        tuple(model.objects.order_by("pk").values_list())
        for model in (pil.Pilot, pil.JobOpening, fin.RbfContract, fin.OutcomeMetric, fin.OutcomeClaim, fin.Tranche)
    ] + [tuple(fin.PaymentLine.objects.order_by("pk").values_list("pk", "amount", "kind"))]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", ["staff", "recruiter_a", "funder_f", "anonymous"])
def test_writes_are_refused_and_change_nothing(world, endpoint, who):
    url, detail, mine, _ = ENDPOINTS[endpoint]
    detail = detail.format(pk=world[mine].pk)
    writes = [("put", detail), ("patch", detail), ("delete", detail), ("post", detail)]
    if url is not None and endpoint != "claims":  # claims take a POST: tests/api/test_claims_write.py
        writes.append(("post", url))
    user = None if who == "anonymous" else getattr(world, who)
    client = client_for(user)
    before = snapshot()

    for method, target in writes:
        response = getattr(client, method)(target, {"name": "changed", "status": "closed"}, format="json")
        assert response.status_code in ((405,) if user else (401, 403)), (method, target)
    assert snapshot() == before
