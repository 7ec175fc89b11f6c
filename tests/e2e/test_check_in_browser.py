"""A worker's check-in in a real browser, at a cheap phone's size, in Spanish: the link, the questions, a fee
reported for a medical exam, and the zero-fee claim it reverses."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from financing.models import ClaimStatus, MetricKind
from financing.services import schedule_recompute
from tests import factories
from tests.e2e.conftest import screenshot
from workers.models import CheckInMoment, FeeReport
from workers.services import check_in_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


def test_a_worker_reports_a_fee_on_a_phone_in_spanish_and_the_claim_is_reversed(chromium, live_server, eager_tasks):
    recruiter = factories.RecruiterFactory()
    contract = factories.RbfContractFactory(provider=recruiter.organisation)
    metric = factories.OutcomeMetricFactory(contract=contract, kind=MetricKind.ZERO_FEE, code="ZERO_FEE")
    worker = factories.WorkerFactory(recruiter=recruiter, pilot=contract.pilot, nationality="GT", given_names="Ana")
    claim = factories.OutcomeClaimFactory(
        metric=metric, worker=worker, status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 5, 2)
    )
    schedule_recompute(contract_id=contract.pk)
    _, secret = check_in_create(worker=worker, moment=CheckInMoment.PRE_DEPARTURE, created_by=None)

    context = chromium.new_context(viewport=PHONE, locale="es-GT", base_url=live_server.url, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"/c/{secret}/")
    assert page.locator("h1").inner_text() == "Hola, Ana"
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "check-in-phone-es")

    page.get_by_label("Sí").first.check()
    page.get_by_label("¿Para qué fue?").select_option(label="Un examen médico")
    page.get_by_label("¿Cuánto?").fill("950")
    page.get_by_label("Moneda").select_option("GTQ")
    fieldsets = page.locator("fieldset")
    fieldsets.nth(1).get_by_label("No").check()  # documents held by someone else: no
    fieldsets.nth(2).get_by_label("Sí").check()  # a contract in a language they read: yes
    page.get_by_role("button", name="Enviar mis respuestas").click()
    page.wait_for_selector("text=Gracias: recibimos sus respuestas.")
    screenshot(page, "check-in-phone-es-thanks")
    context.close()

    report = FeeReport.objects.get(worker=worker)
    assert (report.source, report.category, report.amount) == ("worker", "medical", Decimal("950.000"))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED
    assert claim.reversal_reason == "Fee finding after verification: Medical costs."
