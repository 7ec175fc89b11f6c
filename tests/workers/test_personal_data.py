"""Personal data at rest and on the way in: the date of birth encrypted with its year and keyed hash beside it,
duplicate detection through the hash, the reveal service and its access rows, e-mail masking, and document
numbers masked in every free text the worker services store."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lamp.masking import mask_documents_in_text, mask_email
from pilots import models as pil
from pilots.stages import Stage
from tests import factories as f
from workers import services
from workers.models import (
    DuplicateFlag,
    EvidenceKind,
    FeeSource,
    PersonalDataAccess,
    Worker,
    age_band,
    birth_date_hash,
)

pytestmark = pytest.mark.django_db

BORN = datetime.date(1995, 6, 1)


def stored_date_of_birth(worker: Worker) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT date_of_birth FROM workers_worker WHERE id = %s", [worker.pk])
        return cursor.fetchone()[0]


# --- The date of birth at rest ---------------------------------------------------------------------------


def test_the_date_of_birth_is_stored_encrypted_with_its_year_and_hash_in_clear():
    worker = f.WorkerFactory(date_of_birth=BORN)

    sealed = stored_date_of_birth(worker)
    assert sealed and "1995" not in sealed and len(sealed) > 50  # a Fernet token, not the date
    fresh = Worker.objects.get(pk=worker.pk)
    assert fresh.date_of_birth == BORN
    assert fresh.birth_year == 1995
    assert fresh.date_of_birth_hash == birth_date_hash(BORN)
    assert fresh.date_of_birth_masked == "1995-••-••"


def test_the_year_and_hash_follow_every_write():
    worker = f.WorkerFactory(date_of_birth=BORN)
    worker.date_of_birth = datetime.date(1988, 12, 31)
    worker.save(update_fields=["date_of_birth"])  # the model adds the derived columns to the fields saved
    fresh = Worker.objects.get(pk=worker.pk)
    assert (fresh.birth_year, fresh.date_of_birth_hash) == (1988, birth_date_hash(datetime.date(1988, 12, 31)))

    built = f.WorkerFactory.build(
        date_of_birth=datetime.date(2001, 2, 3), recruiter=worker.recruiter, pilot=worker.pilot
    )
    (created,) = Worker.objects.bulk_create([built])
    assert Worker.objects.values_list("birth_year", flat=True).get(pk=created.pk) == 2001


def test_the_birth_hash_is_keyed(settings):
    plain = birth_date_hash(BORN)
    settings.IDENTITY_HASH_KEY = "another key entirely"
    assert birth_date_hash(BORN) != plain
    assert birth_date_hash(None) == ""


@pytest.mark.parametrize(
    ("year", "band"), [(2010, "under 18"), (2005, "18-24"), (1995, "25-34"), (1990, "35-44"), (1960, "55+")]
)
def test_the_age_band_comes_from_the_year_alone(year, band):
    assert age_band(year, on=datetime.date(2026, 3, 1)) == band
    assert age_band(None, on=datetime.date(2026, 3, 1)) == ""


def test_the_data_migration_encrypts_existing_dates_and_fills_year_and_hash():
    workers = [f.WorkerFactory(date_of_birth=datetime.date(1990 + n, 1, 15)) for n in range(3)]
    with connection.cursor() as cursor:  # as rows stood before: the date in clear, no year, no hash
        for worker in workers:
            cursor.execute(
                "UPDATE workers_worker SET date_of_birth = %s, birth_year = NULL, date_of_birth_hash = ''"
                " WHERE id = %s",
                [worker.date_of_birth.isoformat(), worker.pk],
            )
    migration = importlib.import_module("workers.migrations.0013_encrypt_existing_dates_of_birth")

    with connection.schema_editor() as editor:
        migration.encrypt_dates_of_birth(apps, editor)
        migration.encrypt_dates_of_birth(apps, editor)  # run twice: sealed rows are left alone

    for worker in workers:
        sealed = stored_date_of_birth(worker)
        assert len(sealed) > 50
        fresh = Worker.objects.get(pk=worker.pk)
        assert fresh.date_of_birth == worker.date_of_birth
        assert fresh.birth_year == worker.date_of_birth.year
        assert fresh.date_of_birth_hash == birth_date_hash(worker.date_of_birth)

    with connection.schema_editor() as editor:
        migration.decrypt_dates_of_birth(apps, editor)
    assert stored_date_of_birth(workers[0]) == workers[0].date_of_birth.isoformat()


# --- Duplicate detection through the hash ----------------------------------------------------------------


def register(recruiter, pilot, **fields):  # noqa: ANN001, ANN003, ANN201
    person = {
        "given_names": "Juana",
        "family_names": "Pérez Tzul",
        "date_of_birth": BORN,
        "gender": "female",
        "nationality": "GT",
        "consent_given_at": timezone.now() - datetime.timedelta(days=1),
        **fields,
    }
    return services.worker_register_unique(
        recruiter=recruiter, pilot=pilot, registered_on=datetime.date(2026, 2, 1), recorded_by=None, **person
    )


def test_names_and_date_of_birth_still_find_the_same_person_without_decrypting_a_row():
    recruiter, other, pilot = f.RecruiterFactory(), f.RecruiterFactory(), f.PilotFactory()
    first = register(recruiter, pilot)

    with CaptureQueriesContext(connection) as ctx, pytest.raises(services.DuplicateWorker) as duplicate:
        register(recruiter, pilot, given_names="JUANA ")
    assert duplicate.value.existing_id == first.pk
    lookup = next(q["sql"] for q in ctx.captured_queries if "date_of_birth_hash" in q["sql"])
    assert '"workers_worker"."date_of_birth" =' not in lookup

    elsewhere = register(other, pilot)  # another recruiter's: registered, and flagged for staff
    assert DuplicateFlag.objects.filter(worker=elsewhere, matches=first, reason="name_and_birth").exists()
    assert register(other, pilot, date_of_birth=datetime.date(1995, 6, 2), given_names="Rosa").pk


def test_an_edit_of_the_date_of_birth_is_checked_through_the_hash(staff_user):
    recruiter, pilot = f.RecruiterFactory(), f.PilotFactory()
    first = register(recruiter, pilot)
    second = register(recruiter, pilot, date_of_birth=datetime.date(1996, 1, 1))

    with pytest.raises(services.DuplicateWorker):
        services.worker_update(worker=second, updated_by=staff_user, date_of_birth=BORN)
    second.refresh_from_db()
    assert second.date_of_birth == datetime.date(1996, 1, 1) and first.pk != second.pk


# --- Reveals ----------------------------------------------------------------------------------------------

REASON = "Checking the visa application form."


def test_a_reveal_writes_exactly_one_access_row_and_gives_the_values(staff_user):
    worker = f.WorkerFactory(email="maria.lopez@example.org")

    access = services.personal_data_reveal(
        worker=worker, user=staff_user, fields=["date_of_birth", "phone", "email"], reason=REASON, channel="dashboard"
    )

    assert PersonalDataAccess.objects.count() == 1
    row = PersonalDataAccess.objects.get()
    assert (row.user, row.worker, row.fields, row.reason) == (
        staff_user,
        worker,
        ["date_of_birth", "phone", "email"],
        REASON,
    )
    expected = timezone.timedelta(minutes=5)
    assert row.expires_at - row.created_at == expected
    assert services.personal_data_values(access=access, user=staff_user) == {
        "date_of_birth": "1995-06-01",
        "phone": "+502 5555 0100",
        "email": "maria.lopez@example.org",
    }


def test_the_validity_is_a_setting(staff_user, settings):
    settings.PERSONAL_DATA_REVEAL_MINUTES = 2
    access = services.personal_data_reveal(
        worker=f.WorkerFactory(), user=staff_user, fields=["phone"], reason=REASON, channel="api"
    )
    assert access.expires_at - access.created_at == timezone.timedelta(minutes=2)


def test_an_expired_grant_gives_nothing(staff_user):
    worker = f.WorkerFactory()
    access = services.personal_data_reveal(
        worker=worker, user=staff_user, fields=["identity_document_number"], reason=REASON, channel="dashboard"
    )
    assert services.personal_data_values(access=access, user=staff_user)  # valid now

    later = access.expires_at + timezone.timedelta(seconds=1)
    assert services.personal_data_values(access=access, user=staff_user, now=later) == {}
    assert services.personal_data_values(access=access, user=staff_user, now=access.expires_at) == {}


def test_a_grant_gives_nothing_to_anyone_but_its_user(staff_user):
    access = services.personal_data_reveal(
        worker=f.WorkerFactory(), user=staff_user, fields=["phone"], reason=REASON, channel="dashboard"
    )
    assert services.personal_data_values(access=access, user=f.StaffUserFactory()) == {}


def test_the_worker_recruiter_may_reveal_its_own_worker_and_no_other():
    worker = f.WorkerFactory()
    own = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    another = f.RecruiterUserFactory(organisation=f.RecruiterFactory().organisation)

    services.personal_data_reveal(worker=worker, user=own, fields=["phone"], reason=REASON, channel="api")
    with pytest.raises(PermissionDenied):
        services.personal_data_reveal(worker=worker, user=another, fields=["phone"], reason=REASON, channel="api")
    assert PersonalDataAccess.objects.filter(user=another).count() == 0


def test_an_employer_or_a_funder_may_not_reveal():
    worker = f.WorkerFactory()
    for role, kind in ((pil.Role.EMPLOYER, "employer"), (pil.Role.FUNDER, "funder")):
        user = f.UserFactory(role=role, organisation=f.OrganisationFactory(kind=kind))
        with pytest.raises(PermissionDenied):
            services.personal_data_reveal(worker=worker, user=user, fields=["phone"], reason=REASON, channel="api")
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "reason", "named"),
    [
        (["phone"], "", "reason"),
        (["phone"], "   because   ", "reason"),  # 7 characters once trimmed
        (["phone"], "x" * 501, "reason"),
        ([], REASON, "fields"),
        (["salary"], REASON, "fields"),
    ],
)
def test_a_reveal_refused_names_the_field_and_writes_nothing(staff_user, fields, reason, named):
    with pytest.raises(ValidationError) as refused:
        services.personal_data_reveal(
            worker=f.WorkerFactory(), user=staff_user, fields=fields, reason=reason, channel="dashboard"
        )
    assert named in refused.value.message_dict
    assert PersonalDataAccess.objects.count() == 0


def test_a_document_number_in_the_reason_is_masked(staff_user):
    access = services.personal_data_reveal(
        worker=f.WorkerFactory(), user=staff_user, fields=["phone"], reason="Visa no. 123456789 check", channel="api"
    )
    assert access.reason == "Visa no. •••••6789 check"


# --- Masking functions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("US H-2A visa no. 123456789", "US H-2A visa no. •••••6789"),
        ("passport P4470181U, issued in Cobán", "passport •••••181U, issued in Cobán"),
        ("AB1234567", "•••••4567"),
        ("ID 123 456 789 given", "ID •••••6789 given"),
        ("Payroll 2026-01-01 to 2026-01-31.", "Payroll 2026-01-01 to 2026-01-31."),
        ("met on 14.03.2026", "met on 14.03.2026"),
        ("order 12345 and H-2A", "order 12345 and H-2A"),
        ("ref2024abc", "ref2024abc"),
        ("", ""),
    ],
)
def test_document_numbers_in_free_text_are_masked_but_their_last_four(text, masked):
    assert mask_documents_in_text(text) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [("maria.lopez@example.org", "m••••••••••@example.org"), ("a@b.gt", "•@b.gt"), ("", "")],
)
def test_email_is_masked_but_its_first_character_and_domain(email, masked):
    assert mask_email(email) == masked


# --- Document numbers in free text, masked on the way in: one test per path ------------------------------

VISA = "US H-2A visa no. 123456789"
MASKED = "US H-2A visa no. •••••6789"


def test_a_journey_note_and_override_reason(staff_user):
    worker = f.WorkerFactory()
    event = services.journey_move(
        worker=worker,
        stage=Stage.SCREENED,
        occurred_on=timezone.localdate(),
        recorded_by=staff_user,
        note=VISA,
        override_reason=f"Corrected from {VISA}",
    )
    event.refresh_from_db()
    assert event.note == MASKED and event.override_reason == f"Corrected from {MASKED}"


def test_an_evidence_reference_and_description(staff_user):
    evidence = services.evidence_add(
        worker=f.WorkerFactory(), kind=EvidenceKind.VISA, uploaded_by=staff_user, reference=VISA, description=VISA
    )
    evidence.refresh_from_db()
    assert evidence.reference == MASKED and evidence.description == MASKED


def test_a_staff_confirmation_note(staff_user):
    document = f.EvidenceFactory(source="recruiter", reference="Passport scan P4470181U")
    confirmation = services.evidence_confirm(evidence=document, confirmed_by=staff_user, note=f"Checked {VISA}")
    assert confirmation.description == f"Checked {MASKED}"
    assert confirmation.reference == f"Confirms evidence {document.pk}: Passport scan •••••181U"


def test_an_employment_note(staff_user):
    worker = f.WorkerFactory()
    employment = f.EmploymentFactory.build(
        worker=worker, job_opening=f.JobOpeningFactory(pilot=worker.pilot), note=VISA
    )
    services.employment_save(employment=employment, recorded_by=staff_user)
    employment.refresh_from_db()
    assert employment.note == MASKED


def test_a_fee_report_note_and_payee(staff_user):
    report = services.fee_report_record(
        worker=f.WorkerFactory(),
        category="recruitment_fee",
        amount=Decimal("100"),
        currency="USD",
        source=FeeSource.STAFF,
        reported_by=staff_user,
        paid_to="Agent with licence 98765432",
        note=VISA,
    )
    report.refresh_from_db()
    assert report.note == MASKED and report.paid_to == "Agent with licence ••••5432"


def test_a_fee_declaration_note():
    worker = f.WorkerFactory()
    user = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    declaration = services.fee_declaration_record(worker=worker, declared_by=user, note=f"No fee; {VISA}")
    declaration.refresh_from_db()
    assert declaration.note == f"No fee; {MASKED}"


# --- The admin shows personal data masked too -------------------------------------------------------------


def test_the_admin_change_page_shows_no_personal_value_and_replaces_them(admin_client):
    worker = f.WorkerFactory(date_of_birth=datetime.date(1993, 3, 9), phone="+502 5555 0142", email="rosa@example.org")
    url = f"/admin/workers/worker/{worker.pk}/change/"

    html = admin_client.get(url).content.decode()

    for value in ("1993-03-09", "09/03/1993", "5555 0142", "rosa@example.org", worker.identity_document_number):
        assert value not in html
    assert "1993-••-••" in html and worker.email_masked in html


def test_the_access_log_admin_is_read_only(admin_client, staff_user):
    access = services.personal_data_reveal(
        worker=f.WorkerFactory(), user=staff_user, fields=["phone"], reason=REASON, channel="dashboard"
    )
    assert admin_client.get("/admin/workers/personaldataaccess/").status_code == 200
    assert admin_client.get("/admin/workers/personaldataaccess/add/").status_code == 403
    change = f"/admin/workers/personaldataaccess/{access.pk}/change/"
    assert admin_client.get(change).status_code == 200  # viewed
    admin_client.post(change, {"reason": "Rewritten afterwards"})
    access.refresh_from_db()
    assert access.reason == REASON
    assert (
        admin_client.post(f"/admin/workers/personaldataaccess/{access.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert PersonalDataAccess.objects.count() == 1
