"""A worker's check-in in a real browser, at a cheap phone's size, in Spanish: the daily job makes it and puts its
link in the outbox, the worker opens the link, reports a fee for a medical exam, and the zero-fee claim is
reversed."""

from __future__ import annotations

import datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from financing.models import ClaimStatus, MetricKind
from financing.services import schedule_recompute
from pilots.stages import Stage
from tests import factories
from tests.e2e.conftest import screenshot
from workers.models import CheckInMoment, FeeReport, OutboxMessage
from workers.services import check_ins_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


def test_a_worker_reports_a_fee_on_a_phone_in_spanish_and_the_claim_is_reversed(chromium, live_server, eager_tasks):
    recruiter = factories.RecruiterFactory()
    contract = factories.RbfContractFactory(provider=recruiter.organisation)
    metric = factories.OutcomeMetricFactory(contract=contract, kind=MetricKind.ZERO_FEE, code="ZERO_FEE")
    worker = factories.WorkerFactory(
        recruiter=recruiter,
        pilot=contract.pilot,
        nationality="GT",
        given_names="Ana",
        current_stage=Stage.VISA_ISSUED,
        email="ana@example.org",
    )
    claim = factories.OutcomeClaimFactory(
        metric=metric, worker=worker, status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 5, 2)
    )
    schedule_recompute(contract_id=contract.pk)
    assert check_ins_due() == 1  # the daily job: Ana's visa is issued, her pre-departure check-in is due
    message = OutboxMessage.objects.get(check_in__worker=worker, channel="email")
    assert message.check_in.moment == CheckInMoment.PRE_DEPARTURE
    path = urlsplit(message.link).path  # the link as the email carries it

    context = chromium.new_context(viewport=PHONE, locale="es-GT", base_url=live_server.url, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(path)
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
