"""``GET /api/v1/scorecard/``: the figures on a small world, who sees whose, and a constant query count."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from financing import models as fin
from pilots import models as pil
from pilots.stages import Stage
from tests import factories as f
from workers import models as wrk

pytestmark = pytest.mark.django_db

URL = "/api/v1/scorecard/"


def client_for(user: pil.User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def world() -> dict[str, object]:
    a = f.RecruiterFactory(organisation__name="Agencia A")
    b = f.RecruiterFactory(organisation__name="Agencia B")
    staff = f.StaffUserFactory()
    contract = f.RbfContractFactory(provider=a.organisation)
    placed = f.OutcomeMetricFactory(contract=contract, code="PLACED")
    retained = f.OutcomeMetricFactory(
        contract=contract, code="RETAINED_180", kind=fin.MetricKind.RETAINED_N, retention_days=180
    )
    stages = [
        Stage.REGISTERED, Stage.SCREENED, Stage.IN_TRAINING, Stage.DEPLOYED, Stage.WORKING,
        Stage.SEPARATED_EARLY, Stage.WITHDRAWN,
    ]  # fmt: skip
    w = [f.WorkerFactory(recruiter=a, pilot=contract.pilot, current_stage=stage) for stage in stages]
    opening = f.JobOpeningFactory(pilot=contract.pilot)
    f.EmploymentFactory(worker=w[3], job_opening=opening, start_date=days_ago(10))
    f.EmploymentFactory(worker=w[4], job_opening=opening, start_date=days_ago(200))
    f.EmploymentFactory(
        worker=w[5], job_opening=opening, start_date=days_ago(200), end_date=days_ago(100),
        separation_reason="resigned",
    )  # fmt: skip
    f.FeeReportFactory(worker=w[0], category=wrk.FeeCategory.MEDICAL, amount=Decimal("100"), currency="GTQ")
    f.FeeReportFactory(worker=w[0], amount=Decimal("1500"), currency="GTQ")
    f.FeeReportFactory(worker=w[1], amount=Decimal("200"), currency="USD")
    f.FeeReportFactory(worker=w[2], amount=Decimal("0"), currency="USD")
    f.OutcomeClaimFactory(metric=placed, worker=w[3])
    jan = datetime.date(2026, 1, 20)
    placed_w4 = f.OutcomeClaimFactory(metric=placed, worker=w[4], status="verified", verified_on=jan)
    retained_w4 = f.OutcomeClaimFactory(metric=retained, worker=w[4], status="verified", verified_on=jan)
    f.OutcomeClaimFactory(metric=placed, worker=w[5], status="rejected", rejection_reason="No attestation")
    q1 = f.TrancheFactory(
        contract=contract, status=fin.TrancheStatus.PAID, approved_by=staff, approved_at=timezone.now()
    )
    q2 = f.TrancheFactory(
        contract=contract, code="2026-Q2", start_date=datetime.date(2026, 4, 1), end_date=datetime.date(2026, 6, 30),
        due_date=datetime.date(2026, 7, 30),
    )  # fmt: skip
    f.PaymentLineFactory(tranche=q1, claim=placed_w4, amount=Decimal("500"))
    f.PaymentLineFactory(tranche=q2, claim=retained_w4, amount=Decimal("250"))
    f.DisbursementFactory(tranche=q1, amount=Decimal("500"))
    # Recruiter B: one worker with a fee, no contract.
    f.FeeReportFactory(worker=f.WorkerFactory(recruiter=b), amount=Decimal("50"), currency="USD")
    return {
        "a": a,
        "b": b,
        "staff": staff,
        "recruiter_a": f.RecruiterUserFactory(organisation=a.organisation),
        "funder": f.UserFactory(role=pil.Role.FUNDER, organisation=contract.payer),
    }


def by_stage(**counts: int) -> dict[str, int]:
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


def test_the_figures_of_a_small_world(world):
    a = world["a"]
    response = client_for(world["staff"]).get(URL, {"recruiter": a.pk})

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "recruiter": {"id": a.pk, "organisation": a.organisation_id, "name": "Agencia A"},
            "workers": {
                "total": 7,
                "by_stage": by_stage(
                    registered=1, screened=1, in_training=1, deployed=1, working=1, separated_early=1, withdrawn=1
                ),
            },
            "placement": {"placed": 3, "past_screening": 4, "rate": "0.7500"},
            "retention_180": {"retained": 1, "eligible": 2, "rate": "0.5000"},
            "fees": {
                "workers_with_fees": 2,
                "withheld": False,
                "by_category": [
                    {"category": "medical", "currency": "GTQ", "amount": "100.00", "reports": 1},
                    {"category": "recruitment_fee", "currency": "GTQ", "amount": "1500.00", "reports": 1},
                    {"category": "recruitment_fee", "currency": "USD", "amount": "200.00", "reports": 1},
                ],
            },
            "claims": {"claimed": 1, "verified": 2, "rejected": 1, "reversed": 0},
            "amounts": [
                {
                    "currency": "USD",
                    "verified": "750.00",
                    "paid": "500.00",
                    "awaiting_payment": "0.00",
                    "owed_by_provider": "0.00",
                    "due": "250.00",
                }
            ],
        }
    ]


def test_to_its_recruiter_fee_figures_of_fewer_than_five_workers_are_withheld(world):
    staff_view = client_for(world["staff"]).get(URL, {"recruiter": world["a"].pk}).json()[0]
    own = client_for(world["recruiter_a"]).get(URL).json()[0]

    assert own["fees"] == {"workers_with_fees": None, "withheld": True, "by_category": []}
    assert {k: v for k, v in own.items() if k != "fees"} == {k: v for k, v in staff_view.items() if k != "fees"}
    for _ in range(3):  # five workers have now reported a fee: the figures are shown
        worker = f.WorkerFactory(recruiter=world["a"])
        f.FeeReportFactory(worker=worker, category="medical")
    shown = client_for(world["recruiter_a"]).get(URL).json()[0]["fees"]
    assert (shown["workers_with_fees"], shown["withheld"]) == (5, False) and shown["by_category"]


def test_a_recruiter_without_data_gets_zeros_and_null_rates(world):
    body = client_for(f.RecruiterUserFactory()).get(URL).json()
    assert len(body) == 1
    card = body[0]
    assert card["workers"]["total"] == 0
    assert card["placement"]["rate"] is None and card["retention_180"]["rate"] is None
    assert card["amounts"] == [] and card["fees"]["by_category"] == []


def test_staff_compare_every_recruiter_or_choose_one(world):
    client = client_for(world["staff"])
    every = client.get(URL).json()
    assert [card["recruiter"]["name"] for card in every] == ["Agencia A", "Agencia B"]
    assert every[1]["fees"]["workers_with_fees"] == 1

    one = client.get(URL, {"recruiter": world["b"].pk}).json()
    assert [card["recruiter"]["id"] for card in one] == [world["b"].pk]
    assert client.get(URL, {"recruiter": "x"}).status_code == 400


def test_a_recruiter_sees_only_its_own_even_when_naming_another(world):
    body = client_for(world["recruiter_a"]).get(URL, {"recruiter": world["b"].pk}).json()
    assert [card["recruiter"]["id"] for card in body] == [world["a"].pk]


def test_funders_and_anonymous_are_refused(world):
    assert client_for(world["funder"]).get(URL).status_code == 403
    assert client_for(None).get(URL).status_code == 401


def count_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_workers():
    recruiter = f.RecruiterFactory()
    contract = f.RbfContractFactory(provider=recruiter.organisation)
    metric = f.OutcomeMetricFactory(contract=contract)
    tranche = f.TrancheFactory(contract=contract)
    user = f.RecruiterUserFactory(organisation=recruiter.organisation)
    staff = f.StaffUserFactory()

    def grow(n: int) -> None:
        for _ in range(n):
            worker = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot, current_stage=Stage.WORKING)
            f.EmploymentFactory(worker=worker, start_date=days_ago(200))
            f.FeeReportFactory(worker=worker)
            claim = f.OutcomeClaimFactory(metric=metric, worker=worker, status="verified", verified_on=days_ago(1))
            f.PaymentLineFactory(tranche=tranche, claim=claim)

    grow(3)
    few, few_staff = count_queries(client_for(user)), count_queries(client_for(staff))
    grow(27)
    f.RecruiterFactory()  # another recruiter for staff to compare
    assert count_queries(client_for(user)) == few == 7
    assert count_queries(client_for(staff)) == few_staff == 7
