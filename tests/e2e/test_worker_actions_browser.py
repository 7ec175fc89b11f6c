"""Staff's work in a real browser, without the admin: a journey move and an evidence upload from a worker's
page, and a reversal from a claim's page with the adjustment the schedule makes for it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from financing.models import ClaimStatus, LineKind, PaymentLine, Tranche
from financing.services import claim_verify, schedule_recompute, tranche_approve
from pilots.stages import Stage
from tests import factories
from tests.e2e.conftest import screenshot
from workers.models import Evidence, JourneyEvent, Source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password
PDF = b"%PDF-1.4\n% an employer's attestation\n"


@pytest.fixture
def media(settings, tmp_path):  # noqa: ANN001, ANN201
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def staff(eager_tasks):  # noqa: ANN001, ANN201 - the recompute job runs in the server's thread when sent
    return factories.StaffUserFactory(username="maria", first_name="María", last_name="Castillo")


def test_a_journey_move_and_an_evidence_upload_from_the_worker_page(staff, media, new_page):
    worker = factories.WorkerFactory(given_names="Ana", family_names="Xicará", current_stage=Stage.REGISTERED)
    page = new_page("maria", PASSWORD)
    page.goto(f"/workers/{worker.pk}/")

    # The journey: screened, as the pilot's rules allow from here.
    page.get_by_text("Move to a next stage").click()
    page.get_by_label("Move to").select_option("screened")
    page.get_by_label("On", exact=True).fill("2026-02-01")
    page.get_by_role("button", name="Record the move").click()
    page.wait_for_selector(".msg-success:has-text('moved to “Screened” on 01 Feb 2026')")
    assert "Screened" in page.locator("#journey-h + ol.timeline").inner_text()
    worker.refresh_from_db()
    assert worker.current_stage == Stage.SCREENED

    # A skip is refused in place, naming both stages; nothing is written.
    page.get_by_text("Move to a next stage").click()
    page.get_by_label("Move to").select_option("deployed")
    page.get_by_role("button", name="Record the move").click()
    page.wait_for_selector("#move-stage-errors")
    assert "Cannot move from 'screened' to 'deployed'" in page.locator("#move-stage-errors").inner_text()
    assert JourneyEvent.objects.filter(worker=worker).count() == 1
    screenshot(page, "e2e-worker-move-refused")

    # Evidence: a PDF, kept with its hash, supplied by program staff.
    page.goto(f"/workers/{worker.pk}/")
    page.get_by_text("Upload evidence").click()
    page.get_by_label("Kind").select_option("employer_attestation")
    page.get_by_label("File").set_input_files({"name": "attestation.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_label("Description").fill("Signed by the farm's HR")
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_selector(".msg-success:has-text('Employer attestation kept (attestation.pdf)')")
    row = page.locator("#evidence-h ~ .table-wrap tr", has_text="attestation.pdf")
    assert "Program staff" in row.inner_text()
    screenshot(page, "e2e-worker-actions")
    evidence = Evidence.objects.get(worker=worker)
    assert evidence.source == Source.STAFF and evidence.size == len(PDF)


def test_a_reversal_from_the_claim_page_shows_its_adjustment(staff, new_page):
    metric = factories.OutcomeMetricFactory(code="PLACED", price=Decimal("500.00"), contract__reference="H2A-E2E")
    claim = factories.OutcomeClaimFactory(metric=metric, worker__given_names="Rosa", worker__family_names="Ajú")
    claim_verify(claim=claim, user=staff, verified_on=datetime.date(2026, 2, 10), recompute=False)
    schedule_recompute(contract_id=metric.contract_id)
    q1 = Tranche.objects.get(contract=metric.contract, code="2026-Q1")
    tranche_approve(tranche=q1, user=factories.StaffUserFactory())  # frozen: a reversal lands in a later tranche

    page = new_page("maria", PASSWORD)
    page.goto("/claims/")
    page.get_by_role("link", name="PLACED").first.click()
    page.wait_for_load_state("networkidle")
    assert "Rosa Ajú" in page.locator("h1").inner_text()
    page.get_by_label("Why the claim is reversed").fill("The employer withdrew its attestation")
    page.get_by_role("button", name="Reverse the claim").click()
    page.wait_for_selector(".msg-success:has-text('reversed')")

    lines = page.locator("[data-testid=claim-lines]")
    adjustment = lines.locator("tr[data-kind=adjustment]")
    assert "2026-Q2" in adjustment.inner_text() and "-USD 500.00" in adjustment.inner_text()
    assert page.locator("[data-testid=claim-status]").inner_text() == "Reversed"
    assert page.locator("[data-testid=claim-net]").inner_text() == "USD 0.00"
    screenshot(page, "e2e-claim-reversed")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED
    assert PaymentLine.objects.get(claim=claim, kind=LineKind.ADJUSTMENT).amount == Decimal("-500.00")
