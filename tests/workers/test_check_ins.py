"""The worker's own check-in: a link no one can guess, in their language, on a cheap phone, without an account.

What the worker says becomes facts the outcome rules read (a fee paid is a finding), and the recruiter never
learns which worker said it.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from financing.models import ClaimStatus, MetricKind, PaymentLine
from financing.services import schedule_recompute
from tests import factories as f
from workers.models import CheckIn, CheckInAnswer, CheckInMoment, Evidence, FeeReport, Source
from workers.services import check_in_create

pytestmark = pytest.mark.django_db

ANSWER = {"fee_paid": "yes", "fee_category": "medical", "fee_amount": "950.00", "fee_currency": "GTQ"}
NO_FEE = {"fee_paid": "no", "documents_held": "no", "contract_in_language": "yes"}


@pytest.fixture(autouse=True)
def one_address_many_tests(settings):  # noqa: ANN001, ANN201
    """Every test's client comes from 127.0.0.1, and the throttle's counters live in the shared cache: the
    per-address limit is lifted here, except where a test sets it to try it."""
    settings.CHECK_IN_RATE_PER_ADDRESS = 100_000


def link(secret: str) -> str:
    return reverse("check-in", args=[secret])


@pytest.fixture
def made() -> tuple[CheckIn, str]:
    worker = f.WorkerFactory(nationality="GT", given_names="Ana")
    return check_in_create(worker=worker, moment=CheckInMoment.PRE_DEPARTURE, created_by=f.StaffUserFactory())


def test_a_link_is_256_random_bits_kept_only_as_its_hash(made):
    check_in, secret = made
    assert len(secret) >= 43 and check_in.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(CheckIn.objects.values().get())
    assert check_in.expires_at - check_in.created_at == datetime.timedelta(days=21)


def test_the_page_opens_in_the_workers_language_small_and_without_scripts(client, made):
    check_in, secret = made
    response = client.get(link(secret))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in html and "Hola, Ana" in html
    assert "¿Pagó dinero a alguien para conseguir este trabajo" in html
    assert "<script" not in html and len(response.content) < 20_000
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"

    english = client.get(link(secret) + "?lang=en")
    assert "Did you pay any money to anyone" in english.content.decode()
    check_in.refresh_from_db()
    assert (check_in.language, check_in.language_chosen) == ("en", True)
    tagalog = client.get(link(secret) + "?lang=tl").content.decode()
    assert "Nagbayad ka ba ng pera" in tagalog


def test_a_fee_the_worker_reports_becomes_a_finding_from_the_worker(client, made):
    check_in, secret = made
    response = client.post(link(secret), {**NO_FEE, **ANSWER, "fee_paid_to": "Clínica en Huehuetenango"})
    assert response.status_code == 200, response.content.decode()
    assert "Gracias: recibimos sus respuestas." in response.content.decode()

    report = FeeReport.objects.get(worker=check_in.worker)
    assert (report.source, report.category, report.amount, report.currency) == (
        "worker",
        "medical",
        Decimal("950.000"),
        "GTQ",
    )
    survey = Evidence.objects.get(worker=check_in.worker)
    assert (survey.source, survey.kind, survey.facts["fee_paid"]) == (Source.WORKER, "worker_survey", True)
    assert survey.facts["documents_held_by_someone_else"] is False
    answers = dict(CheckInAnswer.objects.filter(check_in=check_in).values_list("question", "value"))
    assert answers["fee_category"] == "medical" and answers["fee_paid_to"] == "Clínica en Huehuetenango"

    again = client.post(link(secret), NO_FEE)
    assert "Usted ya respondió esta consulta" in again.content.decode()
    assert FeeReport.objects.count() == 1 and CheckInAnswer.objects.filter(check_in=check_in).count() == len(answers)


def test_forged_expired_and_answered_links_say_so_in_the_workers_language_and_write_nothing(client, made):
    check_in, secret = made
    forged = client.get(link("x" * 43), HTTP_ACCEPT_LANGUAGE="es")
    assert forged.status_code == 404 and "Este enlace no funciona." in forged.content.decode()
    assert "This link does not work." in client.get(link("x" * 43), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert client.post(link("short"), ANSWER).status_code == 404

    past = timezone.now() - datetime.timedelta(days=30)
    CheckIn.objects.filter(pk=check_in.pk).update(created_at=past, expires_at=past + datetime.timedelta(days=21))
    expired = client.post(link(secret), {**NO_FEE, **ANSWER})
    assert expired.status_code == 410 and "Este enlace ya venció." in expired.content.decode()
    assert not FeeReport.objects.exists() and not CheckInAnswer.objects.exists() and not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fee_category": ""}, "fee_category"),
        ({"fee_amount": ""}, "fee_amount"),
        ({"fee_amount": "1000000000"}, "fee_amount"),
        ({"fee_amount": "-5"}, "fee_amount"),
        ({"fee_amount": "1.001"}, "fee_amount"),
        ({"fee_category": "bribery"}, "fee_category"),
        ({"fee_currency": "XXX"}, "fee_currency"),
        ({"fee_paid_to": "Clinic\x00"}, "fee_paid_to"),
        ({"fee_paid_to": "x" * 201}, "fee_paid_to"),
        ({"fee_paid": "maybe"}, "fee_paid"),
        ({"anything_else": "y" * 2001}, "anything_else"),
        ({"concern": "nonsense"}, "concern"),
    ],
)
def test_a_bad_answer_is_a_400_that_names_the_question_and_writes_nothing(client, made, change, field):
    _, secret = made
    response = client.post(link(secret), {**NO_FEE, **ANSWER, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not CheckInAnswer.objects.exists() and not FeeReport.objects.exists()


def test_one_address_is_rate_limited_too(client, made, settings):
    _, secret = made
    settings.CHECK_IN_RATE_PER_ADDRESS = 2
    client.defaults["REMOTE_ADDR"] = "192.0.2.77"
    assert [client.get(link(secret)).status_code for _ in range(3)] == [200, 200, 429]


def test_answers_to_one_link_are_rate_limited(client, made, settings):
    _, secret = made
    statuses = [client.post(link(secret), {"fee_paid": "maybe"}).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    refused = client.post(link(secret), {"fee_paid": "maybe"})
    assert int(refused["Retry-After"]) >= 1 and "Espere un momento" in refused.content.decode()


def test_the_loop_a_fee_the_worker_reports_reverses_the_zero_fee_claim_the_recruiter_never_learns_who(
    django_capture_on_commit_callbacks, eager_tasks
):
    recruiter = f.RecruiterFactory()
    contract = f.RbfContractFactory(provider=recruiter.organisation)
    metric = f.OutcomeMetricFactory(contract=contract, kind=MetricKind.ZERO_FEE, code="ZERO_FEE")
    worker = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot, nationality="GT")
    claim = f.OutcomeClaimFactory(
        metric=metric, worker=worker, status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 5, 2)
    )
    schedule_recompute(contract_id=contract.pk)
    assert PaymentLine.objects.filter(claim=claim).aggregate(total=Sum("amount"))["total"] == Decimal("500.00")
    check_in, secret = check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=None)

    with django_capture_on_commit_callbacks(execute=True):
        answered = Client().post(
            link(secret), {**ANSWER, "still_working": "yes", "passport_own": "yes", "fee_amount": "300"}
        )
    assert answered.status_code == 200

    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED
    assert claim.reversal_reason == "Fee finding after verification: Medical costs."
    paid = PaymentLine.objects.filter(claim=claim).aggregate(total=Sum("amount"))["total"]
    assert paid in (None, Decimal(0))  # the schedule no longer pays it: the clawback
    api = APIClient()
    api.force_authenticate(f.RecruiterUserFactory(organisation=recruiter.organisation))
    seen = api.get(f"/api/v1/claims/{claim.pk}/").json()
    assert seen["status"] == "reversed" and "worker" not in seen["reversal_reason"].lower()
    assert api.get("/api/v1/fee-reports/").json()["results"] == []  # not who reported it
    assert all(row["source"] != "worker" for row in api.get(f"/api/v1/workers/{worker.pk}/evidence/").json())


def test_staff_make_a_check_in_in_the_admin_and_see_its_link_and_qr_code_once(admin_client):
    worker = f.WorkerFactory()
    response = admin_client.post(
        reverse("admin:workers_checkin_add"), {"worker": worker.pk, "moment": "day_90", "days": "14"}, follow=True
    )
    html = response.content.decode()
    check_in = CheckIn.objects.get(worker=worker)
    assert "/c/" in html and "data:image/svg+xml" in html
    secret = html.split("/c/", 1)[1].split("/", 1)[0]
    assert check_in.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert check_in.expires_at - check_in.created_at == datetime.timedelta(days=14)
    assert secret not in admin_client.get(reverse("admin:workers_checkin_change", args=[check_in.pk])).content.decode()


def test_an_empty_answer_is_a_400_asking_the_first_question_again(client, made):
    _, secret = made
    response = client.post(link(secret), {})
    assert response.status_code == 400
    assert "fee_paid" in response.context["form"].errors
    assert not CheckInAnswer.objects.exists()


def test_a_worker_can_say_what_is_wrong_in_their_own_words(client, made):
    check_in, secret = made
    words = "El reclutador guarda mi pasaporte hasta que pague."
    response = client.post(link(secret), {**NO_FEE, "concern": "documents_held", "anything_else": words})
    assert response.status_code == 200
    answers = dict(CheckInAnswer.objects.filter(check_in=check_in).values_list("question", "value"))
    assert (answers["concern"], answers["anything_else"]) == ("documents_held", words)
    assert Evidence.objects.get(worker=check_in.worker).facts["concern"] == "documents_held"
    assert client.post(link("y" * 43), {"concern": "nonsense"}).status_code == 404
