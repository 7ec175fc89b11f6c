"""Identity document numbers: encrypted at rest, found by a keyed hash, shown masked."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import WorkerFactory
from workers.models import Worker, identity_document_hash

pytestmark = pytest.mark.django_db


def raw_column(worker: Worker, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM workers_worker WHERE id = %s", [worker.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_the_raw_column_does_not_hold_the_plain_number():
    worker = WorkerFactory(identity_document_number="P77889900", phone="+502 4455 6677")

    stored = raw_column(worker, "identity_document_number")
    assert "P77889900" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert "4455" not in raw_column(worker, "phone")
    assert Worker.objects.get(pk=worker.pk).identity_document_number == "P77889900"


def test_duplicates_are_found_by_the_keyed_hash_whatever_the_spelling():
    worker = WorkerFactory()
    worker.set_identity_document(number="p 7788-9900", country="GT")
    worker.save()

    found = Worker.objects.filter(identity_document_hash=identity_document_hash(country="gt", number="P77889900"))
    assert list(found) == [worker]
    other_country = identity_document_hash(country="MX", number="P77889900")
    assert not Worker.objects.filter(identity_document_hash=other_country).exists()


def test_the_hash_depends_on_the_secret_key(settings):
    plain = identity_document_hash(country="GT", number="P77889900")
    settings.IDENTITY_HASH_KEY = "another key"
    assert identity_document_hash(country="GT", number="P77889900") != plain


def test_personal_data_is_masked_for_display():
    worker = WorkerFactory(identity_document_number="P77889900", phone="+502 4455 6677")
    assert worker.identity_document_masked == "•••••9900"
    assert worker.phone_masked.endswith("677") and "4455" not in worker.phone_masked
    assert worker.date_of_birth_masked == "1995-••-••"


def test_clearing_the_document_clears_the_hash():
    worker = WorkerFactory()
    worker.set_identity_document(number="", country="GT")
    worker.save()
    worker.refresh_from_db()
    assert worker.identity_document_number is None and worker.identity_document_hash == ""


# --- masked copies ----------------------------------------------------------------------------------------


def test_masked_copies_are_stored_beside_the_encrypted_values_and_follow_every_change(staff_user):
    from workers.services import worker_update

    worker = WorkerFactory(identity_document_number="P77889900", phone="+502 4455 6677")
    assert raw_column(worker, "identity_document_masked") == "•••••9900"
    assert raw_column(worker, "phone_masked").endswith("677") and "4455" not in raw_column(worker, "phone_masked")

    worker_update(worker=worker, updated_by=staff_user, identity_document_number="G12345678", phone="+1 202 555 0143")
    assert raw_column(worker, "identity_document_masked") == "•••••5678"
    assert raw_column(worker, "phone_masked").endswith("143")  # of +12025550143: kept in E.164

    worker.phone = None
    worker.save(update_fields=["phone"])  # naming the source is enough: the model adds its masked copy
    assert raw_column(worker, "phone_masked") == ""


def test_bulk_created_workers_get_their_masked_copies():
    first = WorkerFactory()
    built = WorkerFactory.build(
        identity_document_number="X99887766", phone="+52 55 1234 5678", recruiter=first.recruiter, pilot=first.pilot
    )
    (created,) = Worker.objects.bulk_create([built])
    assert raw_column(created, "identity_document_masked") == "•••••7766"
