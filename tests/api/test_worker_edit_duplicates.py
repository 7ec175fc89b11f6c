"""Editing who a worker is (PATCH/PUT ``/api/v1/workers/{id}/``, ``workers.services.worker_update``) is checked
for duplicates as a registration is: the same person among the recruiter's own other workers is a 409 naming
them and nothing changes; the same person among another recruiter's workers is flagged for staff, unseen, and
the edit is made."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from pilots import models as pil
from tests import factories as f
from workers import models as wrk
from workers.services import DuplicateWorker, worker_update

pytestmark = pytest.mark.django_db


def client_for(user: pil.User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world() -> dict[str, Any]:
    recruiter_a, recruiter_b = f.RecruiterFactory(), f.RecruiterFactory()
    pilot = f.PilotFactory()
    f.RecruiterAssignmentFactory(recruiter=recruiter_a, pilot=pilot)
    f.RecruiterAssignmentFactory(recruiter=recruiter_b, pilot=pilot)

    def worker(recruiter: Any, given: str, family: str, number: str, born: datetime.date) -> wrk.Worker:
        return f.WorkerFactory(
            recruiter=recruiter,
            pilot=pilot,
            given_names=given,
            family_names=family,
            date_of_birth=born,
            identity_document_number=number,
        )

    return {
        "user_a": f.RecruiterUserFactory(organisation=recruiter_a.organisation),
        "staff": f.StaffUserFactory(),
        # The one being edited, another of recruiter A's, and one of recruiter B's.
        "mine": worker(recruiter_a, "Ana María", "Xol Caal", "G19845320", datetime.date(1998, 4, 12)),
        "other_mine": worker(recruiter_a, "Juana", "Pérez Tzul", "G20011873", datetime.date(1996, 9, 3)),
        "theirs": worker(recruiter_b, "Rosa", "Coc Pop", "G30990412", datetime.date(1994, 1, 27)),
    }


def url(worker: wrk.Worker) -> str:
    return f"/api/v1/workers/{worker.pk}/"


def snapshot(worker: wrk.Worker) -> tuple[Any, ...]:
    return tuple(wrk.Worker.objects.filter(pk=worker.pk).values_list()[0])


def full_body(worker: wrk.Worker, **changes: Any) -> dict[str, Any]:
    """What a PUT sends: every editable field, as the worker has it, with ``changes``."""
    body = {
        "given_names": worker.given_names,
        "family_names": worker.family_names,
        "date_of_birth": worker.date_of_birth.isoformat(),
        "gender": worker.gender,
        "nationality": str(worker.nationality),
        "phone": worker.phone,
        "email": worker.email,
        "identity_document_type": worker.identity_document_type,
        "identity_document_country": str(worker.identity_document_country),
        "identity_document_number": worker.identity_document_number,
        "language_levels": worker.language_levels,
    }
    return {**body, **changes}


# --- The caller's own worker: 409, nothing changed -------------------------------------------------------


@pytest.mark.parametrize("number", ["G20011873", "g 2001-1873"])  # compared as printed: case, spaces, dashes
def test_a_document_edited_to_another_of_ones_own_workers_is_a_409_naming_them(world, number):
    mine, other = world["mine"], world["other_mine"]
    before = snapshot(mine)

    response = client_for(world["user_a"]).patch(url(mine), {"identity_document_number": number}, format="json")

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["existing_id"] == other.pk
    assert body["errors"] == [{"field": "identity_document_number", "message": body["detail"]}]
    assert f"worker {other.pk}" in body["detail"]
    assert snapshot(mine) == before
    assert not wrk.DuplicateFlag.objects.exists()


def test_names_birth_and_nationality_edited_to_another_of_ones_own_workers_is_a_409(world):
    mine, other = world["mine"], world["other_mine"]
    before = snapshot(mine)
    change = {"given_names": "JUANA ", "family_names": "pérez tzul", "date_of_birth": "1996-09-03"}

    response = client_for(world["user_a"]).patch(url(mine), change, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["existing_id"] == other.pk
    assert response.json()["errors"][0]["field"] is None
    assert "same names, date of birth and nationality" in response.json()["detail"]
    assert snapshot(mine) == before


def test_a_put_is_checked_too(world):
    mine, other = world["mine"], world["other_mine"]
    before = snapshot(mine)

    response = client_for(world["user_a"]).put(
        url(mine), full_body(mine, identity_document_number="G20011873", phone="+502 4000 1234"), format="json"
    )

    assert response.status_code == 409 and response.json()["existing_id"] == other.pk
    assert snapshot(mine) == before  # not even the phone


def test_staff_editing_get_the_same_409_for_the_workers_own_recruiter(world):
    response = client_for(world["staff"]).patch(
        url(world["mine"]), {"identity_document_number": "G20011873"}, format="json"
    )
    assert response.status_code == 409 and response.json()["existing_id"] == world["other_mine"].pk


# --- Another recruiter's worker: the edit is made, a flag is raised, nothing is said ----------------------


def test_a_document_edited_to_another_recruiters_worker_goes_through_and_is_flagged_unseen(world):
    mine, theirs = world["mine"], world["theirs"]
    client = client_for(world["user_a"])
    plain = client.patch(url(mine), {"phone": "+502 5521 4410"}, format="json").json()

    response = client.patch(url(mine), {"identity_document_number": "G30990412"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == set(plain)  # the same answer as any edit: nothing about the other record
    # No value names the other worker (compared whole: a timestamp's digits may contain its id by chance).
    assert theirs.pk not in body.values() and str(theirs.pk) not in body.values()
    mine.refresh_from_db()
    assert mine.identity_document_number == "G30990412"
    flag = wrk.DuplicateFlag.objects.get()
    assert (flag.worker, flag.matches, flag.reason) == (mine, theirs, wrk.DuplicateReason.IDENTITY_DOCUMENT)
    assert flag.resolved_at is None


def test_names_edited_to_another_recruiters_worker_are_flagged_by_name(world):
    mine, theirs = world["mine"], world["theirs"]
    change = {"given_names": "Rosa", "family_names": "Coc Pop", "date_of_birth": "1994-01-27"}

    response = client_for(world["user_a"]).patch(url(mine), change, format="json")

    assert response.status_code == 200, response.content
    flag = wrk.DuplicateFlag.objects.get()
    assert (flag.worker, flag.matches, flag.reason) == (mine, theirs, wrk.DuplicateReason.NAME_AND_BIRTH)


def test_editing_to_the_same_match_twice_raises_one_flag(world):
    client = client_for(world["user_a"])
    mine = world["mine"]
    for number in ["G30990412", "G19845320", "G30990412"]:
        assert client.patch(url(mine), {"identity_document_number": number}, format="json").status_code == 200
    assert wrk.DuplicateFlag.objects.count() == 1


# --- What is not checked ---------------------------------------------------------------------------------


def test_an_edit_that_does_not_change_who_the_worker_is_is_not_checked(world):
    """A worker who already shares a document with another of the recruiter's (an older record) may still have
    their phone or e-mail corrected, or the document number resent unchanged."""
    mine = world["mine"]
    wrk.Worker.objects.filter(pk=world["other_mine"].pk).update(identity_document_hash=mine.identity_document_hash)
    client = client_for(world["user_a"])

    assert client.patch(url(mine), {"phone": "+502 4000 1234"}, format="json").status_code == 200
    assert client.patch(url(mine), {"identity_document_number": "G19845320"}, format="json").status_code == 200
    assert client.put(url(mine), full_body(mine, email="ana.xol@example.com"), format="json").status_code == 200
    # A change of name is checked by name only: the shared document (not changed) is not held against it.
    assert client.patch(url(mine), {"given_names": "Ana Maria"}, format="json").status_code == 200
    assert not wrk.DuplicateFlag.objects.exists()


def test_the_same_number_from_another_country_is_another_document(world):
    response = client_for(world["user_a"]).patch(
        url(world["mine"]), {"identity_document_number": "G20011873", "identity_document_country": "MX"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert not wrk.DuplicateFlag.objects.exists()


def test_a_worker_is_not_their_own_duplicate(world):
    mine = world["mine"]
    change = {"given_names": "ana maría", "identity_document_number": "G-1984-5320"}
    assert client_for(world["user_a"]).patch(url(mine), change, format="json").status_code == 200
    assert not wrk.DuplicateFlag.objects.exists()


# --- The service, as the admin would call it -------------------------------------------------------------


def test_the_service_refuses_ones_own_duplicate_and_writes_nothing(world):
    mine = world["mine"]
    before = snapshot(mine)

    with pytest.raises(DuplicateWorker) as refused:
        worker_update(worker=mine, updated_by=world["staff"], identity_document_number="G20011873")

    assert (refused.value.existing_id, refused.value.reason) == (world["other_mine"].pk, "identity_document")
    assert snapshot(mine) == before


def test_the_service_flags_another_recruiters_match(world):
    updated = worker_update(
        worker=world["mine"], updated_by=world["staff"], identity_document_number="G30990412", email="a@example.com"
    )
    assert updated.email == "a@example.com"
    assert list(wrk.DuplicateFlag.objects.values_list("worker", "matches")) == [(world["mine"].pk, world["theirs"].pk)]
