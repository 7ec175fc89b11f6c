"""``POST /api/v1/workers/import/``: CSV (multipart or raw) and JSON, both modes, bad files, who may import."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from pilots import models as pil
from tests import factories as f
from workers.models import JourneyEvent, Worker

pytestmark = pytest.mark.django_db

URL = "/api/v1/workers/import/"
HEADER = "given_names,family_names,date_of_birth,gender,nationality,pilot,identity_document_number,consent_given_at"


@pytest.fixture
def recruiter_user():
    return f.RecruiterUserFactory()


@pytest.fixture
def assignment(recruiter_user):
    return f.RecruiterAssignmentFactory(recruiter=recruiter_user.organisation.recruiter)


@pytest.fixture
def client(recruiter_user):
    api = APIClient()
    api.force_authenticate(recruiter_user)
    return api


def csv_text(pilot, count: int, start: int = 0, header: str = HEADER) -> str:
    lines = [header] + [
        f"Ana {n},López,1995-06-01,female,GT,{pilot.pk},P{n:08d},2026-01-05" for n in range(start, start + count)
    ]
    return "\n".join(lines) + "\n"


def json_rows(pilot, count: int, start: int = 0) -> list[dict]:
    return [
        {
            "given_names": f"Ana {n}",
            "family_names": "López",
            "date_of_birth": "1995-06-01",
            "gender": "female",
            "nationality": "GT",
            "pilot": pilot.pk,
            "language_levels": {"en": "B1"},
            "consent_given_at": "2026-01-05T09:00:00Z",
        }
        for n in range(start, start + count)
    ]


def post_csv(client, text: str | bytes, mode: str = "atomic"):
    body = text.encode() if isinstance(text, str) else text
    return client.generic("POST", f"{URL}?mode={mode}", body, content_type="text/csv")


def test_a_csv_file_in_a_multipart_form(client, assignment):
    upload = SimpleUploadedFile("workers.csv", csv_text(assignment.pilot, 3).encode(), content_type="text/csv")
    response = client.post(URL, {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 3 and body["errors"] == []
    assert sorted(body["ids"]) == sorted(Worker.objects.values_list("pk", flat=True))
    assert JourneyEvent.objects.filter(worker_id__in=body["ids"], stage="registered").count() == 3


def test_a_raw_csv_body_with_a_byte_order_mark(client, assignment):
    response = post_csv(client, "\ufeff" + csv_text(assignment.pilot, 2))
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2


def test_json_rows_object_and_bare_list(client, assignment):
    response = client.post(URL, {"rows": json_rows(assignment.pilot, 2)}, format="json")
    assert response.status_code == 201, response.json()
    response = client.post(URL, json_rows(assignment.pilot, 2, start=10), format="json")
    assert response.status_code == 201, response.json()
    assert Worker.objects.count() == 4
    assert Worker.objects.filter(language_levels={"en": "B1"}).count() == 4


def test_atomic_with_bad_rows_is_a_400_naming_every_row_and_field(client, assignment):
    rows = json_rows(assignment.pilot, 5)
    rows[1]["date_of_birth"] = "1995-13-01"
    rows[3]["gender"] = "robot"
    response = client.post(URL, {"rows": rows}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "2 rows are invalid; nothing was written."
    assert body["created"] == 0 and body["ids"] == []
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "rows[2].date_of_birth"), (4, "rows[4].gender")]
    assert all(e["message"] for e in body["errors"])
    assert Worker.objects.count() == 0


def test_partial_is_a_201_with_the_bad_rows(client, assignment):
    text = csv_text(assignment.pilot, 4).replace("Ana 2,López,1995-06-01", "Ana 2,López,01/06/1995")
    response = post_csv(client, text, mode="partial")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 3 and len(body["ids"]) == 3
    assert body["errors"] == [
        {"row": 3, "field": "rows[3].date_of_birth", "message": "'01/06/1995' is not a date in the form YYYY-MM-DD."}
    ]


def test_partial_with_every_row_bad_is_a_400(client, assignment):
    rows = json_rows(assignment.pilot, 2)
    for r in rows:
        r["nationality"] = "XX"
    response = client.post(f"{URL}?mode=partial", rows, format="json")
    assert response.status_code == 400
    assert response.json()["created"] == 0 and len(response.json()["errors"]) == 2


def test_an_unknown_mode_is_a_400_naming_mode(client, assignment):
    response = client.post(f"{URL}?mode=best", json_rows(assignment.pilot, 1), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "mode"
    assert Worker.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (HEADER + '\nAna,"López,1995-06-01,female,GT,1,P1\n', "cannot be read"),
        (HEADER.encode() + b"\nAna,L\xf3pez,1995-06-01,female,GT,1,P1\n", "not UTF-8"),
        (HEADER + ",shoe_size\nAna,López,1995-06-01,female,GT,1,P1,42\n", "shoe_size"),
        ("", "empty"),
        ("\n\n", "empty"),
        ("Ana,López,1995-06-01,female,GT,1,P1\n", "header"),
        ("given_names,family_names\nAna,López\n", "Missing column"),
        (HEADER + "\nAna,López,1995-06-01\n", "Row 1 has 3 cells"),
        ("given_names,given_names,family_names,date_of_birth,gender,nationality,pilot\n", "twice"),
    ],
    ids=["unterminated-quote", "latin-1", "unknown-column", "empty", "blank-lines", "no-header", "missing-column",
         "short-row", "duplicate-column"],
)
def test_a_malformed_csv_is_a_400_naming_the_file(client, assignment, body, words):
    response = post_csv(client, body)
    assert response.status_code == 400, response.json()
    payload = response.json()
    assert payload["errors"][0]["field"] == "file"
    assert words in payload["detail"]
    assert Worker.objects.count() == 0


def test_a_multipart_form_without_a_file_is_a_400(client, assignment):
    response = client.post(URL, {"other": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"


def test_json_that_is_not_rows_is_a_400_naming_rows(client, assignment):
    response = client.post(URL, {"workers": []}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "rows"


def test_more_than_ten_thousand_rows_are_a_400_naming_rows(client, assignment):
    rows = [{"given_names": "A"}] * 10_001
    response = client.post(URL, rows, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "rows"
    response = post_csv(client, HEADER + "\n" + "A,B,1995-06-01,female,GT,1,P\n" * 10_001)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "rows"


def test_a_pilot_the_recruiter_is_not_assigned_to_is_a_row_error(client, assignment):
    other = f.PilotFactory()
    rows = json_rows(assignment.pilot, 1) + json_rows(other, 1, start=5)
    response = client.post(URL, rows, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["rows[2].pilot"]


def test_a_recruiters_recruiter_column_is_ignored(client, assignment, recruiter_user):
    other = f.RecruiterAssignmentFactory(pilot=assignment.pilot).recruiter
    text = csv_text(assignment.pilot, 1, header=HEADER + ",recruiter").replace("2026-01-05", f"2026-01-05,{other.pk}")
    response = post_csv(client, text)
    assert response.status_code == 201, response.json()
    assert Worker.objects.get().recruiter == recruiter_user.organisation.recruiter


def test_staff_import_for_the_recruiter_each_row_names(assignment):
    staff = APIClient()
    staff.force_authenticate(f.StaffUserFactory())
    rows = json_rows(assignment.pilot, 2)
    response = staff.post(URL, rows, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["rows[1].recruiter", "rows[2].recruiter"]
    for r in rows:
        r["recruiter"] = assignment.recruiter.pk
    response = staff.post(URL, rows, format="json")
    assert response.status_code == 201
    assert set(Worker.objects.values_list("recruiter", flat=True)) == {assignment.recruiter.pk}
    # A staff CSV without the recruiter column cannot be imported at all.
    response = post_csv(staff, csv_text(assignment.pilot, 1, start=50))
    assert response.status_code == 400 and "recruiter" in response.json()["detail"]


def test_a_funder_is_refused(assignment):
    funder = APIClient()
    funder.force_authenticate(
        f.UserFactory(role=pil.Role.FUNDER, organisation=f.OrganisationFactory(kind=pil.OrganisationKind.FUNDER))
    )
    response = funder.post(URL, json_rows(assignment.pilot, 1), format="json")
    assert response.status_code == 403
    assert Worker.objects.count() == 0


def test_a_recruiter_user_whose_organisation_has_no_recruiter_profile_is_refused(assignment):
    user = f.UserFactory(role=pil.Role.RECRUITER, organisation=f.OrganisationFactory(kind="recruiter"))
    api = APIClient()
    api.force_authenticate(user)
    assert api.post(URL, json_rows(assignment.pilot, 1), format="json").status_code == 403


def test_anonymous_is_a_401(assignment):
    response = APIClient().post(URL, json.dumps(json_rows(assignment.pilot, 1)), content_type="application/json")
    assert response.status_code == 401
    assert Worker.objects.count() == 0


def test_the_route_is_not_taken_for_a_worker_id(client, assignment):
    assert client.get(URL).status_code == 405


def test_query_count_does_not_grow_with_rows(client, assignment):
    with CaptureQueriesContext(connection) as ten:
        assert post_csv(client, csv_text(assignment.pilot, 10)).status_code == 201
    with CaptureQueriesContext(connection) as hundred:
        assert post_csv(client, csv_text(assignment.pilot, 100, start=100)).status_code == 201
    assert len(hundred) == len(ten)
    assert Worker.objects.count() == 110
