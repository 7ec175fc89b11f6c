"""No input breaks a dashboard page: oversize bodies, forms with too many fields, NUL characters and text past
its length get a 4xx page (a form naming its field where there is one), and nothing is written."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories as f
from workers.models import Employment, Evidence, FeeReport, JourneyEvent, Worker

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # noqa: ANN001, ANN201
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def worker():  # noqa: ANN201
    return f.WorkerFactory(stage_changed_on=datetime.date(2026, 1, 10))


def url(name: str, worker) -> str:  # noqa: ANN001
    return reverse(f"programme:{name}", args=[worker.pk])


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Worker, JourneyEvent, Employment, Evidence, FeeReport)}


def assert_refused_page(response, status: int, words: str) -> None:  # noqa: ANN001
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Request refused" in html and words in html


def test_a_form_over_a_megabyte_is_a_413_page(staff_client, worker):
    before = counts()
    response = staff_client.post(
        url("worker-move", worker), {"stage": "screened", "occurred_on": "2026-02-01", "note": "x" * (MIB + 1)}
    )
    assert_refused_page(response, 413, "at most 1.0")
    assert counts() == before


def test_an_evidence_upload_takes_a_file_over_a_megabyte(staff_client, worker):
    pdf = SimpleUploadedFile("attestation.pdf", b"%PDF-1.4 " + b"x" * (2 * MIB), content_type="application/pdf")
    response = staff_client.post(url("worker-evidence", worker), {"kind": "employer_attestation", "file": pdf})
    assert response.status_code == 302
    assert Evidence.objects.get().size > 2 * MIB


def test_an_evidence_upload_over_its_limit_is_a_413_page(staff_client, worker):
    pdf = SimpleUploadedFile("big.pdf", b"%PDF-1.4 " + b"x" * (11 * MIB), content_type="application/pdf")
    before = counts()
    response = staff_client.post(url("worker-evidence", worker), {"kind": "employer_attestation", "file": pdf})
    assert_refused_page(response, 413, "at most 11.0")
    assert counts() == before


def test_a_form_with_too_many_fields_is_a_400_page(staff_client, worker):
    before = counts()
    data = {"stage": "screened", "occurred_on": "2026-02-01", **{f"f{n}": "1" for n in range(1001)}}
    response = staff_client.post(url("worker-move", worker), data)
    assert_refused_page(response, 400, "more than 1000 fields")
    assert counts() == before


def test_a_nul_in_a_field_name_is_a_400_page(staff_client, worker):
    before = counts()
    response = staff_client.post(url("worker-move", worker), {"stage": "screened", "no\x00te": "x"})
    assert_refused_page(response, 400, "Null characters are not allowed.")
    assert counts() == before


def test_a_nul_in_a_query_parameter_name_is_a_400_page(staff_client):
    assert_refused_page(staff_client.get(reverse("workers:list") + "?s%00ort=name"), 400, "Null characters")


def test_a_nul_in_the_path_is_a_400_page(client):
    assert_refused_page(client.get("/c/abc%00def/"), 400, "Null characters")


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        (
            "worker-move",
            {"stage": "screened", "occurred_on": "2026-02-01", "override_reason": "a\x00b"},
            "override_reason",
        ),
        ("worker-evidence", {"kind": "employer_attestation", "reference": "HR\x00"}, "reference"),
        ("worker-evidence", {"kind": "employer_attestation", "reference": "HR", "description": "d\x00"}, "description"),
        ("worker-fee", {"category": "medical", "amount": "10", "currency": "USD", "paid_to": "Clinic\x00"}, "paid_to"),
        ("worker-fee", {"category": "medical", "amount": "10", "currency": "USD", "note": "n\x00"}, "note"),
        ("worker-fee", {"category": "medical", "amount": "10", "currency": "USD", "note": "x" * 2001}, "note"),
        ("worker-fee", {"category": "medical", "amount": "10", "currency": "USD", "paid_to": "x" * 201}, "paid_to"),
        ("worker-evidence", {"kind": "employer_attestation", "reference": "x" * 301}, "reference"),
    ],
)
def test_a_nul_or_text_too_long_in_a_field_is_refused_by_its_form(staff_client, worker, name, data, field):
    before = counts()
    response = staff_client.post(url(name, worker), data)
    assert response.status_code == 400
    form = {"worker-move": "move", "worker-evidence": "evidence", "worker-fee": "fee"}[name]
    assert field in response.context["forms"][form].errors
    assert counts() == before


def test_a_nul_in_an_uploaded_files_name_never_reaches_the_storage(staff_client, worker):
    pdf = SimpleUploadedFile("visa\x00.pdf", b"%PDF-1.4 a visa", content_type="application/pdf")
    response = staff_client.post(url("worker-evidence", worker), {"kind": "employer_attestation", "file": pdf})
    assert response.status_code in (302, 400)
    assert not any("\x00" in evidence.file.name for evidence in Evidence.objects.all())


@pytest.mark.parametrize("query", ["?q=Ana%00", "?sort=name%00", "?cursor=%00", "?page=%00", "?stage=%00"])
def test_a_nul_in_a_list_filter_is_never_a_server_error(staff_client, query):
    response = staff_client.get(reverse("workers:list") + query)
    assert response.status_code in (200, 400)


def test_an_admin_form_over_a_megabyte_is_a_413_page(admin_client, worker):
    before = counts()
    response = admin_client.post(
        reverse("admin:workers_worker_change", args=[worker.pk]), {"given_names": "x" * (MIB + 1)}
    )
    assert_refused_page(response, 413, "at most 1.0")
    assert counts() == before
