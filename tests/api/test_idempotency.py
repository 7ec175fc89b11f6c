"""``Idempotency-Key`` on API POSTs (``lamp.idempotency``): a retry returns the first answer and writes once."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from financing import models as fin
from lamp.models import IdempotencyRecord
from pilots import models as pil
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/api/v1/claims/"


def client_for(user: pil.User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def claimable() -> dict[str, object]:
    recruiter = f.RecruiterFactory()
    contract = f.RbfContractFactory(provider=recruiter.organisation)
    metric = f.OutcomeMetricFactory(contract=contract)
    worker = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot)
    user = f.RecruiterUserFactory(organisation=recruiter.organisation)
    return {"user": user, "body": {"metric": metric.pk, "worker": worker.pk, "achieved_on": "2026-04-06"}}


def post(client: APIClient, data: dict[str, object], key: str | None = None):  # noqa: ANN201
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(URL, data, format="json", headers=headers)


def test_a_retry_with_the_same_key_returns_the_first_answer_and_writes_once(claimable):
    client = client_for(claimable["user"])

    first = post(client, claimable["body"], key="k-1")
    retry = post(client, claimable["body"], key="k-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert fin.OutcomeClaim.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.user, record.key, record.method, record.path, record.status_code) == (
        claimable["user"],
        "k-1",
        "POST",
        URL,
        201,
    )
    assert len(record.request_fingerprint) == 64


def test_the_same_json_encoded_differently_is_the_same_request(claimable):
    client = client_for(claimable["user"])
    first = post(client, claimable["body"], key="k-1")
    reordered = dict(reversed(list(claimable["body"].items())))
    retry = post(client, reordered, key="k-1")
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


def test_a_refusal_is_kept_and_replayed_too(claimable):
    client = client_for(claimable["user"])
    bad = {**claimable["body"], "worker": 999_999}
    first = post(client, bad, key="bad")
    retry = post(client, bad, key="bad")
    assert first.status_code == retry.status_code == 400
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"


def test_the_same_key_with_a_different_body_is_refused_naming_the_header(claimable):
    client = client_for(claimable["user"])
    post(client, claimable["body"], key="k-1")

    other = post(client, {**claimable["body"], "unit": 2}, key="k-1")

    assert other.status_code == 422, other.content
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert fin.OutcomeClaim.objects.count() == 1


def test_different_users_use_the_same_key_independently(claimable):
    staff = f.StaffUserFactory()
    mine = post(client_for(claimable["user"]), claimable["body"], key="shared")
    theirs = post(client_for(staff), {**claimable["body"], "unit": 2}, key="shared")

    assert mine.status_code == theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert fin.OutcomeClaim.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2


def test_without_the_header_nothing_changes(claimable):
    client = client_for(claimable["user"])
    assert post(client, claimable["body"]).status_code == 201
    assert post(client, claimable["body"]).status_code == 409  # a plain retry is a duplicate, as before
    assert not IdempotencyRecord.objects.exists()


def test_a_request_still_in_progress_is_a_409_naming_the_header(claimable):
    client = client_for(claimable["user"])
    post(client, claimable["body"], key="k-1")
    IdempotencyRecord.objects.update(status_code=None, response_body=None)  # as if still running

    response = post(client, claimable["body"], key="k-1")

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_an_expired_key_starts_afresh(claimable):
    client = client_for(claimable["user"])
    post(client, claimable["body"], key="k-1")
    long_ago = timezone.now() - datetime.timedelta(hours=25)
    IdempotencyRecord.objects.update(created_at=long_ago)

    again = post(client, claimable["body"], key="k-1")

    assert again.status_code == 409  # ran again: the claim exists
    assert not again.has_header("Idempotent-Replayed")
    assert IdempotencyRecord.objects.get().status_code == 409


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_empty_or_overlong_key_is_refused(claimable, key):
    response = post(client_for(claimable["user"]), claimable["body"], key=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not fin.OutcomeClaim.objects.exists()


def test_other_posts_are_covered_too():
    """The simulator, an action of another viewset, is replayed the same way."""
    client = client_for(f.StaffUserFactory())
    scenario = {"currency": "USD"}  # refused (incomplete): the refusal is what is kept
    first = client.post("/api/v1/contracts/simulate/", scenario, format="json", headers={"Idempotency-Key": "s"})
    retry = client.post("/api/v1/contracts/simulate/", scenario, format="json", headers={"Idempotency-Key": "s"})
    assert first.status_code == 400
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


def test_a_stored_answer_with_personal_data_is_encrypted_at_rest():
    recruiter = f.RecruiterFactory()
    pilot = f.PilotFactory()
    f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=pilot)
    client = client_for(f.RecruiterUserFactory(organisation=recruiter.organisation))
    body = {
        "pilot": pilot.pk,
        "given_names": "Juana",
        "family_names": "Pérez Xol",
        "date_of_birth": "1998-04-12",
        "gender": "female",
        "nationality": "GT",
        "identity_document_country": "GT",
        "identity_document_number": "G99887766",
        "consent_given_at": "2026-01-10T15:00:00Z",
    }

    first = client.post("/api/v1/workers/", body, format="json", headers={"Idempotency-Key": "reg-1"})
    retry = client.post("/api/v1/workers/", body, format="json", headers={"Idempotency-Key": "reg-1"})

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    with connection.cursor() as cursor:
        cursor.execute("SELECT response_body FROM lamp_idempotencyrecord")
        (stored,) = cursor.fetchone()
    assert "G99887766" not in stored and "Juana" not in stored
