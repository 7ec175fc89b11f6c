"""``manage.py recompute_schedules``: the nightly job from the shell."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from financing.models import PaymentLine
from tests import factories as f

pytestmark = pytest.mark.django_db


def contract_with_claims(**fields):  # noqa: ANN201
    contract = f.RbfContractFactory(**fields)
    metric = f.OutcomeMetricFactory(contract=contract)
    f.OutcomeClaimFactory(
        metric=metric, achieved_on=datetime.date(2026, 2, 1), status="verified", verified_on=datetime.date(2026, 2, 2)
    )
    return contract


def test_recomputes_every_active_contract():
    active, draft = contract_with_claims(), contract_with_claims(status="draft")
    out = StringIO()

    call_command("recompute_schedules", stdout=out)

    assert PaymentLine.objects.filter(tranche__contract=active).count() == 1
    assert not PaymentLine.objects.filter(tranche__contract=draft).exists()
    assert "1 contract(s) recomputed" in out.getvalue() and "1 line(s) created" in out.getvalue()


def test_one_contract_and_verification_first():
    contract = contract_with_claims()
    out = StringIO()
    call_command("recompute_schedules", contract=contract.pk, verify=True, stdout=out)
    assert "1 contract(s) recomputed" in out.getvalue()


def test_an_unknown_contract_is_a_clear_error():
    with pytest.raises(CommandError, match="No contract with id 999999"):
        call_command("recompute_schedules", contract=999999)
