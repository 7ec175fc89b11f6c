"""The recruiter portal in a real Chromium: a partner recruiter logs in, lands on its portal, opens a
rejected claim's reason from the claims list, and downloads its contract's schedule as CSV."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest

from financing.models import ClaimStatus, Decision, VerificationMethod
from financing.services import claim_verify, schedule_recompute
from pilots.stages import Stage
from tests import factories
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "portal-e2e-2026"
REJECTION = "The employer attestation is dated before the visa was issued: send the corrected one."


@pytest.fixture
def world() -> dict[str, object]:
    maria = factories.StaffUserFactory(username="maria", first_name="María", last_name="Castillo")
    recruiter = factories.RecruiterFactory(organisation__name="Cosecha Justa Reclutamiento")
    luis = factories.RecruiterUserFactory(username="luis", organisation=recruiter.organisation)
    for user in (maria, luis):
        user.set_password(PASSWORD)
        user.save()
    pilot = factories.PilotFactory(name="H-2A agriculture: Guatemala to the United States")
    contract = factories.RbfContractFactory(
        pilot=pilot, provider=recruiter.organisation, reference="H2A-PORTAL", name="H-2A placements 2026"
    )
    metric = factories.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))
    ana, juan = (
        factories.WorkerFactory(
            given_names=given, family_names=family, recruiter=recruiter, pilot=pilot, current_stage=Stage.WORKING
        )
        for given, family in (("Ana", "Xicará"), ("Juan", "Tzoc"))
    )
    placed = factories.OutcomeClaimFactory(metric=metric, worker=ana)
    claim_verify(claim=placed, user=maria, verified_on=datetime.date(2026, 2, 10), recompute=False)
    rejected = factories.OutcomeClaimFactory(
        metric=metric, worker=juan, status=ClaimStatus.REJECTED, rejection_reason=REJECTION
    )
    factories.VerificationFactory(
        claim=rejected, decision=Decision.REJECTED, method=VerificationMethod.STAFF, decided_by=maria, reason=REJECTION
    )
    schedule_recompute(contract_id=contract.pk)
    # Another recruiter's claim, which the portal must not show.
    other = factories.OutcomeClaimFactory(status=ClaimStatus.REJECTED, rejection_reason="Another agency's reason")
    return {"contract": contract, "placed": placed, "rejected": rejected, "ana": ana, "other": other}


def _log_in(chromium, live_server, username: str):  # noqa: ANN001, ANN202 - Playwright's objects
    """A fresh browser page logged in as ``username``, through the login form (its own submit button: the
    header may hold other forms)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_username) button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    return page


def test_a_recruiter_reads_why_a_claim_was_rejected_and_downloads_its_schedule(
    world,
    chromium,
    live_server,  # noqa: ANN001
):
    page = _log_in(chromium, live_server, "luis")
    assert page.url.endswith("/portal/")
    assert "Cosecha Justa Reclutamiento" in page.locator("h1").first.inner_text()
    assert page.get_by_role("link", name="Verification queue").count() == 0
    screenshot(page, "recruiter-portal")

    # The claims list, narrowed to the rejected ones, then the claim itself.
    page.get_by_role("link", name="My claims").click()
    page.select_option("#id_status", "rejected")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    assert "status=rejected" in page.url
    row = page.locator(f"#claim-{world['rejected'].pk}")
    assert REJECTION in row.inner_text()
    assert page.locator(f"#claim-{world['placed'].pk}").count() == 0
    assert "Another agency" not in page.content()
    row.get_by_role("link", name=f"#{world['rejected'].pk}").click()
    page.wait_for_load_state("networkidle")
    assert "Why it was rejected" in page.locator("#why-title").inner_text()
    assert REJECTION in page.locator("#claim-reason").inner_text()
    screenshot(page, "recruiter-portal-claim")

    # Its contracts, then the contract page (read-only) and the schedule CSV.
    page.get_by_role("link", name="My contracts").first.click()
    page.wait_for_load_state("networkidle")
    assert "2026-Q1" in page.content()
    page.get_by_role("link", name="Contract and schedule").click()
    page.wait_for_load_state("networkidle")
    assert "H2A-PORTAL" in page.locator("h1").first.inner_text() or "H2A-PORTAL" in page.content()
    assert page.get_by_role("button", name="Approve").count() == 0
    screenshot(page, "recruiter-contract")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download schedule (CSV)").first.click()
    download = download_info.value
    assert download.suggested_filename == "H2A-PORTAL-schedule.csv"
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert [(row["claim_id"], row["amount"], row["worker_name"]) for row in rows] == [
        (str(world["placed"].pk), "500.00", "Ana Xicará")
    ]

    # Another recruiter's claim is simply absent.
    response = page.goto(f"/portal/claims/{world['other'].pk}/")
    assert response.status == 404
    page.context.close()
