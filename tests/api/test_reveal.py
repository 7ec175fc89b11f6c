"""The API's personal data: masked in every answer (lists, the detail, registration and edits), revealed by
``POST /api/v1/workers/{id}/reveal/`` with the fields and a reason (one access row, ``Cache-Control: no-store``),
refused in the API's error shape with nothing written, and the access log at ``GET …/access-log/`` for staff."""

from __future__ import annotations

import datetime
import json

import pytest
from rest_framework.test import APIClient

from pilots import models as pil
from tests import factories as f
from workers.models import PersonalDataAccess

pytestmark = pytest.mark.django_db

REASON = "Checking the visa application form."
FULL = ("1993-03-09", "P55501234", "+502 5555 0142", "5555 0142", "rosa.tzul@example.org")


def client_for(user: pil.User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def worker():  # noqa: ANN201
    return f.WorkerFactory(
        date_of_birth=datetime.date(1993, 3, 9),
        phone="+502 5555 0142",
        email="rosa.tzul@example.org",
        identity_document_number="P55501234",
    )


@pytest.fixture
def owner(worker):  # noqa: ANN001, ANN201
    return f.RecruiterUserFactory(organisation=worker.recruiter.organisation)


@pytest.fixture
def staff():  # noqa: ANN201
    return f.StaffUserFactory()


def reveal(user, worker, body):  # noqa: ANN001, ANN201
    return client_for(user).post(f"/api/v1/workers/{worker.pk}/reveal/", body, format="json")


# --- Masked everywhere ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_the_list_and_the_detail_hold_no_personal_value(request, worker, who):
    client = client_for(request.getfixturevalue(who))

    listed = client.get("/api/v1/workers/").json()["results"]
    detail = client.get(f"/api/v1/workers/{worker.pk}/").json()

    for body in (listed, detail):
        text = json.dumps(body, ensure_ascii=False)
        for value in FULL:
            assert value not in text, value
    assert detail["email_masked"] == "r••••••••@example.org" and "email" not in detail
    assert listed[0]["email_masked"] == "r••••••••@example.org" and "email" not in listed[0]
    assert detail["birth_year"] == 1993 and detail["date_of_birth_masked"] == "1993-••-••"


def test_registration_answers_masked_values(staff, worker):
    f.RecruiterAssignmentFactory(recruiter=worker.recruiter, pilot=worker.pilot)
    body = {
        "pilot": worker.pilot_id,
        "recruiter": worker.recruiter_id,
        "given_names": "Ana María",
        "family_names": "Xol Caal",
        "date_of_birth": "1998-04-12",
        "gender": "female",
        "nationality": "GT",
        "phone": "+502 5521 4410",
        "email": "ana.xol@example.com",
        "identity_document_number": "G19845320",
        "consent_given_at": "2026-02-03T15:00:00Z",
    }
    response = client_for(staff).post("/api/v1/workers/", body, format="json")

    assert response.status_code == 201, response.content
    text = response.content.decode()
    for value in ("1998-04-12", "G19845320", "5521 4410", "ana.xol@example.com"):
        assert value not in text
    assert response.json()["identity_document_masked"] == "•••••5320"


# --- Reveals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_a_reveal_answers_the_values_and_writes_one_access_row(request, worker, who):
    user = request.getfixturevalue(who)
    fields = ["date_of_birth", "identity_document_number", "phone", "email"]

    response = reveal(user, worker, {"fields": fields, "reason": REASON})

    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["values"] == {
        "date_of_birth": "1993-03-09",
        "identity_document_number": "P55501234",
        "phone": "+502 5555 0142",
        "email": "rosa.tzul@example.org",
    }
    access = PersonalDataAccess.objects.get()
    assert body["access"] == access.pk
    assert (access.user, access.worker, access.fields, access.reason, access.channel) == (
        user,
        worker,
        fields,
        REASON,
        "api",
    )
    assert datetime.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")) == access.expires_at


def test_a_field_not_recorded_is_null(staff):
    worker = f.WorkerFactory(phone=None)
    assert reveal(staff, worker, {"fields": ["phone"], "reason": REASON}).json()["values"] == {"phone": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": ["phone"]}, "reason"),
        ({"fields": ["phone"], "reason": ""}, "reason"),
        ({"fields": ["phone"], "reason": "because"}, "reason"),
        ({"fields": ["phone"], "reason": None}, "reason"),
        ({"reason": REASON}, "fields"),
        ({"fields": [], "reason": REASON}, "fields"),
        ({"fields": ["salary"], "reason": REASON}, "fields"),
        ({"fields": "phone", "reason": REASON}, "fields"),
    ],
)
def test_a_refused_reveal_is_a_400_naming_the_field_and_writes_nothing(staff, worker, body, field):
    response = reveal(staff, worker, body)

    assert response.status_code == 400
    error = response.json()
    assert set(error) >= {"detail", "errors"}
    assert [e["field"] for e in error["errors"]] == [field]
    assert PersonalDataAccess.objects.count() == 0


def test_a_recruiter_cannot_reveal_another_recruiters_worker(worker):
    another = f.RecruiterUserFactory(organisation=f.RecruiterFactory().organisation)

    response = reveal(another, worker, {"fields": ["phone"], "reason": REASON})

    assert response.status_code == 404  # another organisation's worker is absent, as for every endpoint
    assert PersonalDataAccess.objects.count() == 0


def test_an_employer_who_sees_the_worker_gets_a_403(worker):
    employer = f.OrganisationFactory(kind=pil.OrganisationKind.EMPLOYER)
    f.EmploymentFactory(worker=worker, job_opening=f.JobOpeningFactory(pilot=worker.pilot, employer=employer))
    user = f.UserFactory(role=pil.Role.EMPLOYER, organisation=employer)
    assert client_for(user).get(f"/api/v1/workers/{worker.pk}/").status_code == 200  # sees the worker

    response = reveal(user, worker, {"fields": ["phone"], "reason": REASON})

    assert response.status_code == 403
    assert response.json()["errors"][0]["message"]
    assert "5555 0142" not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 0


def test_a_funder_and_anonymous_reveal_nothing(worker):
    funder = f.UserFactory(role=pil.Role.FUNDER, organisation=f.OrganisationFactory(kind="funder"))
    assert reveal(funder, worker, {"fields": ["phone"], "reason": REASON}).status_code == 404
    assert reveal(None, worker, {"fields": ["phone"], "reason": REASON}).status_code in (401, 403)
    assert PersonalDataAccess.objects.count() == 0


def test_a_reveal_is_a_post_only(staff, worker):
    assert client_for(staff).get(f"/api/v1/workers/{worker.pk}/reveal/").status_code == 405


# --- The access log ---------------------------------------------------------------------------------------


def test_staff_read_the_access_log_of_one_worker(staff, owner, worker):
    reveal(owner, worker, {"fields": ["phone"], "reason": REASON})
    reveal(staff, worker, {"fields": ["email", "date_of_birth"], "reason": "Sending the contract by email."})
    reveal(staff, f.WorkerFactory(), {"fields": ["phone"], "reason": "Another worker entirely."})

    response = client_for(staff).get(f"/api/v1/workers/{worker.pk}/access-log/")

    assert response.status_code == 200
    rows = response.json()
    assert [(r["user"], r["fields"], r["reason"], r["channel"]) for r in rows] == [
        (staff.pk, ["email", "date_of_birth"], "Sending the contract by email.", "api"),
        (owner.pk, ["phone"], REASON, "api"),
    ]
    assert "5555 0142" not in response.content.decode()  # what was read, never the values


def test_the_access_log_is_staff_only(owner, worker):
    assert client_for(owner).get(f"/api/v1/workers/{worker.pk}/access-log/").status_code == 403
    another = f.RecruiterUserFactory(organisation=f.RecruiterFactory().organisation)
    assert client_for(another).get(f"/api/v1/workers/{worker.pk}/access-log/").status_code == 404
