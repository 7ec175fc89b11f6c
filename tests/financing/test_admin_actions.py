"""Staff take a contract from claims to a paid tranche in the admin: every step through a service."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from financing.models import ClaimStatus, Decision, Disbursement, Tranche, TrancheStatus
from financing.services import schedule_recompute
from tests import factories as f

pytestmark = pytest.mark.django_db


def changelist(model: str) -> str:
    return reverse(f"admin:financing_{model}_changelist")


def act(client, model: str, action: str, objects, **extra):  # noqa: ANN001, ANN201
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    return client.post(changelist(model), data, follow=True)


def messages_of(response) -> list[str]:  # noqa: ANN001
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def staff_client(client):  # noqa: ANN001, ANN201
    user = f.SuperUserFactory()
    client.force_login(user)
    client.user = user
    return client


def test_verify_then_approve_then_pay_through_the_admin(staff_client):
    contract = f.RbfContractFactory(cap_total=None)
    metric = f.OutcomeMetricFactory(contract=contract, price=Decimal("500.00"))
    claims = f.OutcomeClaimFactory.create_batch(2, metric=metric, achieved_on=datetime.date(2026, 1, 2))

    response = act(staff_client, "outcomeclaim", "verify", claims)
    assert "Verified: 2." in messages_of(response)
    for claim in claims:
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.VERIFIED
        assert claim.verifications.get().decided_by == staff_client.user
    # Claims verified today fall into today's quarter; give them a past one to take it to payment.
    type(claims[0]).objects.filter(pk__in=[c.pk for c in claims]).update(verified_on=datetime.date(2026, 2, 1))
    schedule_recompute(contract_id=contract.pk)
    q1 = Tranche.objects.get(contract=contract, code="2026-Q1")

    refused = act(staff_client, "tranche", "approve", [q1])
    assert any("Maker-checker" in m for m in messages_of(refused))
    q1.refresh_from_db()
    assert q1.status == TrancheStatus.OPEN

    checker = f.SuperUserFactory()
    staff_client.force_login(checker)
    assert "Approved: 1." in messages_of(act(staff_client, "tranche", "approve", [q1]))

    asked = act(staff_client, "tranche", "record_disbursement", [q1])
    assert asked.templates[0].name == "admin/financing/action_form.html"
    wrong = act(
        staff_client,
        "tranche",
        "record_disbursement",
        [q1],
        apply="1",
        amount="1000.01",
        paid_on="2026-05-02",
        reference="WIRE-1",
    )
    assert any("USD 1,000.00 left to pay" in m for m in messages_of(wrong))
    part = act(
        staff_client,
        "tranche",
        "record_disbursement",
        [q1],
        apply="1",
        amount="400.00",
        paid_on="2026-05-02",
        reference="WIRE-1",
    )
    assert "Payments recorded: 1." in messages_of(part)
    q1.refresh_from_db()
    assert q1.status == TrancheStatus.APPROVED  # partly paid
    paid = act(
        staff_client,
        "tranche",
        "record_disbursement",
        [q1],
        apply="1",
        amount="600.00",
        paid_on="2026-05-03",
        reference="WIRE-2",
    )
    assert "Payments recorded: 1." in messages_of(paid)
    page = staff_client.get(f"/admin/financing/tranche/{q1.pk}/change/").content.decode()
    assert "WIRE-1" in page and "WIRE-2" in page  # the payments, inline under the tranche
    q1.refresh_from_db()
    assert q1.status == TrancheStatus.PAID
    assert set(Disbursement.objects.filter(tranche=q1).values_list("recorded_by", flat=True)) == {checker.pk}


def test_reject_asks_for_a_reason_first(staff_client):
    claim = f.OutcomeClaimFactory()

    asked = act(staff_client, "outcomeclaim", "reject", [claim])
    assert asked.status_code == 200 and "reason" in asked.context["form"].fields
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLAIMED

    missing = act(staff_client, "outcomeclaim", "reject", [claim], apply="1", reason="")
    assert missing.context["form"].errors["reason"]

    done = act(staff_client, "outcomeclaim", "reject", [claim], apply="1", reason="No employer attestation")
    assert "Rejected: 1." in messages_of(done)
    claim.refresh_from_db()
    assert (claim.status, claim.rejection_reason) == (ClaimStatus.REJECTED, "No employer attestation")
    assert claim.verifications.get().decision == Decision.REJECTED


def test_a_refused_action_says_why_and_changes_nothing(staff_client):
    claim = f.OutcomeClaimFactory()
    response = act(staff_client, "outcomeclaim", "reverse", [claim], apply="1", reason="Forged")
    assert any("Only a verified claim can be reversed" in m for m in messages_of(response))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLAIMED and not claim.verifications.exists()


def test_the_claim_status_cannot_be_edited_by_hand(staff_client):
    claim = f.OutcomeClaimFactory()
    page = staff_client.get(reverse("admin:financing_outcomeclaim_change", args=[claim.pk]))
    assert "status" not in page.context["adminform"].form.fields


def test_changing_terms_in_the_admin_enqueues_the_recompute(staff_client, django_capture_on_commit_callbacks):
    metric = f.OutcomeMetricFactory()
    page = staff_client.get(reverse("admin:financing_outcomemetric_change", args=[metric.pk]))
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data.update(price="600.00", contract=metric.contract_id, _save="Save")
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse("admin:financing_outcomemetric_change", args=[metric.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert len(callbacks) == 1
