"""Approving and paying a tranche, and settling a provider's refund, over the API: the services' rules, with
errors naming their field; staff only; the schedule shows the payments and the carried-forward lines."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from financing.models import Disbursement, ProviderRefund, TrancheStatus
from financing.services import claim_reverse, schedule_recompute
from pilots.models import Role
from tests import factories as f
from tests.financing.test_tranche_lifecycle import JAN, JUL, contract_with, q

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:  # noqa: ANN001
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff() -> APIClient:
    return client_for(f.StaffUserFactory())


def url(contract, code: str, what: str) -> str:  # noqa: ANN001
    return f"/api/v1/contracts/{contract.pk}/tranches/{code}/{what}/"


def test_approve_then_pay_in_two_parts(staff):
    contract, _ = contract_with([JAN, JAN])

    approved = staff.post(url(contract, "2026-Q1", "approve"), {"expected_total": "1000.00"}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json() == {
        "code": "2026-Q1",
        "status": "approved",
        "total": "1000.00",
        "paid": "0.00",
        "left_to_pay": "1000.00",
        "payments": [],
        "refund": None,
    }
    part = staff.post(
        url(contract, "2026-Q1", "payments"),
        {"amount": "400.00", "paid_on": "2026-05-02", "reference": "WIRE-1"},
        format="json",
    )
    assert part.status_code == 201, part.json()
    assert (part.json()["status"], part.json()["paid"], part.json()["left_to_pay"]) == ("approved", "400.00", "600.00")
    rest = staff.post(
        url(contract, "2026-Q1", "payments"),
        {"amount": "600.00", "paid_on": "2026-05-09", "reference": "WIRE-2"},
        format="json",
    )
    assert rest.status_code == 201
    assert rest.json()["status"] == "paid" and [p["reference"] for p in rest.json()["payments"]] == ["WIRE-1", "WIRE-2"]

    schedule = staff.get(f"/api/v1/contracts/{contract.pk}/schedule/").json()
    q1 = schedule["tranches"][0]
    assert (q1["paid"], q1["left_to_pay"], q1["paid_on"]) == ("1000.00", "0.00", "2026-05-09")
    assert q1["payments"][0] == {"amount": "400.00", "paid_on": "2026-05-02", "reference": "WIRE-1"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "1000.01", "paid_on": "2026-05-02", "reference": "W"}, "amount"),
        ({"amount": "abc", "paid_on": "2026-05-02", "reference": "W"}, "amount"),
        ({"amount": "1" * 20, "paid_on": "2026-05-02", "reference": "W"}, "amount"),
        ({"amount": "NaN", "paid_on": "2026-05-02", "reference": "W"}, "amount"),
        ({"amount": "10", "paid_on": "31/02/2026", "reference": "W"}, "paid_on"),
        ({"amount": "10", "paid_on": "2999-01-01", "reference": "W"}, "paid_on"),
        ({"amount": "10", "paid_on": "2026-05-02", "reference": "W\x00"}, "reference"),
        ({"amount": "10", "paid_on": "2026-05-02", "reference": "W" * 121}, "reference"),
        ({"amount": "10", "paid_on": "2026-05-02"}, "reference"),
    ],
)
def test_a_bad_payment_is_a_400_naming_the_field_and_writes_nothing(staff, body, field):
    contract, _ = contract_with([JAN, JAN])
    staff.post(url(contract, "2026-Q1", "approve"), {}, format="json")

    response = staff.post(url(contract, "2026-Q1", "payments"), body, format="json")

    assert response.status_code == 400, response.json()
    assert field in {error["field"] for error in response.json()["errors"]}
    assert not Disbursement.objects.exists()


def test_an_open_tranche_cannot_be_paid_and_approval_is_in_order(staff):
    contract, _ = contract_with([JAN, datetime.date(2026, 4, 20)])
    body = {"amount": "500.00", "paid_on": "2026-05-02", "reference": "W"}
    refused = staff.post(url(contract, "2026-Q1", "payments"), body, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "tranche"
    out_of_order = staff.post(url(contract, "2026-Q2", "approve"), {}, format="json")
    assert out_of_order.status_code == 400
    assert "Approve tranche 2026-Q1 first" in out_of_order.json()["errors"][0]["message"]
    assert staff.post(url(contract, "2099-Q9", "approve"), {}, format="json").status_code == 404


@pytest.mark.parametrize("role", [Role.FUNDER, Role.RECRUITER])
def test_only_staff_approve_and_pay(role):
    contract, _ = contract_with([JAN])
    organisation = contract.payer if role == Role.FUNDER else contract.provider
    other = client_for(f.UserFactory(role=role, organisation=organisation))
    assert other.post(url(contract, "2026-Q1", "approve"), {}, format="json").status_code == 403
    body = {"amount": "500.00", "paid_on": "2026-05-02", "reference": "W"}
    assert other.post(url(contract, "2026-Q1", "payments"), body, format="json").status_code == 403
    assert q(contract, "2026-Q1").status == TrancheStatus.OPEN


def test_carried_forward_lines_and_the_refund_over_the_api(staff):
    contract, (c1, c2, _) = contract_with([JAN, JAN, JUL])
    staff.post(url(contract, "2026-Q1", "approve"), {}, format="json")
    staff.post(url(contract, "2026-Q1", "payments"), {"amount": "1000", "paid_on": "2026-05-02", "reference": "W"})
    for claim in (c1, c2):
        claim_reverse(claim=claim, user=f.StaffUserFactory(), reason="Attestation withdrawn")
    schedule_recompute(contract_id=contract.pk)
    q2 = staff.post(url(contract, "2026-Q2", "approve"), {"expected_total": "-1000.00"}, format="json").json()
    assert (q2["status"], q2["total"]) == ("paid", "0.00")  # carried forward: nothing left in it

    q3 = staff.post(url(contract, "2026-Q3", "approve"), {}, format="json").json()
    refund = ProviderRefund.objects.get()
    assert q3["refund"] == {
        "id": refund.pk,
        "tranche": "2026-Q3",
        "amount": "500.00",
        "due": refund.due.isoformat(),
        "settled_on": None,
        "reference": "",
    }
    schedule = staff.get(f"/api/v1/contracts/{contract.pk}/schedule/").json()
    carried = [line for t in schedule["tranches"] for line in t["lines"] if line["kind"] == "carried_forward"]
    assert [(line["amount"], line["carried_with"], line["claim"]) for line in carried] == [
        ("1000.00", "2026-Q3", None),
        ("-1000.00", "2026-Q2", None),
    ]
    assert schedule["totals"]["owed_by_provider"] == "500.00"

    settle = f"/api/v1/contracts/{contract.pk}/refunds/{refund.pk}/settle/"
    today = timezone.localdate().isoformat()
    wrong = staff.post(settle, {"amount": "499.99", "settled_on": today, "reference": "R-1"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "amount"
    funder = client_for(f.UserFactory(role=Role.FUNDER, organisation=contract.payer))
    assert funder.post(settle, {"amount": "500", "settled_on": today, "reference": "R"}).status_code == 403
    done = staff.post(settle, {"amount": "500.00", "settled_on": today, "reference": "R-1"}, format="json")
    assert done.status_code == 200 and done.json()["settled_on"] == today
    assert q(contract, "2026-Q3").status == TrancheStatus.PAID
    totals = staff.get(f"/api/v1/contracts/{contract.pk}/schedule/").json()["totals"]
    assert (totals["owed_by_provider"], totals["paid"], totals["verified"]) == ("0.00", "500.00", "500.00")
    assert staff.post(f"/api/v1/contracts/{contract.pk}/refunds/999999/settle/", {}).status_code == 404
