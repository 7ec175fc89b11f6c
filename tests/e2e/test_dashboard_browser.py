"""The dashboard in a real browser: what a staff member does in a working day, end to end.

A staff member logs in, opens a pilot, verifies a claim from the verification queue and sees the schedule
take it; a second staff member (maker-checker) approves an earlier tranche and records its payment; a
partner recruiter is refused the queue. Screenshots of the main pages are saved as test artefacts.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from financing.models import ClaimStatus, Disbursement, OutcomeClaim, Tranche, TrancheStatus
from financing.services import claim_verify, schedule_recompute
from pilots.models import User
from pilots.stages import Stage
from tests import factories
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password
DEMO_PASSWORD = "lamp-demo-2026"


@pytest.fixture
def world(eager_tasks):  # noqa: ANN001, ANN201 - the recompute job runs in the server's thread when sent
    """A pilot with one contract: two placements verified in Q1 by Maria, one placement waiting in the queue."""
    maria = factories.StaffUserFactory(username="maria", first_name="María", last_name="Castillo")
    daniel = factories.StaffUserFactory(username="daniel", first_name="Daniel", last_name="Mensah")
    recruiter = factories.RecruiterFactory(organisation__name="Cosecha Justa Reclutamiento")
    factories.RecruiterUserFactory(username="luis", organisation=recruiter.organisation)
    pilot = factories.PilotFactory(name="H-2A agriculture: Guatemala to the United States")
    contract = factories.RbfContractFactory(
        pilot=pilot, provider=recruiter.organisation, reference="H2A-E2E", name="H-2A placements 2026"
    )
    metric = factories.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))
    names = ["Ana Xicará", "Juan Tzoc", "Rosa Ajú"]
    workers = [
        factories.WorkerFactory(
            given_names=given, family_names=family, recruiter=recruiter, pilot=pilot, current_stage=Stage.DEPLOYED
        )
        for given, family in (name.split() for name in names)
    ]
    earlier = [factories.OutcomeClaimFactory(metric=metric, worker=w) for w in workers[:2]]
    for claim in earlier:
        claim_verify(claim=claim, user=maria, verified_on=datetime.date(2026, 2, 10), recompute=False)
    waiting = factories.OutcomeClaimFactory(metric=metric, worker=workers[2], achieved_on=datetime.date(2026, 10, 1))
    schedule_recompute(contract_id=contract.pk)
    return {"pilot": pilot, "contract": contract, "waiting": waiting, "maria": maria, "daniel": daniel}


def test_verify_from_the_queue_then_a_second_staff_member_approves_and_pays_a_tranche(world, new_page):
    contract, waiting = world["contract"], world["waiting"]
    q1 = Tranche.objects.get(contract=contract, code="2026-Q1")
    assert q1.status == TrancheStatus.OPEN

    # María: the overview, then the pilot.
    page = new_page("maria", PASSWORD)
    assert page.locator("h1").first.inner_text() == "Overview"
    screenshot(page, "e2e-overview")
    page.get_by_role("link", name=world["pilot"].name).first.click()
    page.wait_for_load_state("networkidle")
    assert world["pilot"].name in page.locator("h1").first.inner_text()

    # The queue: verify Rosa's placement in one click; the item says so in place.
    page.get_by_role("link", name="Verification queue").click()
    item = page.locator(f"#claim-{waiting.pk}")
    assert "Rosa Ajú" in item.inner_text()
    item.get_by_role("button", name="Verify").click()
    # The item is replaced by its result card (the pending card's facts may hold the word "verified" too).
    page.wait_for_selector(f"#claim-{waiting.pk}.queue-result:has-text('Verified')")
    waiting.refresh_from_db()
    assert waiting.status == ClaimStatus.VERIFIED

    # The schedule took it (the recompute job ran when the verification committed): the current
    # quarter now pays Rosa. María verified Q1's claims, so she may not approve Q1.
    page.goto(f"/contracts/{contract.pk}/")
    today = timezone.localdate()
    current = Tranche.objects.get(contract=contract, start_date__lte=today, end_date__gte=today)
    section = page.locator(f"#tranche-{current.pk}")
    assert "USD 500.00" in section.inner_text()
    assert "Rosa Ajú" in section.text_content()  # in the tranche's folded list of lines
    q1_section = page.locator(f"#tranche-{q1.pk}")
    assert q1_section.get_by_role("button", name="Approve").is_disabled()
    assert "Maker-checker" in q1_section.inner_text()

    # Daniel approves Q1 for the total he sees and records the payer's wire.
    other = new_page("daniel", PASSWORD)
    other.goto(f"/contracts/{contract.pk}/")
    section = other.locator(f"#tranche-{q1.pk}")
    section.get_by_role("button", name=re.compile(r"^Approve tranche 2026-Q1 for USD 1,000\.00")).click()
    other.wait_for_load_state("networkidle")
    q1.refresh_from_db()
    assert q1.status == TrancheStatus.APPROVED and q1.approved_by == world["daniel"]

    section = other.locator(f"#tranche-{q1.pk}")
    section.get_by_label("Paid on").fill(timezone.localdate().isoformat())
    section.get_by_label("Reference").fill("WIRE-2026-0412")
    section.get_by_role("button", name="Record payment").click()
    other.wait_for_selector(".msg-success:has-text('The tranche is paid')")
    q1_row = other.locator("table tr", has=other.get_by_role("link", name="2026-Q1", exact=True))
    assert "Paid" in q1_row.inner_text()
    screenshot(other, "e2e-contract-after-payment")

    q1.refresh_from_db()
    assert q1.status == TrancheStatus.PAID
    payment = Disbursement.objects.get(tranche=q1)
    assert payment.amount == Decimal("1000.00")
    assert (payment.reference, payment.recorded_by) == ("WIRE-2026-0412", world["daniel"])


def test_a_recruiter_lands_on_its_scorecard_and_is_refused_the_queue(world, new_page):
    page = new_page("luis", PASSWORD)
    assert "Cosecha Justa Reclutamiento" in page.locator("h1").first.inner_text()
    assert page.get_by_role("link", name="Verification queue").count() == 0

    response = page.goto("/verification/")
    assert response.status == 403
    assert "not available to you" in page.content()
    assert OutcomeClaim.objects.filter(status=ClaimStatus.CLAIMED).count() == 1  # nothing was decided


def test_screenshots_of_the_main_pages_with_the_demo_world(eager_tasks, new_page):  # noqa: ANN001
    """The demo world a newcomer sees, page by page, saved as artefacts (and each page answers 200)."""
    call_command("seed_demo", workers=120, verbosity=0)
    pilot_id = factories.pil.Pilot.objects.order_by("pk").values_list("pk", flat=True).first()
    contract_id = factories.fin.RbfContract.objects.order_by("pk").values_list("pk", flat=True).first()
    worker_id = factories.wrk.Worker.objects.filter(current_stage=Stage.WORKING).values_list("pk", flat=True).first()
    staff = new_page("staff", DEMO_PASSWORD)
    pages = {
        "overview": "/pilots/",
        "pilot": f"/pilots/{pilot_id}/",
        "workers": "/workers/",
        "worker": f"/workers/{worker_id}/",
        "queue": "/verification/",
        "claims": "/claims/",
        "contracts": "/contracts/",
        "contract": f"/contracts/{contract_id}/",
        "try-terms": f"/contracts/{contract_id}/try-terms/",
        "recruiters": "/recruiters/",
    }
    for name, path in pages.items():
        response = staff.goto(path)
        assert response.status == 200, path
        screenshot(staff, f"staff-{name}")

    funder = new_page("funder", DEMO_PASSWORD)
    screenshot(funder, "funder-overview")
    recruiter = new_page("recruiter", DEMO_PASSWORD)
    screenshot(recruiter, "recruiter-scorecard")
    assert User.objects.filter(username__in=["staff", "funder", "recruiter"]).count() == 3
