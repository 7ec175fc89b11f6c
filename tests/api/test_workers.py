"""The worker endpoints: registration with duplicate detection, edits, masking, the journey, evidence,
tenancy (recruiter A against B's workers, funders, anonymous) and query budgets."""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from pilots import models as pil
from pilots.stages import Stage
from tests import factories as f
from workers import models as wrk
from workers.api.serializers import MAX_EVIDENCE_BYTES

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24


def client_for(user: pil.User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass
class World:
    staff: pil.User
    user_a: pil.User
    user_b: pil.User
    funder: pil.User
    recruiter_a: Any
    recruiter_b: Any
    pilot_a: pil.Pilot
    pilot_b: pil.Pilot
    worker_a: wrk.Worker
    worker_b: wrk.Worker
    evidence_b: wrk.Evidence


@pytest.fixture
def world() -> World:
    recruiter_a, recruiter_b = f.RecruiterFactory(), f.RecruiterFactory()
    pilot_a, pilot_b = f.PilotFactory(), f.PilotFactory()
    f.RecruiterAssignmentFactory(recruiter=recruiter_a, pilot=pilot_a)
    f.RecruiterAssignmentFactory(recruiter=recruiter_b, pilot=pilot_b)
    worker_a = f.WorkerFactory(recruiter=recruiter_a, pilot=pilot_a)
    worker_b = f.WorkerFactory(recruiter=recruiter_b, pilot=pilot_b)
    f.JourneyEventFactory(worker=worker_a)
    f.JourneyEventFactory(worker=worker_b)
    f.EvidenceFactory(worker=worker_a)
    return World(
        staff=f.StaffUserFactory(),
        user_a=f.RecruiterUserFactory(organisation=recruiter_a.organisation),
        user_b=f.RecruiterUserFactory(organisation=recruiter_b.organisation),
        funder=f.UserFactory(role=pil.Role.FUNDER, organisation=f.OrganisationFactory(kind="funder")),
        recruiter_a=recruiter_a,
        recruiter_b=recruiter_b,
        pilot_a=pilot_a,
        pilot_b=pilot_b,
        worker_a=worker_a,
        worker_b=worker_b,
        evidence_b=f.EvidenceFactory(worker=worker_b),
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # noqa: ANN001, ANN201 - pytest-django's settings
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def new_worker(pilot: pil.Pilot, /, **overrides: Any) -> dict[str, Any]:
    return {
        "given_names": "María José",
        "family_names": "Xol Caal",
        "date_of_birth": "1998-03-14",
        "gender": "female",
        "nationality": "GT",
        "phone": "+502 4444 1234",
        "email": "mj@example.org",
        "identity_document_type": "passport",
        "identity_document_number": "G12345678",
        "language_levels": {"es": "C2", "EN": "a2"},
        "consent_given_at": "2026-01-10T15:00:00Z",
        "pilot": pilot.pk,
        **overrides,
    }


def counts() -> tuple[int, ...]:
    return (
        wrk.Worker.objects.count(),
        wrk.JourneyEvent.objects.count(),
        wrk.Evidence.objects.count(),
        wrk.DuplicateFlag.objects.count(),
    )


def error_fields(response: Any) -> set[str | None]:
    body = response.json()
    assert set(body) >= {"detail", "errors"}, body
    return {error["field"] for error in body["errors"]}


# --- Registration ---------------------------------------------------------------------------------


def test_a_recruiter_registers_a_worker_for_itself_with_a_first_journey_event(world):
    response = client_for(world.user_a).post("/api/v1/workers/", new_worker(world.pilot_a), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    worker = wrk.Worker.objects.get(pk=body["id"])
    assert worker.recruiter == world.recruiter_a and body["recruiter"] == world.recruiter_a.pk
    assert body["pilot"] == world.pilot_a.pk and body["current_stage"] == "registered" and body["season"] == 1
    assert body["identity_document_masked"] == "•••••5678" and body["identity_document_country"] == "GT"
    assert "identity_document_number" not in body  # written in full, read back masked
    assert body["language_levels"] == {"es": "C2", "en": "A2"}
    assert worker.identity_document_hash == wrk.identity_document_hash(country="GT", number="G12345678")
    assert list(worker.journey_events.values_list("stage", "recorded_by")) == [("registered", world.user_a.pk)]


@pytest.mark.parametrize("pilot", ["pilot_b", "missing"])
def test_a_pilot_the_recruiter_is_not_assigned_to_is_a_400_that_reveals_nothing(world, pilot):
    pilot_id = world.pilot_b.pk if pilot == "pilot_b" else 10**9
    before = counts()

    response = client_for(world.user_a).post(
        "/api/v1/workers/", new_worker(world.pilot_a, pilot=pilot_id), format="json"
    )

    assert response.status_code == 400 and error_fields(response) == {"pilot"}
    assert response.json()["detail"] == f"No pilot with id {pilot_id} that the recruiter is assigned to."
    assert counts() == before


def test_a_recruiter_cannot_register_for_another_recruiter(world):
    before = counts()
    body = new_worker(world.pilot_a, recruiter=world.recruiter_b.pk)

    response = client_for(world.user_a).post("/api/v1/workers/", body, format="json")

    assert response.status_code == 400 and error_fields(response) == {"recruiter"}
    assert counts() == before


def test_staff_name_the_recruiter(world):
    client = client_for(world.staff)

    missing = client.post("/api/v1/workers/", new_worker(world.pilot_b), format="json")
    assert missing.status_code == 400 and error_fields(missing) == {"recruiter"}

    response = client.post("/api/v1/workers/", new_worker(world.pilot_b, recruiter=world.recruiter_b.pk), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["recruiter"] == world.recruiter_b.pk


def test_funders_and_anonymous_register_nobody(world):
    before = counts()
    assert (
        client_for(world.funder).post("/api/v1/workers/", new_worker(world.pilot_a), format="json").status_code == 403
    )
    assert client_for(None).post("/api/v1/workers/", new_worker(world.pilot_a), format="json").status_code == 401
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": "last spring"}, "date_of_birth"),
        ({"date_of_birth": 19980314}, "date_of_birth"),
        ({"gender": "robot"}, "gender"),
        ({"nationality": "XX"}, "nationality"),
        ({"identity_document_type": "library_card"}, "identity_document_type"),
        ({"email": "not an address"}, "email"),
        ({"consent_given_at": "yesterday"}, "consent_given_at"),
        ({"language_levels": {"en": "B3"}}, "language_levels"),
        ({"language_levels": {"english": "B1"}}, "language_levels"),
        ({"language_levels": ["en", "B1"]}, "language_levels"),
        ({"pilot": "first"}, "pilot"),
        ({"given_names": None}, "given_names"),
        ({"given_names": "x" * 121}, "given_names"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, change, field):
    before = counts()

    response = client_for(world.user_a).post("/api/v1/workers/", new_worker(world.pilot_a, **change), format="json")

    assert response.status_code == 400 and field in error_fields(response), response.content
    assert counts() == before


@pytest.mark.parametrize("field", ["given_names", "family_names", "date_of_birth", "gender", "nationality", "pilot"])
def test_a_missing_field_is_named(world, field):
    body = new_worker(world.pilot_a)
    del body[field]
    before = counts()

    response = client_for(world.user_a).post("/api/v1/workers/", body, format="json")

    assert response.status_code == 400 and error_fields(response) == {field}
    assert counts() == before


# --- Duplicates -----------------------------------------------------------------------------------


def test_registering_ones_own_worker_again_is_a_409_naming_them(world):
    client = client_for(world.user_a)
    first = client.post("/api/v1/workers/", new_worker(world.pilot_a), format="json").json()
    before = counts()

    # The same document, written another way, under other names.
    again = new_worker(world.pilot_a, identity_document_number="g-1234 5678", given_names="M.", family_names="X")
    response = client.post("/api/v1/workers/", again, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["existing_id"] == first["id"]
    assert body["errors"] == [{"field": "identity_document_number", "message": body["detail"]}]
    assert str(first["id"]) in body["detail"]
    assert counts() == before


def test_same_names_birth_and_nationality_are_a_duplicate_too(world):
    client = client_for(world.user_a)
    first = client.post("/api/v1/workers/", new_worker(world.pilot_a), format="json").json()
    before = counts()

    again = new_worker(world.pilot_a, identity_document_number="", given_names="maría josé", family_names="XOL CAAL")
    response = client.post("/api/v1/workers/", again, format="json")

    assert response.status_code == 409 and response.json()["existing_id"] == first["id"]
    assert error_fields(response) == {None}
    assert counts() == before


def test_another_recruiters_duplicate_is_registered_flagged_and_never_revealed(world):
    theirs = client_for(world.user_b).post("/api/v1/workers/", new_worker(world.pilot_b), format="json").json()
    mine_reference = client_for(world.user_a).post(
        "/api/v1/workers/", new_worker(world.pilot_a, given_names="Other", identity_document_number="Z9"), format="json"
    )

    response = client_for(world.user_a).post("/api/v1/workers/", new_worker(world.pilot_a), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    # The same shape as any registration: nothing about the other recruiter's worker.
    assert set(body) == set(mine_reference.json())
    assert theirs["id"] not in body.values() and world.recruiter_b.pk != body["recruiter"]
    flags = list(wrk.DuplicateFlag.objects.values_list("worker", "matches", "reason", "resolved_at"))
    assert flags == [(body["id"], theirs["id"], "identity_document", None)]
    # Recruiter B is not told either.
    assert client_for(world.user_b).get(f"/api/v1/workers/{body['id']}/").status_code == 404


def test_staff_review_duplicate_flags_in_the_admin(world, admin_client):
    theirs = client_for(world.user_b).post("/api/v1/workers/", new_worker(world.pilot_b), format="json").json()
    client_for(world.user_a).post("/api/v1/workers/", new_worker(world.pilot_a), format="json")
    flag = wrk.DuplicateFlag.objects.get(matches_id=theirs["id"])

    assert admin_client.get("/admin/workers/duplicateflag/").status_code == 200
    response = admin_client.post(
        "/admin/workers/duplicateflag/", {"action": "resolve", "_selected_action": [flag.pk]}, follow=True
    )
    assert response.status_code == 200
    flag.refresh_from_db()
    assert flag.resolved_at is not None and flag.resolved_by is not None


# --- Masking --------------------------------------------------------------------------------------

SENSITIVE = {"identity_document_number", "date_of_birth", "phone"}


@pytest.mark.parametrize("who", ["user_a", "staff"])
def test_lists_mask_personal_data_for_everyone(world, who):
    response = client_for(getattr(world, who)).get(f"/api/v1/workers/?recruiter={world.recruiter_a.pk}")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert not SENSITIVE & set(row)
    worker = world.worker_a
    assert row["identity_document_masked"] == worker.identity_document_masked
    assert row["identity_document_masked"].endswith(worker.identity_document_number[-4:])
    assert worker.identity_document_number not in json.dumps(response.json())
    assert row["date_of_birth_masked"] == "1995-••-••" and row["phone_masked"].endswith("100")
    assert "+502" not in row["phone_masked"]


@pytest.mark.parametrize("who", ["user_a", "staff"])
def test_the_detail_masks_personal_data_for_the_owner_and_staff_too(world, who):
    # The values come through a logged reveal only (tests/api/test_reveal.py).
    body = client_for(getattr(world, who)).get(f"/api/v1/workers/{world.worker_a.pk}/").json()

    assert not SENSITIVE & set(body)
    assert world.worker_a.identity_document_number not in json.dumps(body)
    assert body["date_of_birth_masked"] == "1995-••-••" and body["birth_year"] == 1995
    assert body["phone_masked"].endswith("100") and "+502" not in json.dumps(body)


# --- Edits ----------------------------------------------------------------------------------------


def test_the_owner_edits_personal_data(world):
    client = client_for(world.user_a)
    url = f"/api/v1/workers/{world.worker_a.pk}/"

    response = client.patch(url, {"phone": "+502 4111 2222", "identity_document_number": "N777"}, format="json")

    assert response.status_code == 200, response.content
    world.worker_a.refresh_from_db()
    assert world.worker_a.phone == "+50241112222"  # kept in E.164
    assert world.worker_a.identity_document_hash == wrk.identity_document_hash(country="GT", number="N777")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pilot": "other"}, "pilot"),
        ({"recruiter": "other"}, "recruiter"),
        ({"current_stage": "working"}, "current_stage"),
        ({"gender": "robot"}, "gender"),
        ({"language_levels": {"en": "Z9"}}, "language_levels"),
    ],
)
def test_an_edit_never_changes_pilot_recruiter_or_stage(world, change, field):
    if change.get("pilot") == "other":
        change = {"pilot": world.pilot_b.pk}
    if change.get("recruiter") == "other":
        change = {"recruiter": world.recruiter_b.pk}
    before = list(wrk.Worker.objects.values_list())

    response = client_for(world.user_a).patch(f"/api/v1/workers/{world.worker_a.pk}/", change, format="json")

    assert response.status_code == 400 and error_fields(response) == {field}
    assert list(wrk.Worker.objects.values_list()) == before


def test_workers_are_never_deleted(world):
    response = client_for(world.staff).delete(f"/api/v1/workers/{world.worker_a.pk}/")
    assert response.status_code == 405
    assert wrk.Worker.objects.filter(pk=world.worker_a.pk).exists()


# --- Tenancy --------------------------------------------------------------------------------------


def b_urls(world: World) -> list[str]:
    pk = world.worker_b.pk
    return [
        f"/api/v1/workers/{pk}/",
        f"/api/v1/workers/{pk}/events/",
        f"/api/v1/workers/{pk}/evidence/",
        f"/api/v1/workers/{pk}/evidence/{world.evidence_b.pk}/download/",
    ]


@pytest.mark.parametrize("who", ["user_a", "funder"])
def test_another_recruiters_worker_is_a_404_everywhere_and_nothing_changes(world, who):
    client = client_for(getattr(world, who))
    before = counts()
    worker_before = list(wrk.Worker.objects.values_list())

    for url in b_urls(world):
        response = client.get(url)
        assert response.status_code == 404, url
        missing = client.get(url.replace(f"/{world.worker_b.pk}/", f"/{10**9}/"))
        assert missing.json() == response.json(), url
    pk = world.worker_b.pk
    assert client.patch(f"/api/v1/workers/{pk}/", {"given_names": "X"}, format="json").status_code == 404
    assert client.put(f"/api/v1/workers/{pk}/", new_worker(world.pilot_b), format="json").status_code == 404
    assert client.post(f"/api/v1/workers/{pk}/events/", {"stage": "screened"}, format="json").status_code == 404
    evidence = {"kind": "other", "reference": "somewhere"}
    assert client.post(f"/api/v1/workers/{pk}/evidence/", evidence, format="json").status_code == 404
    assert counts() == before and list(wrk.Worker.objects.values_list()) == worker_before


def test_lists_hold_only_ones_own_workers(world):
    def ids(user: pil.User, query: str = "") -> set[int]:
        response = client_for(user).get(f"/api/v1/workers/{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids(world.user_a) == {world.worker_a.pk}
    assert ids(world.user_b) == {world.worker_b.pk}
    assert ids(world.funder) == set()
    assert ids(world.staff) == {world.worker_a.pk, world.worker_b.pk}
    assert ids(world.user_a, f"?recruiter={world.recruiter_b.pk}") == set()
    assert ids(world.user_a, f"?pilot={world.pilot_b.pk}") == set()
    assert ids(world.user_a, f"?pilot={world.pilot_a.pk}&stage=registered") == {world.worker_a.pk}


def test_anonymous_is_refused_everywhere(world):
    client = client_for(None)
    for url in ["/api/v1/workers/", *b_urls(world)]:
        assert client.get(url).status_code == 401, url


# --- The journey ----------------------------------------------------------------------------------


def test_a_move_records_an_event_and_the_list_shows_the_journey(world):
    client = client_for(world.user_a)
    url = f"/api/v1/workers/{world.worker_a.pk}/events/"

    response = client.post(
        url, {"stage": "screened", "occurred_on": "2026-02-01", "note": "Interviewed"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["stage"] == "screened" and response.json()["recorded_by"] == world.user_a.pk
    world.worker_a.refresh_from_db()
    assert world.worker_a.current_stage == "screened"
    assert [event["stage"] for event in client.get(url).json()] == ["registered", "screened"]


@pytest.mark.parametrize(
    ("move", "words", "field"),
    [
        ({"stage": "deployed"}, "requires", "stage"),  # skips required stages
        ({"stage": "registered"}, "already there", "stage"),
        ({"stage": "screened", "occurred_on": "2025-12-01"}, "before the current stage", "occurred_on"),
        ({"stage": "visa_denied"}, "can only follow", "stage"),
    ],
)
def test_a_refused_move_is_a_400_naming_stage_current_and_requested(world, move, words, field):
    before = counts()

    response = client_for(world.user_a).post(f"/api/v1/workers/{world.worker_a.pk}/events/", move, format="json")

    assert response.status_code == 400 and error_fields(response) == {field}
    message = response.json()["detail"]
    assert "'registered'" in message and f"'{move['stage']}'" in message and words in message
    assert counts() == before


@pytest.mark.parametrize(
    ("move", "field"),
    [
        ({"stage": "flying"}, "stage"),
        ({}, "stage"),
        ({"stage": "screened", "occurred_on": "soon"}, "occurred_on"),
        ({"stage": "screened", "evidence": "abc"}, "evidence"),
        ({"stage": "screened", "evidence": "other"}, "evidence"),
    ],
)
def test_a_bad_move_names_the_field(world, move, field):
    if move.get("evidence") == "other":
        move = {**move, "evidence": world.evidence_b.pk}  # evidence about B's worker
    before = counts()

    response = client_for(world.user_a).post(f"/api/v1/workers/{world.worker_a.pk}/events/", move, format="json")

    assert response.status_code == 400 and error_fields(response) == {field}
    assert counts() == before


def test_only_staff_override_the_journey(world):
    url = f"/api/v1/workers/{world.worker_a.pk}/events/"
    move = {"stage": "deployed", "occurred_on": "2026-03-01", "override_reason": "Screened on paper"}
    before = counts()

    assert client_for(world.user_a).post(url, move, format="json").status_code == 403
    assert counts() == before

    response = client_for(world.staff).post(url, move, format="json")
    assert response.status_code == 201 and response.json()["is_override"] is True


# --- Evidence -------------------------------------------------------------------------------------


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("attestation.pdf", PDF, "application/pdf"), ("visa.png", PNG, "image/png"), ("t.webp", WEBP, "image/webp")],
)
def test_an_upload_keeps_its_hash_and_downloads_as_an_attachment(world, name, content, content_type):
    client = client_for(world.user_a)
    url = f"/api/v1/workers/{world.worker_a.pk}/evidence/"
    form = {
        "kind": "employer_attestation",
        "file": upload(name, content, content_type),
        "facts": '{"start": "2026-04-06"}',
    }

    response = client.post(url, form, format="multipart")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest() and body["size"] == len(content)
    assert body["content_type"] == content_type and body["facts"] == {"start": "2026-04-06"}
    assert body["id"] in {row["id"] for row in client.get(url).json()}

    download = client.get(f"{url}{body['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"] == f'attachment; filename="{body["filename"]}"'
    assert body["download"].endswith(f"{url}{body['id']}/download/")
    # Recruiter B may not fetch it.
    assert client_for(world.user_b).get(f"{url}{body['id']}/download/").status_code == 404


def test_evidence_by_reference_has_nothing_to_download(world):
    client = client_for(world.user_a)
    url = f"/api/v1/workers/{world.worker_a.pk}/evidence/"

    response = client.post(
        url, {"kind": "payroll_record", "reference": "Payroll 2026-04", "facts": {"a": 1}}, format="json"
    )

    assert response.status_code == 201 and response.json()["download"] is None
    assert client.get(f"{url}{response.json()['id']}/download/").status_code == 404


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"file": ("big.pdf", PDF + b"0" * MAX_EVIDENCE_BYTES, "application/pdf")}, "file"),
        ({"file": ("notes.txt", b"hello", "text/plain")}, "file"),
        ({"file": ("fake.pdf", PNG, "application/pdf")}, "file"),  # declared PDF, is a PNG
        ({"file": ("fake.png", b"MZ\x90\x00" + b"\x00" * 20, "image/png")}, "file"),
        ({"file": ("fake.webp", b"RIFF\x24\x00\x00\x00WAVEfmt ", "image/webp")}, "file"),
        ({"reference": ""}, "file"),  # neither a file nor a reference
        ({"reference": "HR 1", "facts": "{not json"}, "facts"),
        ({"reference": "HR 1", "facts": "[1, 2]"}, "facts"),
        ({"reference": "HR 1", "kind": "selfie"}, "kind"),
        ({"reference": "HR 1", "kind": None}, "kind"),
    ],
)
def test_a_bad_upload_names_the_field_and_writes_nothing(world, media, form, field):
    data: dict[str, Any] = {"kind": "certificate"}
    for key, value in form.items():
        if key == "file":
            data["file"] = upload(*value)
        elif value is None:
            data.pop(key)
        else:
            data[key] = value
    before = counts()

    response = client_for(world.user_a).post(f"/api/v1/workers/{world.worker_a.pk}/evidence/", data, format="multipart")

    assert response.status_code == 400 and error_fields(response) == {field}, response.content
    assert counts() == before
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_the_size_limit_is_10_mib():
    assert MAX_EVIDENCE_BYTES == 10 * 1024 * 1024


# --- Query budgets --------------------------------------------------------------------------------


def queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def fill(world: World, rows: int) -> None:
    for _ in range(rows - wrk.Worker.objects.filter(recruiter=world.recruiter_a).count()):
        worker = f.WorkerFactory(recruiter=world.recruiter_a, pilot=world.pilot_a)
        f.JourneyEventFactory(worker=worker)
    for _ in range(rows - world.worker_a.journey_events.count()):
        f.JourneyEventFactory(worker=world.worker_a, stage=Stage.SCREENED, occurred_on=datetime.date(2026, 2, 1))
    for _ in range(rows - world.worker_a.evidence.count()):
        f.EvidenceFactory(worker=world.worker_a)


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        ("/api/v1/workers/", 1),
        ("/api/v1/workers/?pilot={pilot}&stage=registered&search=Ana", 1),
        ("/api/v1/workers/{pk}/", 1),
        ("/api/v1/workers/{pk}/events/", 2),
        ("/api/v1/workers/{pk}/evidence/", 2),
    ],
)
@pytest.mark.parametrize("who", ["user_a", "staff"])
def test_query_budgets_stay_constant_as_the_page_fills(world, url, budget, who, django_assert_max_num_queries):
    client = client_for(getattr(world, who))
    url = url.format(pk=world.worker_a.pk, pilot=world.pilot_a.pk)

    fill(world, 3)
    few = queries(client, url)
    fill(world, 30)
    with django_assert_max_num_queries(budget):
        many = queries(client, url)
    assert few == many


def test_a_deep_cursor_page_costs_what_the_first_does(world):
    client = client_for(world.user_a)
    fill(world, 30)
    first = client.get("/api/v1/workers/?page_size=5").json()
    assert len(first["results"]) == 5 and first["previous"] is None

    url, seen = first["next"], [row["id"] for row in first["results"]]
    while url:
        assert queries(client, url) == 1
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(wrk.Worker.objects.filter(recruiter=world.recruiter_a).values_list("id", flat=True))
