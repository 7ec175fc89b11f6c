"""Erasure on request: a worker's personal data goes (from every table, history included) while the money stays
byte-identical; refused while a case is open, by anyone but staff, without a reason; from the API, the
dashboard and the admin alike."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from financing import models as fin
from lamp.history import acting_as
from pilots.stages import CheckInMoment
from tests import factories as f
from workers import models as wrk
from workers import services
from workers.erasure import open_cases, worker_erase

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
GIVEN, FAMILY = "Xiomara Itzel", "Ixcamparic"
EMAIL, PHONE, DOCUMENT = "xiomara.ixcam@example.org", "+502 5555 0199", "P77123456"
BORN = datetime.date(1993, 7, 14)
NOTES = {
    "journey": "Viajó con su primo desde Totonicapán",
    "employment": "Supervisor dice que trabaja muy bien",
    "fee": "Pagó en efectivo al coyote del pueblo",
    "paid_to": "Don Evaristo Chumil",
    "declaration": "Declaración firmada en la oficina de Xela",
    "reference": "Expediente físico caja 17 de Xiomara",
    "description": "Carta del empleador sobre Xiomara",
    "fact": "La trabajadora menciona a su hija Rosalba",
    "answer": "Mi jefe se llama Tránsito Ajanel y me grita",
    "override": "Corregido a pedido de Xiomara Itzel Ixcamparic",
    "reveal": "Llamar a Xiomara Itzel Ixcamparic por su visa",
}


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


CLAIM_FIGURES = [
    f.name for f in fin.OutcomeClaim._meta.concrete_fields if f.name not in ("rejection_reason", "reversal_reason")
]
VERIFICATION_FIGURES = [f.name for f in fin.Verification._meta.concrete_fields if f.name != "reason"]


def _money() -> dict[str, Any]:
    """Every column of every money row, and each tranche's total, as the database holds them."""
    return {
        "lines": list(fin.PaymentLine.objects.order_by("pk").values()),
        "tranches": list(fin.Tranche.objects.order_by("pk").values()),
        # Everything but the words staff wrote (where the worker's name is replaced by the pseudonym).
        "claims": list(fin.OutcomeClaim.objects.order_by("pk").values(*CLAIM_FIGURES)),
        "verifications": list(fin.Verification.objects.order_by("pk").values(*VERIFICATION_FIGURES)),
        "disbursements": list(fin.Disbursement.objects.order_by("pk").values()),
        "totals": {
            tranche.pk: sum((line.amount for line in tranche.lines.all()), Decimal(0))
            for tranche in fin.Tranche.objects.prefetch_related("lines")
        },
        "line_history": list(fin.PaymentLine.pgh_event_model.objects.order_by("pgh_id").values()),
    }


def dump_database() -> str:
    """Every row of every table of the database, as text: what a search of a dump would read."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        rows = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')  # noqa: S608 - the catalogue's own table names
            rows.extend(f"{table}: {text}" for (text,) in cursor.fetchall())
    return "\n".join(rows)


@pytest.fixture
def person(settings, tmp_path: Path) -> dict[str, Any]:
    """A worker with every kind of personal data the platform holds, each written the way the platform writes it,
    and a verified claim paid in an approved tranche."""
    settings.MEDIA_ROOT = str(tmp_path)
    staff = f.StaffUserFactory()
    worker = f.WorkerFactory(
        given_names=GIVEN,
        family_names=FAMILY,
        email=EMAIL,
        phone=PHONE,
        identity_document_number=DOCUMENT,
        date_of_birth=BORN,
        language_levels={"es": "C2", "en": "A2"},
    )
    services.journey_move(
        worker=worker,
        stage="returned",
        occurred_on=timezone.localdate(),
        recorded_by=staff,
        note=NOTES["journey"],
        override_reason=NOTES["override"],
    )
    opening = f.JobOpeningFactory(pilot=worker.pilot)
    services.employment_save(
        employment=wrk.Employment(
            worker=worker, job_opening=opening, start_date=datetime.date(2026, 4, 6), note=NOTES["employment"]
        ),
        recorded_by=staff,
    )
    services.fee_report_record(
        worker=worker,
        category=wrk.FeeCategory.RECRUITMENT_FEE,
        amount=Decimal("1500.00"),
        currency="GTQ",
        source=wrk.FeeSource.STAFF,
        reported_by=staff,
        paid_to=NOTES["paid_to"],
        note=NOTES["fee"],
    )
    services.fee_declaration_record(worker=worker, declared_by=staff, note=NOTES["declaration"])
    upload = services.evidence_add(
        worker=worker,
        kind=wrk.EvidenceKind.VISA,
        uploaded_by=staff,
        file=SimpleUploadedFile("visa.pdf", PDF, content_type="application/pdf"),
        description=NOTES["description"],
        facts={"employment_started_on": "2026-04-06", "working": True, "note": NOTES["fact"]},
    )
    services.evidence_add(worker=worker, kind=wrk.EvidenceKind.OTHER, uploaded_by=staff, reference=NOTES["reference"])
    check_in, _secret = services.check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=staff)
    services.check_in_answer(
        check_in=check_in,
        answers={"fee_paid": "no", "still_working": "yes", "passport_own": "yes", "anything_else": NOTES["answer"]},
    )
    wrk.PersonalDataAccess.objects.create(
        user=staff,
        worker=worker,
        fields=["phone"],
        reason=NOTES["reveal"],
        channel=wrk.AccessChannel.DASHBOARD,
        expires_at=timezone.now() + datetime.timedelta(minutes=5),
    )
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(wrk.Worker),
        object_id=str(worker.pk),
        object_repr=str(worker),
        action_flag=CHANGE,
        change_message=f"Changed email of {GIVEN} {FAMILY}.",
    )
    line = f.PaymentLineFactory(
        claim__worker=worker,
        tranche__status=fin.TrancheStatus.APPROVED,
        tranche__approved_by=staff,
        tranche__approved_at=timezone.now(),
    )
    with acting_as(staff):
        fin.OutcomeClaim.objects.filter(pk=line.claim_id).update(reversal_reason=f"Not {GIVEN} {FAMILY} after all")
    f.VerificationFactory(claim=line.claim, reason=f"Payroll names {FAMILY}")
    worker.refresh_from_db()
    return {"worker": worker, "staff": staff, "file": Path(tmp_path) / upload.file.name, "line": line}


def test_erasure_leaves_no_trace_and_the_money_untouched(person, django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    worker, staff = person["worker"], person["staff"]
    in_clear = [GIVEN, FAMILY, EMAIL, *NOTES.values()]
    sealed = [PHONE, DOCUMENT, BORN.isoformat()]  # encrypted at rest: never in a dump, before or after
    secrets = [*in_clear, *sealed]
    before = dump_database()
    for value in in_clear:  # the search finds each of them before: a search that could not would prove nothing
        assert value in before, value
    sealed_columns = (worker.identity_document_hash, worker.date_of_birth_hash, worker.identity_document_tail_hash)
    assert all(value and value in before for value in sealed_columns)
    money = _money()
    assert person["file"].exists()

    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(staff).post(
            f"/api/v1/workers/{worker.pk}/erase/", {"reason": "The worker asked for erasure by letter."}, format="json"
        )

    assert answer.status_code == 201, answer.content
    assert answer.json()["counts"]["files"] == 1
    dump = dump_database()
    for value in [*secrets, *sealed_columns]:
        assert value not in dump, value
    assert _money() == money
    claim = fin.OutcomeClaim.objects.get(pk=person["line"].claim_id)
    assert claim.reversal_reason == f"Not Erased worker #{worker.pk} after all"
    assert not person["file"].exists()
    worker.refresh_from_db()
    assert (str(worker), worker.email, worker.phone, worker.identity_document_number) == (
        f"Erased worker #{worker.pk}",
        "",
        None,
        None,
    )
    assert (worker.date_of_birth, worker.date_of_birth_hash, worker.identity_document_hash) == (None, "", "")
    # Kept for the figures: birth year, gender, nationality, the journey's stages, the rule-read facts.
    assert (worker.birth_year, worker.gender, str(worker.nationality)) == (1993, "female", "GT")
    upload = wrk.Evidence.objects.get(worker=worker, kind=wrk.EvidenceKind.VISA)
    assert upload.facts == {"employment_started_on": "2026-04-06", "working": True, "note": "[erased]"}
    record = wrk.WorkerErasure.objects.get(worker=worker)
    assert (record.erased_by, record.reason, record.trigger) == (
        staff,
        "The worker asked for erasure by letter.",
        "request",
    )


def test_erasure_keeps_every_payment_figure_of_the_contract(person) -> None:  # noqa: ANN001
    contract = person["line"].tranche.contract
    figures = list(
        fin.PaymentLine.objects.filter(tranche__contract=contract)
        .order_by("pk")
        .values_list("amount", "capped", "kind")
    )
    worker_erase(worker=person["worker"], user=person["staff"], reason="Retention test, worker asked.")
    assert (
        list(
            fin.PaymentLine.objects.filter(tranche__contract=contract)
            .order_by("pk")
            .values_list("amount", "capped", "kind")
        )
        == figures
    )


def _counts() -> tuple[int, ...]:
    return (
        wrk.WorkerErasure.objects.count(),
        wrk.Worker.objects.filter(erased_at__isnull=False).count(),
        wrk.Worker.objects.filter(given_names=GIVEN).count(),
    )


def test_refused_while_a_claim_waits_for_staff_review(person) -> None:  # noqa: ANN001
    claim = f.OutcomeClaimFactory(worker=person["worker"], in_review=True)
    before = _counts()
    answer = client_for(person["staff"]).post(
        f"/api/v1/workers/{person['worker'].pk}/erase/", {"reason": "The worker asked for erasure."}, format="json"
    )
    assert answer.status_code == 409
    body = answer.json()
    assert body["errors"][0]["field"] == "worker"
    assert f"Claim {claim.pk}" in body["detail"]
    assert _counts() == before == (0, 0, 1)


def test_refused_while_a_duplicate_flag_is_open(person) -> None:  # noqa: ANN001
    other = f.WorkerFactory()
    flag = wrk.DuplicateFlag.objects.create(worker=other, matches=person["worker"], reason="name_and_birth")
    assert [case.kind for case in open_cases(person["worker"])] == ["duplicate_flag"]
    answer = client_for(person["staff"]).post(
        f"/api/v1/workers/{person['worker'].pk}/erase/", {"reason": "The worker asked for erasure."}, format="json"
    )
    assert answer.status_code == 409
    assert _counts() == (0, 0, 1)
    services.duplicate_flags_resolve(flag_ids=[flag.pk], user=person["staff"])
    assert open_cases(person["worker"]) == []


def test_refused_twice(person) -> None:  # noqa: ANN001
    client = client_for(person["staff"])
    url = f"/api/v1/workers/{person['worker'].pk}/erase/"
    assert client.post(url, {"reason": "The worker asked for erasure."}, format="json").status_code == 201
    again = client.post(url, {"reason": "The worker asked for erasure."}, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "worker"
    assert wrk.WorkerErasure.objects.count() == 1


@pytest.mark.parametrize("reason", ["", "short", "x" * 1001])
def test_a_reason_is_required(person, reason: str) -> None:  # noqa: ANN001
    answer = client_for(person["staff"]).post(
        f"/api/v1/workers/{person['worker'].pk}/erase/", {"reason": reason}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "reason"
    assert _counts() == (0, 0, 1)


def test_only_staff_erase(person) -> None:  # noqa: ANN001
    worker = person["worker"]
    recruiter_user = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    answer = client_for(recruiter_user).post(
        f"/api/v1/workers/{worker.pk}/erase/", {"reason": "The worker asked for erasure."}, format="json"
    )
    assert answer.status_code == 403
    assert answer.json()["detail"]
    assert _counts() == (0, 0, 1)


def test_the_dashboard_asks_for_the_typed_confirmation(client, person) -> None:  # noqa: ANN001
    worker = person["worker"]
    client.force_login(person["staff"])
    url = reverse("programme:worker-erase", args=[worker.pk])
    refused = client.post(url, {"reason": "The worker asked at the office.", "confirmation": "erase"})
    assert refused.status_code == 400
    assert "Type ERASE" in refused.content.decode()
    assert _counts() == (0, 0, 1)
    done = client.post(url, {"reason": "The worker asked at the office.", "confirmation": "ERASE"})
    assert done.status_code == 302
    page = client.get(reverse("programme:worker", args=[worker.pk])).content.decode()
    assert f"Erased worker #{worker.pk}" in page
    assert GIVEN not in page


def test_the_dashboard_says_why_a_case_refuses_it(client, person) -> None:  # noqa: ANN001
    f.OutcomeClaimFactory(worker=person["worker"], in_review=True)
    client.force_login(person["staff"])
    answer = client.post(
        reverse("programme:worker-erase", args=[person["worker"].pk]),
        {"reason": "The worker asked at the office.", "confirmation": "ERASE"},
    )
    assert answer.status_code == 409
    assert "waits for staff review" in answer.content.decode()
    assert _counts() == (0, 0, 1)


def test_the_admin_action_erases_with_a_reason(admin_client, person) -> None:  # noqa: ANN001
    worker = person["worker"]
    url = reverse("admin:workers_worker_changelist")
    data = {"action": "erase_personal_data", "_selected_action": [worker.pk]}
    asked = admin_client.post(url, data)
    assert asked.status_code == 200
    assert "Type ERASE to confirm" in asked.content.decode()
    assert _counts() == (0, 0, 1)
    done = admin_client.post(url, {**data, "apply": "1", "reason": "Asked by the worker.", "confirmation": "ERASE"})
    assert done.status_code == 302
    assert wrk.WorkerErasure.objects.get().worker_id == worker.pk
