"""The bulk import service: everything checked first, then all rows or the good ones written in bulk."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from pilots.stages import Stage
from tests import factories as f
from workers.imports import MAX_ROWS, import_workers
from workers.models import JourneyEvent, Worker, identity_document_hash
from workers.services import worker_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def assignment():
    return f.RecruiterAssignmentFactory()


@pytest.fixture
def staff():
    return f.StaffUserFactory()


def row(pilot, n: int = 0, **overrides):
    values = {
        "given_names": f"Ana {n}",
        "family_names": "López",
        "date_of_birth": "1995-06-01",
        "gender": "female",
        "nationality": "GT",
        "pilot": str(pilot.pk),
        "phone": "+502 5555 0100",
        "identity_document_number": f"P{n:08d}",
        "consent_given_at": "2026-01-05T09:00:00Z",
    }
    values.update(overrides)
    return values


def run(assignment, rows, mode="atomic", user=None):
    return import_workers(rows=rows, mode=mode, user=user or f.StaffUserFactory(), recruiter=assignment.recruiter)


def test_atomic_with_bad_rows_writes_nothing_and_reports_every_bad_row(assignment):
    rows = [row(assignment.pilot, n) for n in range(10)]
    rows[2]["date_of_birth"] = "01/06/1995"
    rows[7]["gender"] = "robot"
    rows[7]["nationality"] = ""

    result = run(assignment, rows)

    assert result.created_ids == [] and result.count == 0
    assert Worker.objects.count() == 0 and JourneyEvent.objects.count() == 0
    assert sorted((e["row"], e["field"]) for e in result.errors) == [
        (3, "date_of_birth"),
        (8, "gender"),
        (8, "nationality"),
    ]
    by_field = {e["field"]: e["message"] for e in result.errors}
    assert "YYYY-MM-DD" in by_field["date_of_birth"]
    assert "robot" in by_field["gender"]
    assert by_field["nationality"] == "This field is required."


def test_partial_writes_the_good_rows_and_returns_the_bad(assignment):
    rows = [row(assignment.pilot, n) for n in range(5)]
    rows[1]["email"] = "not an email"
    rows[3]["pilot"] = "abc"

    result = run(assignment, rows, mode="partial")

    assert result.count == 3
    assert [(e["row"], e["field"]) for e in result.errors] == [(2, "email"), (4, "pilot")]
    names = set(Worker.objects.filter(pk__in=result.created_ids).values_list("given_names", flat=True))
    assert names == {"Ana 0", "Ana 2", "Ana 4"}


def test_partial_with_no_good_row_writes_nothing(assignment):
    result = run(assignment, [row(assignment.pilot, 0, gender="")], mode="partial")
    assert result.count == 0 and len(result.errors) == 1 and Worker.objects.count() == 0


def test_every_field_is_checked(assignment):
    bad = {
        "given_names": "x" * 121,
        "date_of_birth": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
        "nationality": "XX",
        "identity_document_type": "driving_licence",
        "identity_document_country": "ZZ",
        "language_levels": "en:Z9",
        "consent_given_at": "yesterday",
        "shoe_size": "42",
    }
    result = run(assignment, [row(assignment.pilot, 0, **bad)])
    assert {e["field"] for e in result.errors} == set(bad)
    assert all(e["row"] == 1 and e["message"] for e in result.errors)


def test_optional_fields_are_parsed(assignment):
    result = run(
        assignment,
        [
            row(
                assignment.pilot,
                0,
                email="ana@example.org",
                language_levels="en:b1; de:A2",
                consent_given_at="2026-01-05T10:00:00",
                identity_document_type="national_id",
                identity_document_country="mx",
                nationality="gt",
            ),
            row(assignment.pilot, 1, language_levels={"es": "C2"}, consent_given_at="2026-01-05", phone=""),
        ],
    )
    first, second = Worker.objects.order_by("given_names")
    assert not result.errors
    assert first.language_levels == {"en": "B1", "de": "A2"}
    assert first.consent_given_at == datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC)
    assert (first.identity_document_type, first.identity_document_country, first.nationality) == (
        "national_id",
        "MX",
        "GT",
    )
    assert first.identity_document_hash == identity_document_hash(country="MX", number="P00000000")
    assert second.language_levels == {"es": "C2"} and second.phone is None


def test_a_person_twice_in_the_file_is_refused_on_the_later_row(assignment):
    pilot = assignment.pilot
    rows = [
        row(pilot, 0),
        row(pilot, 1),
        row(pilot, 2, identity_document_number="p-0000 0000"),  # row 1's document, written differently
        row(pilot, 3, given_names="ANA  1", identity_document_number=""),  # row 2's person, no document
    ]
    result = run(assignment, rows, mode="partial")

    assert result.count == 2
    assert [(e["row"], e["field"]) for e in result.errors] == [(3, "identity_document_number"), (4, "given_names")]
    assert "Row 1" in result.errors[0]["message"] and "Row 2" in result.errors[1]["message"]


def test_an_existing_worker_of_the_same_recruiter_is_refused_naming_its_id(assignment):
    recruiter, pilot = assignment.recruiter, assignment.pilot
    by_document = f.WorkerFactory(recruiter=recruiter, pilot=pilot, identity_document_number="P00000000")
    by_name = f.WorkerFactory(
        recruiter=recruiter, pilot=pilot, given_names="Ana 1", date_of_birth=datetime.date(1995, 6, 1),
        identity_document_number="OTHER-1",
    )
    result = run(assignment, [row(pilot, 0), row(pilot, 1), row(pilot, 2)])

    assert result.count == 0
    assert [(e["row"], e["field"]) for e in result.errors] == [(1, "identity_document_number"), (2, "given_names")]
    assert str(by_document.pk) in result.errors[0]["message"]
    assert str(by_name.pk) in result.errors[1]["message"]


def test_another_recruiters_worker_is_not_an_import_error(assignment):
    f.WorkerFactory(identity_document_number="P00000000", given_names="Ana 0", date_of_birth=datetime.date(1995, 6, 1))
    result = run(assignment, [row(assignment.pilot, 0)])
    assert result.count == 1 and not result.errors


def test_imported_workers_are_what_worker_register_gives(assignment, staff):
    consent = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)
    result = import_workers(
        rows=[row(assignment.pilot, 0, given_names="Ana", email="ana@example.org", language_levels={"en": "B1"},
                  consent_given_at=consent.isoformat())],
        mode="atomic",
        user=staff,
        recruiter=assignment.recruiter,
    )
    imported = Worker.objects.get(pk=result.created_ids[0])
    imported.given_names = "Ana"  # the two workers differ only in their document and given names
    registered = worker_register(
        recruiter=assignment.recruiter,
        pilot=assignment.pilot,
        registered_on=timezone.localdate(),
        recorded_by=staff,
        given_names="Ana",
        family_names="López",
        date_of_birth=datetime.date(1995, 6, 1),
        gender="female",
        nationality="GT",
        phone="+502 5555 0100",
        email="ana@example.org",
        language_levels={"en": "B1"},
        consent_given_at=consent,
        identity_document_number="P00000000",
    )
    registered.refresh_from_db()
    compared = (
        "recruiter_id",
        "pilot_id",
        "current_stage",
        "season",
        "stage_changed_on",
        "nationality",
        "phone",
        "identity_document_type",
        "identity_document_country",
        "identity_document_number",
        "identity_document_hash",
        "language_levels",
        "email",
        "consent_given_at",
        "date_of_birth",
        "given_names",
        "family_names",
        "gender",
    )
    assert {n: getattr(imported, n) for n in compared} == {n: getattr(registered, n) for n in compared}
    assert imported.current_stage == Stage.REGISTERED

    events = list(JourneyEvent.objects.filter(worker=imported))
    assert len(events) == 1
    (event,) = events
    assert (event.stage, event.season, event.pilot_id, event.occurred_on) == (
        Stage.REGISTERED,
        1,
        assignment.pilot_id,
        timezone.localdate(),
    )
    # History attribution: the event names who imported, as the one-row path names who registered.
    assert event.recorded_by == staff
    assert JourneyEvent.objects.get(worker=registered).recorded_by == staff


def test_the_writes_run_inside_acting_as_the_importing_user(assignment, staff, monkeypatch):
    import workers.imports as module

    seen = []
    real = module.acting_as

    def spy(user, **metadata):
        seen.append(user)
        return real(user, **metadata)

    monkeypatch.setattr(module, "acting_as", spy)
    run(assignment, [row(assignment.pilot, 0)], user=staff)
    assert seen == [staff]


def test_a_pilot_the_recruiter_is_not_assigned_to_is_a_row_error(assignment):
    other = f.PilotFactory()
    missing = {**row(assignment.pilot, 1), "pilot": "999999"}
    result = run(assignment, [row(other, 0), missing])
    assert [(e["row"], e["field"]) for e in result.errors] == [(1, "pilot"), (2, "pilot")]
    # The same words whether the pilot exists or not.
    assert result.errors[0]["message"].replace(str(other.pk), "N") == result.errors[1]["message"].replace(
        "999999", "N"
    )


@pytest.mark.parametrize("pilot", ["³", "٣", "-1", "1.5", "99999999999999999999999", True])
def test_an_id_that_is_not_a_plain_positive_integer_is_a_row_error(assignment, pilot):
    result = run(assignment, [{**row(assignment.pilot, 0), "pilot": pilot}])
    assert [(e["row"], e["field"]) for e in result.errors] == [(1, "pilot")]


def test_staff_name_the_recruiter_of_every_row(assignment, staff):
    rows = [
        row(assignment.pilot, 0, recruiter=str(assignment.recruiter.pk)),
        row(assignment.pilot, 1),
        row(assignment.pilot, 2, recruiter="99999999999999999999999"),
        row(assignment.pilot, 3, recruiter=str(f.RecruiterFactory().pk)),  # not assigned to the pilot
    ]
    result = import_workers(rows=rows, mode="partial", user=staff)
    assert result.count == 1
    assert Worker.objects.get().recruiter == assignment.recruiter
    assert [(e["row"], e["field"]) for e in result.errors] == [(2, "recruiter"), (3, "recruiter"), (4, "pilot")]


def test_a_forced_recruiter_ignores_the_recruiter_column(assignment):
    other = f.RecruiterFactory()
    result = run(assignment, [row(assignment.pilot, 0, recruiter=str(other.pk))])
    assert result.count == 1 and Worker.objects.get().recruiter == assignment.recruiter


def test_without_a_recruiter_only_staff_may_import(assignment):
    partner = f.RecruiterUserFactory()
    with pytest.raises(PermissionDenied):
        import_workers(rows=[row(assignment.pilot, 0)], mode="atomic", user=partner)


def test_more_than_ten_thousand_rows_are_refused(assignment):
    rows = (row(assignment.pilot, n) for n in range(MAX_ROWS + 5))
    with pytest.raises(ValidationError) as refused:
        run(assignment, rows)
    assert "rows" in refused.value.message_dict
    assert Worker.objects.count() == 0


def test_no_rows_and_an_unknown_mode_are_refused(assignment):
    with pytest.raises(ValidationError) as empty:
        run(assignment, [])
    assert "rows" in empty.value.message_dict
    with pytest.raises(ValidationError) as mode:
        run(assignment, [row(assignment.pilot)], mode="best_effort")
    assert "mode" in mode.value.message_dict


def test_a_row_that_is_not_an_object_is_a_row_error(assignment):
    result = run(assignment, [row(assignment.pilot, 0), ["Ana", "López"]], mode="partial")
    assert result.count == 1
    assert result.errors == [{"row": 2, "field": None, "message": "A row must be an object of field names and values."}]


def test_query_count_does_not_grow_with_rows(assignment, staff, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        run(assignment, [row(assignment.pilot, n) for n in range(10)], user=staff)
    with CaptureQueriesContext(connection) as many:
        run(assignment, [row(assignment.pilot, n) for n in range(100, 400)], user=staff)
    assert len(many) == len(few)
    assert Worker.objects.count() == 310


def test_text_with_copy_separators_and_accents_is_kept_as_given(assignment):
    tricky = {"given_names": "Ana\\N María", "family_names": "Ló\tpez\\ Nuñez"}  # a phone is kept in E.164
    run(assignment, [row(assignment.pilot, 0, **tricky), row(assignment.pilot, 1, family_names="\\N")])
    first, second = Worker.objects.order_by("id")
    assert (first.given_names, first.family_names) == tuple(tricky.values())
    assert second.family_names == "\\N"
    # Stored encrypted, as the one-row path stores it: the raw column is not the number.
    with connection.cursor() as cursor:
        cursor.execute("SELECT identity_document_number FROM workers_worker WHERE id = %s", [first.pk])
        (stored,) = cursor.fetchone()
    assert stored != "P00000000" and first.identity_document_number == "P00000000"


def test_copy_writes_every_column_of_both_models():
    from workers.imports import EVENT_FIELDS, WORKER_FIELDS

    assert set(WORKER_FIELDS) == {field.name for field in Worker._meta.concrete_fields}
    assert set(EVENT_FIELDS) == {field.name for field in JourneyEvent._meta.concrete_fields} - {"id"}


def test_ids_come_from_the_sequence_and_later_saves_do_not_collide(assignment):
    result = run(assignment, [row(assignment.pilot, n) for n in range(3)])
    later = f.WorkerFactory(recruiter=assignment.recruiter, pilot=assignment.pilot)
    assert later.pk > max(result.created_ids)
    assert sorted(result.created_ids) == sorted(Worker.objects.exclude(pk=later.pk).values_list("pk", flat=True))
