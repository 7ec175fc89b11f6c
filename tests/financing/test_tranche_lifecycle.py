"""A tranche's life cycle after its lines: approved in order, paid in parts, a balance below zero carried
forward, and at the contract's end an amount the provider owes back and repays. Services, the contract
page and the admin (the API is in tests/financing/api/test_tranche_payments.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from financing.models import (
    Disbursement,
    LineKind,
    PaymentLine,
    ProviderRefund,
    Tranche,
    TrancheStatus,
)
from financing.selectors import contract_amounts
from financing.services import (
    claim_reverse,
    disbursement_record,
    refund_settle,
    schedule_recompute,
    tranche_approve,
    tranche_paid,
    tranche_total,
)
from pilots.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

JAN, APR, JUL = datetime.date(2026, 1, 20), datetime.date(2026, 4, 20), datetime.date(2026, 7, 20)


def contract_with(days: list[datetime.date], *, end: datetime.date = datetime.date(2026, 9, 30)):  # noqa: ANN201
    """PLACED at 500.00, no cap, quarterly from 1 Jan 2026 to ``end``; one verified claim per day given."""
    contract = f.RbfContractFactory(cap_total=None, start_date=datetime.date(2026, 1, 1), end_date=end)
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))
    claims = [f.OutcomeClaimFactory(metric=metric, achieved_on=day, status="verified", verified_on=day) for day in days]
    schedule_recompute(contract_id=contract.pk)
    return contract, claims


def q(contract, code: str) -> Tranche:  # noqa: ANN001
    return Tranche.objects.get(contract=contract, code=code)


def pay(tranche: Tranche, amount: str, reference: str, *, user=None, day=datetime.date(2026, 5, 2)):  # noqa: ANN001, ANN201
    return disbursement_record(
        tranche=tranche, user=user or f.StaffUserFactory(), amount=Decimal(amount), paid_on=day, reference=reference
    )


def amounts(contract):  # noqa: ANN001, ANN201
    figures = contract_amounts(contracts=[contract])[contract.pk]
    assert figures.adds_up
    return figures


# --- Approved in order; adjustments after every frozen tranche -------------------------------------------------


def test_a_later_tranche_waits_for_the_earlier_one():
    contract, _ = contract_with([JAN, APR])
    with pytest.raises(ValidationError, match="Approve tranche 2026-Q1 first"):
        tranche_approve(tranche=q(contract, "2026-Q2"), user=f.StaffUserFactory())
    assert q(contract, "2026-Q2").status == TrancheStatus.OPEN


def test_an_adjustment_lands_in_the_earliest_open_tranche_which_follows_every_frozen_one():
    contract, (c1, c2) = contract_with([JAN, APR])
    approver = f.StaffUserFactory()
    tranche_approve(tranche=q(contract, "2026-Q1"), user=approver)
    tranche_approve(tranche=q(contract, "2026-Q2"), user=approver)

    claim_reverse(claim=c1, user=approver, reason="The employer withdrew the attestation")
    result = schedule_recompute(contract_id=contract.pk)

    adjustment = PaymentLine.objects.get(tranche__contract=contract, kind=LineKind.ADJUSTMENT)
    assert (adjustment.tranche.code, adjustment.claim_id, adjustment.amount) == ("2026-Q3", c1.pk, Decimal("-500"))
    assert result.adjustments == {c1.pk: Decimal("-500.00")}
    frozen = Tranche.objects.filter(contract=contract, status__in=(TrancheStatus.APPROVED, TrancheStatus.PAID))
    assert all(t.start_date < adjustment.tranche.start_date for t in frozen)
    assert frozen.count() == 2


# --- Partial payments ------------------------------------------------------------------------------------------


def test_a_tranche_is_paid_in_parts_and_is_paid_once_they_reach_its_total():
    contract, _ = contract_with([JAN, JAN])
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    assert tranche_total(tranche=q1) == Decimal("1000.00")

    pay(q1, "300.00", "WIRE-1")
    assert q(contract, "2026-Q1").status == TrancheStatus.APPROVED
    assert tranche_paid(tranche=q1) == Decimal("300.00")
    assert (amounts(contract).paid, amounts(contract).awaiting_payment) == (Decimal("300.00"), Decimal("700.00"))

    pay(q1, "700.00", "WIRE-2", day=datetime.date(2026, 5, 9))
    assert q(contract, "2026-Q1").status == TrancheStatus.PAID
    assert list(q1.disbursements.order_by("paid_on").values_list("amount", "reference")) == [
        (Decimal("300.00"), "WIRE-1"),
        (Decimal("700.00"), "WIRE-2"),
    ]
    assert (amounts(contract).paid, amounts(contract).awaiting_payment) == (Decimal("1000.00"), Decimal("0"))


@pytest.mark.parametrize(
    ("amount", "reference", "field", "message"),
    [
        ("700.01", "WIRE-9", "amount", "USD 700.00 left to pay (total USD 1,000.00, paid USD 300.00)"),
        ("0", "WIRE-9", "amount", "more than zero"),
        ("-5", "WIRE-9", "amount", "more than zero"),
        ("10.005", "WIRE-9", "amount", "whole USD minor units"),
        ("NaN", "WIRE-9", "amount", "whole USD minor units"),
        ("10", "  ", "reference", "Give the payment reference"),
        ("10", "WIRE-1", "reference", "already recorded for tranche 2026-Q1"),
    ],
)
def test_a_bad_part_payment_is_refused_naming_its_field_and_nothing_is_written(amount, reference, field, message):
    contract, _ = contract_with([JAN, JAN])
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    pay(q1, "300.00", "WIRE-1")

    with pytest.raises(ValidationError) as refused:
        pay(q1, amount, reference)

    assert field in refused.value.message_dict and message in " ".join(refused.value.message_dict[field])
    assert Disbursement.objects.filter(tranche=q1).count() == 1
    assert q(contract, "2026-Q1").status == TrancheStatus.APPROVED


def test_only_staff_record_payments():
    contract, _ = contract_with([JAN])
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    funder = f.UserFactory(role=Role.FUNDER, organisation=contract.payer)
    with pytest.raises(PermissionDenied):
        pay(q1, "500.00", "WIRE-1", user=funder)
    assert not Disbursement.objects.exists()


def test_a_payment_cannot_precede_the_tranches_period():
    contract, _ = contract_with([JAN])
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    with pytest.raises(ValidationError, match="cannot precede its period"):
        pay(q1, "500.00", "WIRE-1", day=datetime.date(2025, 12, 31))


# --- A balance below zero: carried forward, then owed back ----------------------------------------------------


def reversed_after_payment():  # noqa: ANN201
    """Q1 pays two placements (1,000.00) and is paid; both are then reversed, so Q2 holds -1,000.00 of
    adjustments; Q3 pays one placement (500.00). The contract ends with Q3."""
    contract, (c1, c2, c3) = contract_with([JAN, JAN, JUL])
    staff = f.StaffUserFactory()
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=staff)
    pay(q1, "1000.00", "WIRE-Q1")
    for claim in (c1, c2):
        claim_reverse(claim=claim, user=staff, reason="The employer withdrew the attestation")
    schedule_recompute(contract_id=contract.pk)
    assert tranche_total(tranche=q(contract, "2026-Q2")) == Decimal("-1000.00")
    return contract, staff


def test_a_tranche_below_zero_carries_its_balance_into_the_next_open_one():
    contract, staff = reversed_after_payment()

    q2 = tranche_approve(tranche=q(contract, "2026-Q2"), user=staff, expected_total=Decimal("-1000.00"))

    q3 = q(contract, "2026-Q3")
    given = PaymentLine.objects.get(tranche=q2, kind=LineKind.CARRIED_FORWARD)
    taken = PaymentLine.objects.get(tranche=q3, kind=LineKind.CARRIED_FORWARD)
    assert (given.amount, given.carried_with, given.claim) == (Decimal("1000.00"), q3, None)
    assert (taken.amount, taken.carried_with, taken.claim) == (Decimal("-1000.00"), q2, None)
    assert "to tranche 2026-Q3" in given.note and "from tranche 2026-Q2" in taken.note
    # Q2 is brought to zero, so it has nothing to pay and is settled; Q3 nets 500.00 - 1,000.00.
    assert (tranche_total(tranche=q2), q(contract, "2026-Q2").status) == (Decimal("0.00"), TrancheStatus.PAID)
    assert tranche_total(tranche=q3) == Decimal("-500.00")
    assert not ProviderRefund.objects.exists()
    assert amounts(contract).verified == Decimal("500.00")


def test_the_recompute_leaves_carried_forward_lines_alone_and_still_sees_them():
    contract, staff = reversed_after_payment()
    tranche_approve(tranche=q(contract, "2026-Q2"), user=staff)
    carried = list(PaymentLine.objects.filter(kind=LineKind.CARRIED_FORWARD).values_list("pk", "amount"))

    first = schedule_recompute(contract_id=contract.pk, force=True)
    again = schedule_recompute(contract_id=contract.pk)

    assert not first.changed and not again.changed
    assert list(PaymentLine.objects.filter(kind=LineKind.CARRIED_FORWARD).values_list("pk", "amount")) == carried
    # The fingerprint covers them: a carried line changed by hand makes the next recompute run in full.
    PaymentLine.objects.filter(pk=carried[1][0]).update(amount=Decimal("-999.00"))
    schedule_recompute(contract_id=contract.pk)
    assert PaymentLine.objects.get(pk=carried[1][0]).amount == Decimal("-999.00")  # still not rewritten


def test_at_the_contracts_end_the_balance_is_owed_back_and_settled_by_the_providers_repayment():
    contract, staff = reversed_after_payment()
    tranche_approve(tranche=q(contract, "2026-Q2"), user=staff)

    q3 = tranche_approve(tranche=q(contract, "2026-Q3"), user=staff, expected_total=Decimal("-500.00"))

    refund = ProviderRefund.objects.get(tranche=q3)
    assert (refund.amount, refund.currency, refund.settled_on) == (Decimal("500.00"), "USD", None)
    assert refund.due == refund.created_at.date() + datetime.timedelta(days=contract.due_days)
    assert q(contract, "2026-Q3").status == TrancheStatus.APPROVED
    figures = amounts(contract)
    assert (figures.verified, figures.paid, figures.owed_by_provider) == (
        Decimal("500.00"),
        Decimal("1000.00"),
        Decimal("500.00"),
    )
    with pytest.raises(ValidationError, match="nothing to pay"):
        pay(q3, "1.00", "WIRE-Q3")

    today = timezone.localdate()
    with pytest.raises(ValidationError, match="owes USD 500.00"):
        refund_settle(refund=refund, user=staff, amount=Decimal("499.99"), settled_on=today, reference="R-1")
    refund_settle(refund=refund, user=staff, amount=Decimal("500.00"), settled_on=today, reference=" R-1 ")

    refund.refresh_from_db()
    assert (refund.settled_on, refund.reference, refund.recorded_by) == (today, "R-1", staff)
    assert q(contract, "2026-Q3").status == TrancheStatus.PAID
    figures = amounts(contract)
    assert (figures.verified, figures.paid, figures.owed_by_provider) == (Decimal("500.00"), Decimal("500.00"), 0)
    with pytest.raises(ValidationError, match="already settled"):
        refund_settle(refund=refund, user=staff, amount=Decimal("500.00"), settled_on=today, reference="R-2")


def test_a_refund_is_settled_by_staff_only_and_not_in_the_future():
    refund = f.ProviderRefundFactory()
    funder = f.UserFactory(role=Role.FUNDER, organisation=refund.tranche.contract.payer)
    with pytest.raises(PermissionDenied):
        refund_settle(refund=refund, user=funder, amount=Decimal("500"), settled_on=refund.due, reference="R")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="in the future"):
        refund_settle(
            refund=refund, user=f.StaffUserFactory(), amount=Decimal("500"), settled_on=tomorrow, reference="R"
        )
    refund.refresh_from_db()
    assert refund.settled_on is None


# --- The contract page -------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(f.StaffUserFactory())
    return client


def _url(name: str, pk: int) -> str:
    from django.urls import reverse

    return reverse(f"financing:{name}", args=[pk])


def test_the_page_lists_the_payments_and_proposes_what_is_left(staff_client):
    contract, _ = contract_with([JAN, JAN])
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    pay(q1, "300.00", "WIRE-1")

    html = staff_client.get(_url("contract", contract.pk)).content.decode()

    assert f'name="t{q1.pk}-amount" value="700.00"' in html
    assert "Approved · partly paid" in html and "USD 700.00 left to pay" in html
    assert "WIRE-1" in html and "USD 300.00" in html


def test_a_part_payment_from_the_page(staff_client):
    contract, _ = contract_with([JAN, JAN])
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    data = {f"t{q1.pk}-amount": "400.00", f"t{q1.pk}-paid_on": "2026-05-02", f"t{q1.pk}-reference": "WIRE-P1"}

    html = staff_client.post(_url("tranche-disburse", q1.pk), data, follow=True).content.decode()

    assert "The tranche is partly paid: USD 600.00 left to pay." in html
    assert q(contract, "2026-Q1").status == TrancheStatus.APPROVED
    html = staff_client.post(_url("tranche-disburse", q1.pk), data, follow=True).content.decode()
    assert "already recorded for tranche 2026-Q1" in html  # the same form sent twice records one payment
    assert Disbursement.objects.filter(tranche=q1).count() == 1


def test_the_page_shows_the_carried_balance_and_settles_the_refund(staff_client):
    contract, staff = reversed_after_payment()
    tranche_approve(tranche=q(contract, "2026-Q2"), user=staff)
    q3 = tranche_approve(tranche=q(contract, "2026-Q3"), user=staff)
    refund = ProviderRefund.objects.get(tranche=q3)

    html = staff_client.get(_url("contract", contract.pk)).content.decode()
    assert "carried forward to tranche 2026-Q3" in html and "carried forward into this tranche" in html
    assert "the provider owes back USD 500.00" in html and "Approved · owed back" in html
    assert f'name="r{refund.pk}-amount" value="500.00"' in html

    bad = {
        f"r{refund.pk}-amount": "400",
        f"r{refund.pk}-settled_on": timezone.localdate().isoformat(),
        f"r{refund.pk}-reference": "R",
    }
    html = staff_client.post(_url("refund-settle", refund.pk), bad, follow=True).content.decode()
    assert "Repayment for tranche 2026-Q3 not recorded." in html and "owes USD 500.00" in html
    good = {**bad, f"r{refund.pk}-amount": "500.00", f"r{refund.pk}-settled_on": timezone.localdate().isoformat()}
    html = staff_client.post(_url("refund-settle", refund.pk), good, follow=True).content.decode()
    assert "the refund is settled" in html and "Settled · repaid" in html
    refund.refresh_from_db()
    assert refund.settled_on == timezone.localdate()


def test_a_funder_sees_the_payments_but_cannot_record_one(client):
    contract, _ = contract_with([JAN])
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    pay(q1, "200.00", "WIRE-F")
    client.force_login(f.UserFactory(role=Role.FUNDER, organisation=contract.payer))

    html = client.get(_url("contract", contract.pk)).content.decode()
    assert "WIRE-F" in html and f'name="t{q1.pk}-amount"' not in html
    data = {f"t{q1.pk}-amount": "300.00", f"t{q1.pk}-paid_on": "2026-05-02", f"t{q1.pk}-reference": "X"}
    assert client.post(_url("tranche-disburse", q1.pk), data).status_code == 403
    assert Disbursement.objects.filter(tranche=q1).count() == 1


def test_the_page_runs_the_same_queries_for_one_payment_or_many(staff_client, django_assert_num_queries):
    contract, _ = contract_with([JAN] * 6)
    q1 = tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    pay(q1, "100.00", "WIRE-0")
    url = _url("contract", contract.pk)
    staff_client.get(url)  # warm the session and the per-request caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(url).status_code == 200
    for n in range(1, 5):
        pay(q1, "100.00", f"WIRE-{n}")
    with django_assert_num_queries(len(one.captured_queries)):
        assert staff_client.get(url).status_code == 200
