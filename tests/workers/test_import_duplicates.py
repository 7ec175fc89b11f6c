"""The bulk import flags a person another recruiter already registered, for staff, exactly as single
registration does (``services.worker_register_unique``), and tells the caller nothing of it. It refuses the
values single registration refuses (``workers.value_rules``), naming the field, with nothing written."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests import factories as f
from workers.imports import import_workers
from workers.models import DuplicateFlag, DuplicateReason, JourneyEvent, Worker
from workers.services import worker_register_unique

pytestmark = pytest.mark.django_db

CONSENT = "2026-01-05T09:00:00Z"


@pytest.fixture
def two_recruiters() -> dict[str, Any]:
    pilot = f.PilotFactory()
    mine, theirs = f.RecruiterFactory(), f.RecruiterFactory()
    for recruiter in (mine, theirs):
        f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=pilot)
    return {
        "pilot": pilot,
        "mine": mine,
        "theirs": theirs,
        "user": f.RecruiterUserFactory(organisation=mine.organisation),
    }


def person(**overrides: Any) -> dict[str, Any]:
    return {
        "given_names": "Rosa Amalia",
        "family_names": "Tzoc Ajú",
        "date_of_birth": datetime.date(1996, 2, 11),
        "gender": "female",
        "nationality": "GT",
        **overrides,
    }


def registered_by_them(world: dict[str, Any], **overrides: Any) -> Worker:
    return worker_register_unique(
        recruiter=world["theirs"],
        pilot=world["pilot"],
        registered_on=datetime.date(2026, 1, 10),
        recorded_by=None,
        consent_given_at=datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC),
        **person(**overrides),
    )


def as_row(world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    values = {**person(), "pilot": str(world["pilot"].pk), "consent_given_at": CONSENT, **overrides}
    values["date_of_birth"] = str(values["date_of_birth"])
    return values


def flags() -> list[tuple[int, int, str]]:
    return list(DuplicateFlag.objects.order_by("id").values_list("worker_id", "matches_id", "reason"))


def test_importing_another_recruiters_worker_by_names_flags_them_as_registration_does(two_recruiters):
    world = two_recruiters
    theirs = registered_by_them(world)

    result = import_workers(
        rows=[as_row(world, given_names="ROSA AMALIA")], mode="atomic", user=world["user"], recruiter=world["mine"]
    )

    assert result.errors == [] and result.count == 1
    (imported,) = result.created_ids
    assert flags() == [(imported, theirs.pk, DuplicateReason.NAME_AND_BIRTH)]
    # Single registration of the same person records the same flag.
    single = worker_register_unique(
        recruiter=f.RecruiterFactory(),
        pilot=world["pilot"],
        registered_on=datetime.date(2026, 1, 10),
        recorded_by=None,
        consent_given_at=datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC),
        **person(given_names="rosa amalia"),
    )
    assert set(DuplicateFlag.objects.filter(worker=single).values_list("matches_id", "reason")) == {
        (theirs.pk, DuplicateReason.NAME_AND_BIRTH),
        (imported, DuplicateReason.NAME_AND_BIRTH),
    }


def test_importing_another_recruiters_worker_by_document_flags_them_once_by_document(two_recruiters):
    world = two_recruiters
    theirs = registered_by_them(world, identity_document_number="P4470181U")  # and the same names too

    result = import_workers(
        rows=[as_row(world, identity_document_number="p447-0181u")],
        mode="atomic",
        user=world["user"],
        recruiter=world["mine"],
    )

    assert result.errors == [] and result.count == 1
    assert flags() == [(result.created_ids[0], theirs.pk, DuplicateReason.IDENTITY_DOCUMENT)]


def test_the_recruiter_is_answered_as_for_a_new_person(two_recruiters):
    world = two_recruiters
    registered_by_them(world)
    client = APIClient()
    client.force_authenticate(world["user"])
    url = "/api/v1/workers/import/?mode=atomic"

    known = client.post(url, {"rows": [as_row(world)]}, format="json")
    new = client.post(url, {"rows": [as_row(world, given_names="Ixchel", family_names="Pop")]}, format="json")

    assert known.status_code == new.status_code == 201, known.content
    known_body, new_body = known.json(), new.json()
    assert set(known_body) == set(new_body)
    assert {key: value for key, value in known_body.items() if key not in ("created_ids", "ids", "created")} == {
        key: value for key, value in new_body.items() if key not in ("created_ids", "ids", "created")
    }
    assert "flag" not in known.content.decode().lower() and "duplicate" not in known.content.decode().lower()
    assert DuplicateFlag.objects.count() == 1


def test_the_same_recruiters_worker_is_still_refused_and_flags_nothing(two_recruiters):
    world = two_recruiters
    worker_register_unique(
        recruiter=world["mine"],
        pilot=world["pilot"],
        registered_on=datetime.date(2026, 1, 10),
        recorded_by=None,
        consent_given_at=datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC),
        **person(),
    )
    registered_by_them(world)
    before = (Worker.objects.count(), JourneyEvent.objects.count(), DuplicateFlag.objects.count())

    result = import_workers(rows=[as_row(world)], mode="partial", user=world["user"], recruiter=world["mine"])

    assert result.count == 0 and [e["field"] for e in result.errors] == ["given_names"]
    assert (Worker.objects.count(), JourneyEvent.objects.count(), DuplicateFlag.objects.count()) == before


def test_a_refused_row_flags_nothing_and_an_atomic_refusal_writes_no_flag(two_recruiters):
    world = two_recruiters
    registered_by_them(world)
    rows = [as_row(world), as_row(world, given_names="Ixchel", date_of_birth="1800-01-01")]

    result = import_workers(rows=rows, mode="atomic", user=world["user"], recruiter=world["mine"])

    assert result.count == 0 and DuplicateFlag.objects.count() == 0 and Worker.objects.count() == 1


# --- The values single registration refuses -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date_of_birth": "2099-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1800-01-01"}, "date_of_birth"),
        ({"date_of_birth": str(datetime.date.today() - datetime.timedelta(days=1))}, "date_of_birth"),  # noqa: DTZ011
        ({"consent_given_at": "2099-01-01T00:00:00Z"}, "consent_given_at"),
        ({"consent_given_at": ""}, "consent_given_at"),
        ({"consent_given_at": None}, "consent_given_at"),
        ({"phone": "call me maybe"}, "phone"),
    ],
)
def test_an_import_refuses_what_registration_refuses_naming_the_field(two_recruiters, changes, field):
    world = two_recruiters

    result = import_workers(rows=[as_row(world, **changes)], mode="atomic", user=world["user"], recruiter=world["mine"])

    assert result.count == 0
    assert [(e["row"], e["field"]) for e in result.errors] == [(1, field)]
    assert Worker.objects.count() == 0 and JourneyEvent.objects.count() == 0


def test_an_imported_phone_is_kept_in_e164(two_recruiters):
    world = two_recruiters

    result = import_workers(
        rows=[as_row(world, phone="4444 1234")], mode="atomic", user=world["user"], recruiter=world["mine"]
    )

    assert result.errors == []
    worker = Worker.objects.get(pk=result.created_ids[0])
    assert worker.phone == "+50244441234" and worker.phone_masked.endswith("234")
