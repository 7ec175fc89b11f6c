"""The live schedule: recompute, frozen tranches and adjustments, approval and payment through services."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from financing import payments
from financing.models import LineKind, PaymentLine, Tranche, TrancheStatus
from financing.scenario import schedule_to_json
from financing.selectors import contract_terms, verified_claims
from financing.services import (
    claim_reverse,
    claim_verify,
    disbursement_record,
    schedule_recompute,
    tranche_approve,
    tranche_total,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def design_example():
    """DESIGN.md's worked example: PLACED at 500.00, cap_units 3, four claims verified in Q1."""
    contract = f.RbfContractFactory(cap_total=None)
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"), cap_units=3)
    dates = [
        datetime.date(2026, 1, 5),
        datetime.date(2026, 1, 20),
        datetime.date(2026, 2, 2),
        datetime.date(2026, 2, 3),
    ]
    claims = [
        f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 1, 2), status="verified", verified_on=day)
        for day in dates
    ]
    return contract, claims


def lines(tranche: Tranche) -> list[tuple[int, str, Decimal, Decimal, str]]:
    return [(line.claim_id, line.kind, line.amount, line.capped, line.reason) for line in tranche.lines.all()]


def q(contract, code: str) -> Tranche:  # noqa: ANN001
    return Tranche.objects.get(contract=contract, code=code)


def test_first_recompute_builds_the_tranches_and_lines_of_the_design_example():
    contract, (c1, c2, c3, c4) = design_example()

    result = schedule_recompute(contract_id=contract.pk)

    assert result.tranches_created == 4 and result.created == 4
    assert list(Tranche.objects.filter(contract=contract).values_list("code", flat=True)) == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]
    assert lines(q(contract, "2026-Q1")) == [
        (c1.pk, "payment", Decimal("500"), Decimal("0"), ""),
        (c2.pk, "payment", Decimal("500"), Decimal("0"), ""),
        (c3.pk, "payment", Decimal("500"), Decimal("0"), ""),
        (c4.pk, "payment", Decimal("0"), Decimal("500"), "cap_units"),
    ]
    assert tranche_total(tranche=q(contract, "2026-Q1")) == Decimal("1500.00")
    assert q(contract, "2026-Q1").due_date == datetime.date(2026, 4, 30)


@pytest.mark.parametrize("force", [False, True], ids=["fingerprint", "full diff"])
def test_a_second_recompute_with_nothing_changed_writes_nothing(force):
    contract, _ = design_example()
    schedule_recompute(contract_id=contract.pk)

    with connection.execute_wrapper(_no_writes):
        again = schedule_recompute(contract_id=contract.pk, force=force)

    assert not again.changed


def test_the_fingerprint_sees_a_line_changed_behind_the_schedules_back():
    contract, (c1, *_) = design_example()
    schedule_recompute(contract_id=contract.pk)
    PaymentLine.objects.filter(claim=c1).update(amount=Decimal("1.00"))

    repaired = schedule_recompute(contract_id=contract.pk)

    assert repaired.updated == 1
    assert PaymentLine.objects.get(claim=c1).amount == Decimal("500.00")


def _no_writes(execute, sql, params, many, context):  # noqa: ANN001
    assert not sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "COPY")), sql
    return execute(sql, params, many, context)


def test_a_reversal_after_approval_lands_as_adjustments_in_the_next_open_tranche(
    django_capture_on_commit_callbacks, eager_tasks
):
    contract, (c1, c2, c3, c4) = design_example()
    schedule_recompute(contract_id=contract.pk)
    approver = f.StaffUserFactory()
    tranche_approve(tranche=q(contract, "2026-Q1"), user=approver, expected_total=Decimal("1500.00"))

    with django_capture_on_commit_callbacks(execute=True):
        claim_reverse(claim=c2, user=f.StaffUserFactory(), reason="Employer attestation was forged")

    q1, q2 = q(contract, "2026-Q1"), q(contract, "2026-Q2")
    assert q1.status == TrancheStatus.APPROVED
    assert tranche_total(tranche=q1) == Decimal("1500.00")  # frozen: untouched
    assert lines(q2) == [
        (c2.pk, "adjustment", Decimal("-500"), Decimal("0"), ""),
        (c4.pk, "adjustment", Decimal("500"), Decimal("0"), ""),
    ]
    assert tranche_total(tranche=q2) == Decimal("0.00")


def test_the_live_schedule_equals_the_simulator_for_the_same_claims():
    contract = f.RbfContractFactory(cap_total=Decimal("2600.00"))
    placed = f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"), position=0)
    f.OutcomeMetricFactory(
        contract=contract,
        code="RETAINED_180",
        kind="retained_n",
        retention_days=180,
        price=Decimal("750.00"),
        threshold_rate=Decimal("0.5"),
        denominator_metric=placed,
        position=1,
    )
    retained = contract.metrics.get(code="RETAINED_180")
    for month in range(1, 7):
        claim = f.OutcomeClaimFactory(
            metric=placed,
            achieved_on=datetime.date(2026, month, 1),
            status="verified",
            verified_on=datetime.date(2026, month, 3),
        )
        if month % 2:
            f.OutcomeClaimFactory(
                metric=retained,
                worker=claim.worker,
                achieved_on=datetime.date(2026, month, 2),
                status="verified",
                verified_on=datetime.date(2026, month, 4),
            )

    schedule_recompute(contract_id=contract.pk)

    expected = schedule_to_json(
        payments.compute_schedule(terms=contract_terms(contract=contract), claims=verified_claims(contract=contract))
    )
    for tranche_json in expected["tranches"]:
        tranche = q(contract, tranche_json["code"])
        assert [
            {
                "claim": str(line.claim_id),
                "amount": f"{line.amount:.2f}",
                "capped": f"{line.capped:.2f}",
                "reason": line.reason or None,
            }
            for line in tranche.lines.all()
        ] == [
            {"claim": line["claim"], "amount": line["amount"], "capped": line["capped"], "reason": line["reason"]}
            for line in tranche_json["lines"]
        ]
    assert expected["total"] == "2600.00"


def test_a_claim_verified_through_the_service_updates_the_schedule(django_capture_on_commit_callbacks, eager_tasks):
    contract, _ = design_example()
    schedule_recompute(contract_id=contract.pk)
    pending = f.OutcomeClaimFactory(metric=contract.metrics.get(), achieved_on=datetime.date(2026, 4, 1))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        claim_verify(claim=pending, user=f.StaffUserFactory(), verified_on=datetime.date(2026, 4, 10))

    assert len(callbacks) == 1
    assert lines(q(contract, "2026-Q2")) == [(pending.pk, "payment", Decimal("0"), Decimal("500"), "cap_units")]


def test_maker_checker_refuses_an_approver_who_verified_a_paid_claim():
    contract = f.RbfContractFactory()
    metric = f.OutcomeMetricFactory(contract=contract)
    claim = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 1, 2))
    maker = f.StaffUserFactory()
    claim_verify(claim=claim, user=maker, verified_on=datetime.date(2026, 1, 5))
    schedule_recompute(contract_id=contract.pk)

    with pytest.raises(PermissionDenied, match="Maker-checker"):
        tranche_approve(tranche=q(contract, "2026-Q1"), user=maker)
    assert q(contract, "2026-Q1").status == TrancheStatus.OPEN

    tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory())
    assert q(contract, "2026-Q1").status == TrancheStatus.APPROVED


def test_approval_needs_staff_the_end_of_the_period_and_the_total_seen():
    contract, _ = design_example()
    schedule_recompute(contract_id=contract.pk)
    with pytest.raises(PermissionDenied):
        tranche_approve(tranche=q(contract, "2026-Q1"), user=f.RecruiterUserFactory())
    with pytest.raises(ValidationError, match="now totals 1500.00"):
        tranche_approve(tranche=q(contract, "2026-Q1"), user=f.StaffUserFactory(), expected_total=Decimal("1000"))
    late = Tranche.objects.create(
        contract=contract,
        code="2999-Q1",
        start_date=datetime.date(2999, 1, 1),
        end_date=datetime.date(2999, 3, 31),
        due_date=datetime.date(2999, 4, 30),
    )
    with pytest.raises(ValidationError, match="approve it after"):
        tranche_approve(tranche=late, user=f.StaffUserFactory())


def test_a_tranche_is_paid_in_parts_up_to_exactly_its_total():
    """Partial payments (the rest in tests/financing/test_tranche_lifecycle.py): never above the total."""
    contract, _ = design_example()
    schedule_recompute(contract_id=contract.pk)
    staff = f.StaffUserFactory()
    q1 = q(contract, "2026-Q1")

    with pytest.raises(ValidationError, match="must be approved"):
        disbursement_record(
            tranche=q1, user=staff, amount=Decimal("1500"), paid_on=datetime.date(2026, 5, 1), reference="W1"
        )
    tranche_approve(tranche=q1, user=staff)
    with pytest.raises(ValidationError, match="USD 1,500.00 left to pay"):
        disbursement_record(
            tranche=q1, user=staff, amount=Decimal("1500.01"), paid_on=datetime.date(2026, 5, 1), reference="W1"
        )
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="the date is in the future"):
        disbursement_record(tranche=q1, user=staff, amount=Decimal("1500.00"), paid_on=tomorrow, reference="W1")
    assert q(contract, "2026-Q1").status == TrancheStatus.APPROVED
    part = disbursement_record(
        tranche=q1, user=staff, amount=Decimal("1499.99"), paid_on=datetime.date(2026, 5, 1), reference="W1"
    )
    assert part.amount == Decimal("1499.99") and q(contract, "2026-Q1").status == TrancheStatus.APPROVED
    with pytest.raises(ValidationError, match="USD 0.01 left to pay"):
        disbursement_record(
            tranche=q1, user=staff, amount=Decimal("0.02"), paid_on=datetime.date(2026, 5, 2), reference="W2"
        )
    disbursement_record(
        tranche=q1, user=staff, amount=Decimal("0.01"), paid_on=datetime.date(2026, 5, 2), reference="W2"
    )
    assert q(contract, "2026-Q1").status == TrancheStatus.PAID
    with pytest.raises(ValidationError, match="already paid"):
        disbursement_record(
            tranche=q1, user=staff, amount=Decimal("1500"), paid_on=datetime.date(2026, 5, 2), reference="W3"
        )


def test_the_providers_own_users_cannot_verify():
    claim = f.OutcomeClaimFactory()
    insider = f.StaffUserFactory(organisation=claim.metric.contract.provider)
    with pytest.raises(PermissionDenied, match="provider's own users"):
        claim_verify(claim=claim, user=insider)
    with pytest.raises(PermissionDenied):
        claim_verify(claim=claim, user=f.RecruiterUserFactory())
    claim.refresh_from_db()
    assert claim.status == "claimed" and not claim.verifications.exists()


def test_only_claimed_claims_are_verified_and_only_verified_ones_reversed():
    claim = f.OutcomeClaimFactory()
    staff = f.StaffUserFactory()
    with pytest.raises(ValidationError, match="Only a verified claim"):
        claim_reverse(claim=claim, user=staff, reason="x")
    claim_verify(claim=claim, user=staff, verified_on=datetime.date(2026, 1, 6))
    with pytest.raises(ValidationError, match="Only a claimed claim"):
        claim_verify(claim=claim, user=staff)
    with pytest.raises(ValidationError, match="reason"):
        claim_reverse(claim=claim, user=staff, reason="  ")


@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_of_one_contract_leave_one_result():
    contract, _ = design_example()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            schedule_recompute(contract_id=contract.pk)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Tranche.objects.filter(contract=contract).count() == 4
    assert PaymentLine.objects.filter(tranche__contract=contract, kind=LineKind.PAYMENT).count() == 4


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price": None, "tiers": [{"units": 3, "price": "100"}]}, "tiers"),
        ({"price": None, "tiers": [{"units": None, "price": "abc"}]}, "tiers"),
        ({"price": None, "tiers": "500"}, "tiers"),
        ({"cap_amount": Decimal("100.005")}, "cap_amount"),
    ],
    ids=["bounded last tier", "price not an amount", "tiers not a list", "cap below a cent"],
)
def test_metric_validation_refuses_terms_the_rules_cannot_apply(fields, field):
    metric = f.OutcomeMetricFactory.build(contract=f.RbfContractFactory(), **fields)
    with pytest.raises(ValidationError) as refused:
        metric.full_clean()
    assert field in refused.value.message_dict


def test_a_denominator_of_another_contract_is_refused():
    other = f.OutcomeMetricFactory()
    metric = f.OutcomeMetricFactory.build(
        contract=f.RbfContractFactory(), threshold_rate=Decimal("0.5"), denominator_metric=other
    )
    with pytest.raises(ValidationError, match="same contract"):
        metric.full_clean()


def test_listed_tranches_that_leave_a_gap_are_a_clear_error():
    contract = f.RbfContractFactory(tranche_period="explicit")
    Tranche.objects.create(
        contract=contract,
        code="H1",
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 6, 30),
        due_date=datetime.date(2026, 7, 30),
    )
    with pytest.raises(ValidationError, match="tranches"):
        schedule_recompute(contract_id=contract.pk)
    assert not PaymentLine.objects.filter(tranche__contract=contract).exists()


def test_listed_tranches_are_used_as_entered():
    contract = f.RbfContractFactory(tranche_period="explicit", cap_total=None)
    metric = f.OutcomeMetricFactory(contract=contract)
    for code, start, end in [("H1", (1, 1), (6, 30)), ("H2", (7, 1), (12, 31))]:
        Tranche.objects.create(
            contract=contract,
            code=code,
            start_date=datetime.date(2026, *start),
            end_date=datetime.date(2026, *end),
            due_date=datetime.date(2026, *end) + datetime.timedelta(days=15),
        )
    claim = f.OutcomeClaimFactory(
        metric=metric, achieved_on=datetime.date(2026, 8, 1), status="verified", verified_on=datetime.date(2026, 8, 2)
    )

    schedule_recompute(contract_id=contract.pk)

    assert PaymentLine.objects.get(claim=claim).tranche.code == "H2"


def test_tranches_are_approved_in_order_so_a_late_change_lands_after_every_frozen_one():
    contract, _ = design_example()
    schedule_recompute(contract_id=contract.pk)
    staff = f.StaffUserFactory()
    later = Tranche.objects.filter(contract=contract, end_date__lt=datetime.date(2026, 10, 1)).order_by("-start_date")
    second = later.first()
    assert second.code != "2026-Q1"

    with pytest.raises(ValidationError, match="Approve tranche 2026-Q1 first: tranches are approved in order."):
        tranche_approve(tranche=second, user=staff)
    second.refresh_from_db()
    assert second.status == TrancheStatus.OPEN  # nothing written

    tranche_approve(tranche=q(contract, "2026-Q1"), user=staff)
    frozen = Tranche.objects.filter(contract=contract).exclude(status=TrancheStatus.OPEN)
    first_open = Tranche.objects.filter(contract=contract, status=TrancheStatus.OPEN).order_by("start_date").first()
    assert all(t.start_date < first_open.start_date for t in frozen)
