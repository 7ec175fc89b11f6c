"""Subject access: staff export everything held about a worker, in the worker's language, as JSON and as a
readable PDF; each export is one row of the access log; nobody else exports."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from pilots.stages import CheckInMoment
from tests import factories as f
from workers import models as wrk
from workers import services
from workers.subject_access import worker_export, worker_export_pdf, worker_language

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff() -> Any:
    return f.StaffUserFactory()


@pytest.fixture
def worker(staff) -> wrk.Worker:  # noqa: ANN001
    worker = f.WorkerFactory(
        given_names="Ñusta Begoña",
        family_names="Quispe",
        email="nusta@example.org",
        identity_document_number="P55512345",
        date_of_birth=datetime.date(1994, 3, 2),
    )
    services.fee_report_record(
        worker=worker,
        category=wrk.FeeCategory.MEDICAL,
        amount=Decimal("300.00"),
        currency="GTQ",
        source=wrk.FeeSource.STAFF,
        reported_by=staff,
        note="Examen médico en la capital",
    )
    return worker


def test_the_json_export_holds_everything_in_full_and_is_logged(staff, worker) -> None:  # noqa: ANN001
    answer = client_for(staff).get(f"/api/v1/workers/{worker.pk}/export/")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["language"] == "es"  # from Guatemala
    person = body["worker"]
    assert (person["given_names"], person["identity_document_number"], person["date_of_birth"]) == (
        "Ñusta Begoña",
        "P55512345",
        "1994-03-02",
    )
    assert person["gender_label"] == "Mujer"
    assert body["fee_reports"][0]["note"] == "Examen médico en la capital"
    access = wrk.PersonalDataAccess.objects.get(worker=worker)
    assert (access.user, access.channel, sorted(access.fields)) == (staff, "api", sorted(wrk.RevealableField.values))


def test_the_language_follows_the_check_in_then_the_nationality(staff, worker) -> None:  # noqa: ANN001
    assert worker_language(worker) == "es"
    check_in, _secret = services.check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=staff)
    services.check_in_language(check_in=check_in, language="en")
    assert worker_language(worker) == "en"
    assert worker_language(f.WorkerFactory(nationality="PH")) == "tl"
    assert worker_language(f.WorkerFactory(nationality="VN")) == "en"  # nothing says: English


def test_the_pdf_is_a_readable_document_in_a_unicode_font(staff, worker) -> None:  # noqa: ANN001
    answer = client_for(staff).get(f"/api/v1/workers/{worker.pk}/export/pdf/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    content = answer.content
    assert content.startswith(b"%PDF-")
    assert b"DejaVu" in content  # the font is embedded: it reads the same on any machine
    assert wrk.PersonalDataAccess.objects.filter(worker=worker).count() == 1


def test_the_pdf_writes_any_script(worker) -> None:  # noqa: ANN001
    """Names outside Latin-1 (a core PDF font would refuse them) are written with the embedded Unicode font."""
    wrk.Worker.objects.filter(pk=worker.pk).update(given_names="Đặng Thị Ṭhảo", family_names="Łukasz-Ğül")
    content = worker_export_pdf(worker=worker)
    assert content.startswith(b"%PDF-")
    assert b"/FontFile2" in content  # the TrueType font file itself is in the document


def test_the_export_counts_every_kind_of_fact(worker) -> None:  # noqa: ANN001
    keys = set(worker_export(worker=worker))
    assert {"consents", "journey", "employments", "evidence", "fee_reports", "check_ins", "access_log"} <= keys


@pytest.mark.parametrize("path", ["export/", "export/pdf/"])
def test_only_staff_export(worker, path: str) -> None:  # noqa: ANN001
    recruiter_user = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    answer = client_for(recruiter_user).get(f"/api/v1/workers/{worker.pk}/{path}")
    assert answer.status_code == 403
    assert answer.json()["detail"]
    assert wrk.PersonalDataAccess.objects.count() == 0


def test_the_dashboard_links_download_both(client, staff, worker) -> None:  # noqa: ANN001
    client.force_login(staff)
    page = client.get(reverse("programme:worker", args=[worker.pk])).content.decode()
    json_url = reverse("programme:worker-export-json", args=[worker.pk])
    pdf_url = reverse("programme:worker-export-pdf", args=[worker.pk])
    assert json_url in page and pdf_url in page
    exported = client.get(json_url)
    assert exported.status_code == 200
    assert exported.json()["worker"]["family_names"] == "Quispe"
    assert client.get(pdf_url).content.startswith(b"%PDF-")
    assert list(wrk.PersonalDataAccess.objects.values_list("channel", flat=True)) == ["dashboard", "dashboard"]


def test_a_recruiter_cannot_open_the_dashboard_export(client, worker) -> None:  # noqa: ANN001
    client.force_login(f.RecruiterUserFactory(organisation=worker.recruiter.organisation))
    assert client.get(reverse("programme:worker-export-json", args=[worker.pk])).status_code == 403
    assert wrk.PersonalDataAccess.objects.count() == 0
