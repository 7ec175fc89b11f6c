"""A tranche's life cycle in a real browser: tranches are approved in order (a later tranche's button says
to approve the earlier one first), and a payer's payment is recorded in parts."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from financing.models import Disbursement, Tranche, TrancheStatus
from financing.services import claim_verify, schedule_recompute
from pilots.stages import Stage
from tests import factories
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def contract(eager_tasks):  # noqa: ANN001, ANN201
    """Two placements verified in 2026-Q1 and one in 2026-Q2 by María, at 500.00 each."""
    maria = factories.StaffUserFactory(username="maria", first_name="María", last_name="Castillo")
    factories.StaffUserFactory(username="daniel", first_name="Daniel", last_name="Mensah")
    recruiter = factories.RecruiterFactory(organisation__name="Cosecha Justa Reclutamiento")
    pilot = factories.PilotFactory(name="H-2A agriculture: Guatemala to the United States")
    contract = factories.RbfContractFactory(
        pilot=pilot, provider=recruiter.organisation, reference="H2A-PARTS", name="H-2A placements 2026"
    )
    metric = factories.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))
    days = [datetime.date(2026, 2, 10), datetime.date(2026, 2, 11), datetime.date(2026, 5, 4)]
    for day in days:
        worker = factories.WorkerFactory(recruiter=recruiter, pilot=pilot, current_stage=Stage.DEPLOYED)
        claim = factories.OutcomeClaimFactory(metric=metric, worker=worker, achieved_on=day)
        claim_verify(claim=claim, user=maria, verified_on=day, recompute=False)
    schedule_recompute(contract_id=contract.pk)
    return contract


def test_approve_in_order_then_record_a_part_payment(contract, new_page):
    q1 = Tranche.objects.get(contract=contract, code="2026-Q1")
    q2 = Tranche.objects.get(contract=contract, code="2026-Q2")
    page = new_page("daniel", PASSWORD)
    page.goto(f"/contracts/{contract.pk}/")

    # Q2 waits for Q1: its button is disabled and says why.
    q2_section = page.locator(f"#tranche-{q2.pk}")
    assert q2_section.get_by_role("button", name="Approve").is_disabled()
    assert "Approve tranche 2026-Q1 first: tranches are approved in order." in q2_section.inner_text()

    page.locator(f"#tranche-{q1.pk}").get_by_role(
        "button", name=re.compile(r"^Approve tranche 2026-Q1 for USD 1,000\.00")
    ).click()
    page.wait_for_load_state("networkidle")
    q1.refresh_from_db()
    assert q1.status == TrancheStatus.APPROVED
    # Now Q2 is the earliest open tranche: it may be approved.
    assert page.locator(f"#tranche-{q2.pk}").get_by_role("button", name=re.compile(r"^Approve tranche 2026-Q2")).count()

    # The form proposes the whole total; the payer paid a part.
    section = page.locator(f"#tranche-{q1.pk}")
    amount = section.get_by_label(re.compile(r"Amount paid"))
    assert amount.input_value() == "1000.00"
    amount.fill("400.00")
    section.get_by_label("Paid on").fill("2026-05-02")
    section.get_by_label("Reference").fill("WIRE-2026-0502")
    section.get_by_role("button", name="Record payment").click()
    page.wait_for_selector(".msg-success:has-text('partly paid: USD 600.00 left to pay')")

    section = page.locator(f"#tranche-{q1.pk}")
    assert "Approved · partly paid" in section.inner_text()
    assert "WIRE-2026-0502" in section.inner_text()  # the payments made, listed
    assert section.get_by_label(re.compile(r"Amount paid")).input_value() == "600.00"  # what is left, proposed
    screenshot(page, "e2e-tranche-partly-paid")

    # A payment above what is left is refused in place, naming the field; then the rest pays it.
    section.get_by_label(re.compile(r"Amount paid")).fill("600.01")
    section.get_by_label("Paid on").fill("2026-05-09")
    section.get_by_label("Reference").fill("WIRE-2026-0509")
    section.get_by_role("button", name="Record payment").click()
    page.wait_for_selector(f"#tranche-{q1.pk} .errorlist:has-text('USD 600.00 left to pay')")
    assert Disbursement.objects.filter(tranche=q1).count() == 1
    section.get_by_label(re.compile(r"Amount paid")).fill("600.00")
    section.get_by_role("button", name="Record payment").click()
    page.wait_for_selector(".msg-success:has-text('The tranche is paid.')")

    q1.refresh_from_db()
    assert q1.status == TrancheStatus.PAID
    assert list(q1.disbursements.order_by("paid_on").values_list("amount", flat=True)) == [
        Decimal("400.00"),
        Decimal("600.00"),
    ]
