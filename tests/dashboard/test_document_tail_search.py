"""Searching the workers list by the characters it shows of a document number (``•••••181U`` -> ``181U``).

The number is encrypted; the search goes through a keyed hash of its normalised last four characters,
stored beside it on every write (save, update, bulk create, the import's COPY) and filled for existing rows
by a data migration. Nothing is decrypted to search.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from tests import factories as f
from workers.models import Worker, document_tail_hash_of, identity_document_tail_hash

pytestmark = pytest.mark.django_db

URL = reverse("workers:list")


def found(response) -> list[int]:  # noqa: ANN001
    assert response.status_code == 200, response.content.decode()[:500]
    return [w.pk for w in response.context["page"].workers]


@pytest.fixture
def workers():  # noqa: ANN201
    return {
        "ana": f.WorkerFactory(given_names="Ana", identity_document_number="P4470181U"),
        "juan": f.WorkerFactory(given_names="Juan", identity_document_number="GT-55-0181U", nationality="MX"),
        "rosa": f.WorkerFactory(given_names="Rosa", identity_document_number="P99990181"),  # shows 0181, not 181U
        "short": f.WorkerFactory(given_names="Eva", identity_document_number="X181U"),  # shown masked whole
    }


def test_the_last_four_characters_shown_find_the_worker(staff_client, workers):
    response = staff_client.get(URL, {"q": "181U"})

    assert sorted(found(response)) == sorted([workers["ana"].pk, workers["juan"].pk])
    html = response.content.decode()
    assert "•••••181U" in html  # what staff read on the list is what they typed


@pytest.mark.parametrize("term", ["181u", " 181U ", "•••••181U", "****181U", "18-1U"])
def test_the_tail_is_matched_as_the_full_number_is_normalised(staff_client, workers, term):
    assert workers["ana"].pk in found(staff_client.get(URL, {"q": term}))


def test_a_number_shown_masked_whole_is_not_found_by_its_tail(staff_client, workers):
    assert workers["short"].pk not in found(staff_client.get(URL, {"q": "181U"}))
    assert workers["short"].identity_document_tail_hash == ""


def test_the_full_number_still_finds_the_worker(staff_client, workers):
    assert found(staff_client.get(URL, {"q": "P4470181U"})) == [workers["ana"].pk]


def test_the_search_costs_the_same_queries_and_decrypts_nothing(staff_client, workers, django_assert_num_queries):
    for more in (0, 60):
        f.WorkerFactory.create_batch(more)
        # The session, the user, the pilots and recruiters offered, the lookup by hash, the page.
        with django_assert_num_queries(6) as ctx:
            response = staff_client.get(URL, {"q": "181U"})
        assert len(found(response)) == 2
        page = ctx.captured_queries[-1]["sql"]
        assert "identity_document_number" not in page  # the list never reads (nor decrypts) the number


def test_the_tail_hash_follows_every_write(staff_user):
    from workers.services import worker_update

    worker = f.WorkerFactory(identity_document_number="P12345678")
    assert worker.identity_document_tail_hash == identity_document_tail_hash("5678")

    worker_update(worker=worker, updated_by=staff_user, identity_document_number="G87654321")
    worker.refresh_from_db()
    assert worker.identity_document_tail_hash == identity_document_tail_hash("4321")

    worker.identity_document_number = None
    worker.save(update_fields=["identity_document_number"])  # the model adds the hash to the fields saved
    worker.refresh_from_db()
    assert worker.identity_document_tail_hash == ""

    built = f.WorkerFactory.build(identity_document_number="Z00001234", recruiter=worker.recruiter, pilot=worker.pilot)
    (created,) = Worker.objects.bulk_create([built])
    assert Worker.objects.get(pk=created.pk).identity_document_tail_hash == identity_document_tail_hash("1234")


def test_the_tail_hash_is_keyed(settings):
    plain = identity_document_tail_hash("181U")
    settings.IDENTITY_HASH_KEY = "another key"
    assert identity_document_tail_hash("181U") != plain
    assert document_tail_hash_of("P4470181U") == identity_document_tail_hash("181U")


def test_the_data_migration_fills_existing_rows():
    workers = [f.WorkerFactory(identity_document_number=f"P{n:04d}0181U") for n in range(7)]
    unnumbered = f.WorkerFactory(identity_document_number=None, identity_document_hash="")
    Worker.objects.update(identity_document_tail_hash="")  # as rows stood before the field existed

    migration = importlib.import_module("workers.migrations.0011_fill_document_tail_hashes")
    with connection.schema_editor() as editor:
        migration.fill_tail_hashes(apps, editor)

    hashes = dict(Worker.objects.values_list("pk", "identity_document_tail_hash"))
    assert {hashes[w.pk] for w in workers} == {identity_document_tail_hash("181U")}
    assert hashes[unnumbered.pk] == ""
