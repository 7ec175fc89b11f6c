"""Every change to money-related records is kept, with the acting user, bulk writes included."""

from __future__ import annotations

from decimal import Decimal

import pytest

from financing.models import OutcomeClaim, RbfContract
from lamp.history import acting_as
from tests import factories as f

pytestmark = pytest.mark.django_db


def events(model, obj):  # noqa: ANN001
    return model.pgh_event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id")


def test_a_change_is_kept_with_the_acting_user():
    contract = f.RbfContractFactory(cap_total=Decimal("100000.00"))
    staff = f.StaffUserFactory()

    with acting_as(staff):
        contract.cap_total = Decimal("80000.00")
        contract.save()

    kept = list(events(RbfContract, contract))
    assert [e.pgh_label for e in kept] == ["insert", "update"]
    assert kept[0].cap_total == Decimal("100000.00") and kept[1].cap_total == Decimal("80000.00")
    assert kept[1].pgh_context.metadata["user"] == staff.pk


def test_update_and_bulk_writes_are_kept_too():
    metric = f.OutcomeMetricFactory()
    claims = f.OutcomeClaimFactory.create_batch(5, metric=metric)

    with acting_as(None, reason="nightly verification"):
        OutcomeClaim.objects.filter(metric=metric).update(status="rejected", rejection_reason="no attestation")

    updates = OutcomeClaim.pgh_event_model.objects.filter(pgh_label="update", pgh_obj_id__in=[c.pk for c in claims])
    assert updates.count() == 5
    assert {e.pgh_context.metadata["reason"] for e in updates} == {"nightly verification"}


@pytest.mark.parametrize(
    "factory",
    [
        f.RbfContractFactory,
        f.OutcomeMetricFactory,
        f.OutcomeClaimFactory,
        f.VerificationFactory,
        f.TrancheFactory,
        f.PaymentLineFactory,
        f.DisbursementFactory,
        f.EmploymentFactory,
        f.FeeReportFactory,
    ],
)
def test_every_tracked_model_keeps_its_inserts(factory):
    obj = factory()
    assert events(type(obj), obj).filter(pgh_label="insert").count() == 1


def test_deletes_are_kept():
    metric = f.OutcomeMetricFactory()
    pk = metric.pk
    metric.delete()
    assert metric.pgh_event_model.objects.filter(pgh_obj_id=pk, pgh_label="delete").count() == 1
