"""The read endpoints: what they show (money as strings in the currency's decimals, metrics with their
price or tiers, the schedule and its totals), their filters, pagination and query budgets."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from financing import models as fin
from financing.api.serializers import (
    ContractScheduleSerializer,
    DueNextSerializer,
    ScheduleLineSerializer,
    ScheduleTotalsSerializer,
    ScheduleTrancheSerializer,
)
from financing.services import claim_reverse, disbursement_record, schedule_recompute, tranche_approve
from pilots import models as pil
from recruitment import models as rec
from tests import factories as f

pytestmark = pytest.mark.django_db


def client_for(user: pil.User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff() -> APIClient:
    return client_for(f.StaffUserFactory())


def get(client: APIClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


# --- Shapes ---------------------------------------------------------------------------------------


def test_pilot_shows_its_sector_corridor_dates_cohort_and_required_stages(staff):
    pilot = f.PilotFactory(
        name="H-2A berries", slug="h2a-berries", origin_countries=["GT", "MX"], description="Salinas valley"
    )

    body = get(staff, f"/api/v1/pilots/{pilot.pk}/")

    assert body == {
        "id": pilot.pk,
        "name": "H-2A berries",
        "slug": "h2a-berries",
        "sector": {"code": "agriculture", "name": "Agriculture"},
        "origin_countries": ["GT", "MX"],
        "destination_country": "US",
        "corridor": "GT, MX → US",
        "pathway": "H-2A seasonal visa",
        "status": "active",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "target_cohort_size": 100,
        "required_stages": pilot.required_stages,
        "description": "Salinas valley",
    }
    assert "registered" in body["required_stages"]


def test_job_opening_shows_its_wage_as_money_in_the_currency_decimals(staff):
    opening = f.JobOpeningFactory(wage_amount=Decimal("16.5"))
    yen = f.JobOpeningFactory(wage_amount=Decimal("1500"), wage_currency="JPY", wage_period=pil.WagePeriod.MONTH)

    body = get(staff, f"/api/v1/job-openings/{opening.pk}/")

    assert body == {
        "id": opening.pk,
        "pilot": opening.pilot_id,
        "employer": {"id": opening.employer_id, "name": opening.employer.name},
        "title": "Farmworker, berries",
        "positions": 20,
        "wage_amount": "16.50",
        "wage_currency": "USD",
        "wage_period": "hour",
        "hours_per_week": "40.0",
        "location": "Salinas, CA",
        "location_country": "US",
        "season_start": "2026-04-01",
        "season_end": "2026-10-31",
    }
    assert get(staff, f"/api/v1/job-openings/{yen.pk}/")["wage_amount"] == "1500"


def test_contract_shows_its_parties_terms_and_metrics_with_price_or_tiers(staff):
    contract = f.RbfContractFactory(reference="H2A-2026", cap_total=Decimal("250000"), signed_on=None)
    placed = f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500"), cap_units=300, position=1)
    tiers = [{"units": 370, "price": "1100"}, {"units": None, "price": "1350.5"}]
    retained = f.OutcomeMetricFactory(
        contract=contract,
        code="RETAINED_180",
        name="Retained 180 days",
        kind=fin.MetricKind.RETAINED_N,
        retention_days=180,
        price=None,
        tiers=tiers,
        cap_amount=Decimal("400000"),
        threshold_rate=Decimal("0.8"),
        denominator_metric=placed,
        position=2,
    )

    body = get(staff, f"/api/v1/contracts/{contract.pk}/")

    assert body == {
        "id": contract.pk,
        "reference": "H2A-2026",
        "name": "Placement and retention outcomes",
        "pilot": {"id": contract.pilot_id, "name": contract.pilot.name},
        "payer": {"id": contract.payer_id, "name": contract.payer.name},
        "provider": {"id": contract.provider_id, "name": contract.provider.name},
        "currency": "USD",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "signed_on": None,
        "cap_total": "250000.00",
        "tranche_period": "quarterly",
        "due_days": 30,
        "status": "active",
        "metrics": [
            {
                "id": placed.pk,
                "code": "PLACED",
                "name": "Worker placed in a job",
                "kind": "placed",
                "retention_days": None,
                "price": "500.00",
                "tiers": None,
                "max_units_per_worker": 1,
                "cap_units": 300,
                "cap_amount": None,
                "threshold_rate": None,
                "denominator": None,
                "sources": ["employer", "worker", "staff", "verifier"],
            },
            {
                "id": retained.pk,
                "code": "RETAINED_180",
                "name": "Retained 180 days",
                "kind": "retained_n",
                "retention_days": 180,
                "price": None,
                "tiers": [{"units": 370, "price": "1100.00"}, {"units": None, "price": "1350.50"}],
                "max_units_per_worker": 1,
                "cap_units": None,
                "cap_amount": "400000.00",
                "threshold_rate": "0.8000",
                "denominator": "PLACED",
                "sources": ["employer", "worker", "staff", "verifier"],
            },
        ],
    }


@pytest.mark.parametrize(("currency", "cap", "price"), [("JPY", "100000", "5000"), ("KWD", "1000.500", "150.250")])
def test_money_has_the_decimals_of_the_contracts_currency(staff, currency, cap, price):
    contract = f.RbfContractFactory(currency=currency, cap_total=Decimal(cap))
    f.OutcomeMetricFactory(contract=contract, price=Decimal(price))

    body = get(staff, f"/api/v1/contracts/{contract.pk}/")

    assert (body["cap_total"], body["metrics"][0]["price"]) == (cap, price)


def test_claim_shows_metric_contract_worker_status_and_review(staff):
    claim = f.OutcomeClaimFactory(
        status=fin.ClaimStatus.REVERSED,
        verified_on=datetime.date(2026, 1, 20),
        reversal_reason="Attestation withdrawn",
        in_review=False,
    )

    body = get(staff, f"/api/v1/claims/{claim.pk}/")

    assert body == {
        "id": claim.pk,
        "contract": claim.metric.contract_id,
        "metric": claim.metric.code,
        "worker": claim.worker_id,
        "unit": 1,
        "achieved_on": "2026-01-05",
        "status": "reversed",
        "verified_on": "2026-01-20",
        "claimed_at": body["claimed_at"],
        "rejection_reason": "",
        "reversal_reason": "Attestation withdrawn",
        "in_review": False,
        "pending_reason": "",
    }
    assert datetime.datetime.fromisoformat(body["claimed_at"]) == claim.claimed_at


# --- The schedule ---------------------------------------------------------------------------------


@dataclass
class Example:
    contract: fin.RbfContract
    claims: list[fin.OutcomeClaim]
    retained: fin.OutcomeClaim


def worked_example() -> Example:
    """DESIGN.md's worked example, taken on: PLACED at 500.00 with cap_units 3, four claims verified in Q1;
    RETAINED_180 at 300.00 verified for w1 in April. Q1 approved and paid; then w2's claim is reversed, so
    Q2 holds the retention payment and two adjustments (-500.00 for w2, +500.00 for w4); Q2 is approved."""
    contract = f.RbfContractFactory(cap_total=Decimal("100000.00"))
    placed = f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"), cap_units=3)
    retained = f.OutcomeMetricFactory(contract=contract, code="RETAINED_180", kind="manual", price=Decimal("300"))
    recruiter = f.RecruiterFactory(organisation=contract.provider)
    days = [datetime.date(2026, 1, 5), datetime.date(2026, 1, 20), datetime.date(2026, 2, 2), datetime.date(2026, 2, 3)]
    claims = [
        f.OutcomeClaimFactory(
            metric=placed,
            worker__recruiter=recruiter,
            worker__pilot=contract.pilot,
            achieved_on=datetime.date(2026, 1, 2),
            status=fin.ClaimStatus.VERIFIED,
            verified_on=day,
        )
        for day in days
    ]
    w1_retained = f.OutcomeClaimFactory(
        metric=retained,
        worker=claims[0].worker,
        achieved_on=datetime.date(2026, 4, 20),
        status=fin.ClaimStatus.VERIFIED,
        verified_on=datetime.date(2026, 4, 20),
    )
    approver, payer_clerk = f.StaffUserFactory(), f.StaffUserFactory()
    schedule_recompute(contract_id=contract.pk)
    q1 = fin.Tranche.objects.get(contract=contract, code="2026-Q1")
    tranche_approve(tranche=q1, user=approver, expected_total=Decimal("1500.00"))
    disbursement_record(
        tranche=q1, user=payer_clerk, amount=Decimal("1500.00"), paid_on=datetime.date(2026, 5, 15), reference="W-1"
    )
    claim_reverse(claim=claims[1], user=approver, reason="Employer withdrew the attestation")
    schedule_recompute(contract_id=contract.pk)  # in the suite, on-commit recomputes do not run
    tranche_approve(tranche=fin.Tranche.objects.get(contract=contract, code="2026-Q2"), user=approver)
    return Example(contract=contract, claims=claims, retained=w1_retained)


def test_schedule_of_the_worked_example_with_approved_and_paid_totals(staff):
    example = worked_example()
    c1, c2, c3, c4 = (claim.pk for claim in example.claims)
    w = {claim.pk: claim.worker_id for claim in [*example.claims, example.retained]}

    body = get(staff, f"/api/v1/contracts/{example.contract.pk}/schedule/")

    assert (body["contract"], body["reference"], body["currency"]) == (
        example.contract.pk,
        example.contract.reference,
        "USD",
    )
    q1, q2, q3, q4 = body["tranches"]
    assert [(t["code"], t["status"], t["total"], t["due_date"], t["paid_on"]) for t in body["tranches"]] == [
        ("2026-Q1", "paid", "1500.00", "2026-04-30", "2026-05-15"),
        ("2026-Q2", "approved", "300.00", "2026-07-30", None),
        ("2026-Q3", "open", "0.00", "2026-10-30", None),
        ("2026-Q4", "open", "0.00", "2027-01-30", None),
    ]
    assert [(line["claim"], line["kind"], line["amount"], line["capped"], line["reason"]) for line in q1["lines"]] == [
        (c1, "payment", "500.00", "0.00", ""),
        (c2, "payment", "500.00", "0.00", ""),
        (c3, "payment", "500.00", "0.00", ""),
        (c4, "payment", "0.00", "500.00", "cap_units"),
    ]
    assert [(line["claim"], line["metric"], line["kind"], line["amount"]) for line in q2["lines"]] == [
        (example.retained.pk, "RETAINED_180", "payment", "300.00"),
        (c2, "PLACED", "adjustment", "-500.00"),
        (c4, "PLACED", "adjustment", "500.00"),
    ]
    assert all(line["worker"] == w[line["claim"]] for line in q1["lines"] + q2["lines"])
    assert q2["lines"][1]["note"]
    assert q3["lines"] == q4["lines"] == []
    assert body["totals"] == {
        "verified": "1800.00",
        "paid": "1500.00",
        "awaiting_payment": "300.00",
        "owed_by_provider": "0.00",
        "due": "0.00",
        "left_under_cap": "98200.00",
        "held_back": [
            {"metric": "PLACED", "reason": "cap_units", "units": 1, "amount": "500.00", "tranche": "2026-Q1"}
        ],
        "overdue_tranches": body["totals"]["overdue_tranches"],
        "due_next": {"tranche": "2026-Q3", "due_date": "2026-10-30", "total": "0.00"},
    }


def test_schedule_of_a_contract_without_cap_or_tranches(staff):
    contract = f.RbfContractFactory(cap_total=None, currency="JPY")

    body = get(staff, f"/api/v1/contracts/{contract.pk}/schedule/")

    assert body["tranches"] == []
    assert body["totals"] == {
        "verified": "0",
        "paid": "0",
        "awaiting_payment": "0",
        "owed_by_provider": "0",
        "due": "0",
        "left_under_cap": None,
        "held_back": [],
        "overdue_tranches": 0,
        "due_next": None,
    }


def fields_of(serializer: Any) -> set[str]:
    return set(serializer().fields)


def test_the_schedule_has_the_shape_its_schema_declares(staff):
    """The schedule is built as plain dicts for speed; the serializers document it. Hold them together."""
    example = worked_example()
    funder = f.UserFactory(role=pil.Role.FUNDER, organisation=example.contract.payer)

    body = get(staff, f"/api/v1/contracts/{example.contract.pk}/schedule/")
    funders = get(client_for(funder), f"/api/v1/contracts/{example.contract.pk}/schedule/")

    assert set(body) == fields_of(ContractScheduleSerializer)
    assert set(body["tranches"][0]) == fields_of(ScheduleTrancheSerializer)
    assert set(body["tranches"][0]["lines"][0]) == fields_of(ScheduleLineSerializer)
    assert set(funders["tranches"][0]["lines"][0]) == fields_of(ScheduleLineSerializer) - {"worker"}
    assert set(body["totals"]) == fields_of(ScheduleTotalsSerializer)
    assert set(body["totals"]["due_next"]) == fields_of(DueNextSerializer)


# --- Filters, search, ordering, pagination ---------------------------------------------------------


def listed(client: APIClient, url: str) -> list[int]:
    return [row["id"] for row in get(client, url)["results"]]


def test_pilot_filters_and_search(staff):
    trucking = f.SectorFactory(code="trucking", name="Long-haul trucking")
    berries = f.PilotFactory(name="Berries H-2A", status=pil.PilotStatus.RECRUITING)
    trucks = f.PilotFactory(name="Trucks to Canada", sector=trucking, destination_country="CA")

    assert listed(staff, "/api/v1/pilots/?status=recruiting") == [berries.pk]
    assert listed(staff, "/api/v1/pilots/?sector=trucking") == [trucks.pk]
    assert listed(staff, "/api/v1/pilots/?destination_country=ca") == [trucks.pk]
    assert listed(staff, "/api/v1/pilots/?search=berries") == [berries.pk]
    assert listed(staff, "/api/v1/pilots/") == [berries.pk, trucks.pk]  # by name
    assert listed(staff, "/api/v1/pilots/?ordering=-name") == [trucks.pk, berries.pk]
    response = staff.get("/api/v1/pilots/?status=flying")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "status"


def test_job_opening_filters(staff):
    pilot = f.PilotFactory()
    usd = f.JobOpeningFactory(pilot=pilot)
    cad = f.JobOpeningFactory(pilot=pilot, wage_currency="CAD", employer=usd.employer, title="Aged-care aide")
    other = f.JobOpeningFactory()

    assert listed(staff, f"/api/v1/job-openings/?pilot={pilot.pk}") == [cad.pk, usd.pk]  # by season, then title
    assert listed(staff, f"/api/v1/job-openings/?employer={usd.employer_id}") == [cad.pk, usd.pk]
    assert listed(staff, "/api/v1/job-openings/?currency=cad") == [cad.pk]
    assert listed(staff, "/api/v1/job-openings/?search=aide") == [cad.pk]
    assert other.pk in listed(staff, "/api/v1/job-openings/")


def test_contract_filters(staff):
    active = f.RbfContractFactory()
    draft = f.RbfContractFactory(status=fin.ContractStatus.DRAFT, pilot=active.pilot, payer=active.payer)

    assert listed(staff, "/api/v1/contracts/?status=draft") == [draft.pk]
    assert listed(staff, f"/api/v1/contracts/?pilot={active.pilot_id}") == [active.pk, draft.pk]
    assert listed(staff, f"/api/v1/contracts/?provider={draft.provider_id}") == [draft.pk]
    assert listed(staff, f"/api/v1/contracts/?payer={active.payer_id}") == [active.pk, draft.pk]
    assert listed(staff, f"/api/v1/contracts/?search={draft.reference}") == [draft.pk]


def test_claim_filters(staff):
    placed = f.OutcomeClaimFactory()
    review = f.OutcomeClaimFactory(metric__code="RETAINED_180", in_review=True)
    verified = f.OutcomeClaimFactory(
        metric=placed.metric, status=fin.ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 2, 1)
    )

    assert listed(staff, "/api/v1/claims/?status=verified") == [verified.pk]
    assert listed(staff, f"/api/v1/claims/?contract={placed.metric.contract_id}") == [placed.pk, verified.pk]
    assert listed(staff, "/api/v1/claims/?metric=RETAINED_180") == [review.pk]
    assert listed(staff, f"/api/v1/claims/?worker={verified.worker_id}") == [verified.pk]
    assert listed(staff, "/api/v1/claims/?in_review=true") == [review.pk]
    assert listed(staff, "/api/v1/claims/?ordering=-id") == [verified.pk, review.pk, placed.pk]


def test_lists_are_paginated_with_a_page_size_up_to_200(staff):
    sector = f.SectorFactory()
    pil.Pilot.objects.bulk_create(
        [
            pil.Pilot(
                name=f"Pilot {n:03d}",
                slug=f"bulk-{n}",
                sector=sector,
                origin_countries=["GT"],
                destination_country="US",
                pathway="H-2A",
                start_date=datetime.date(2026, 1, 1),
                target_cohort_size=10,
            )
            for n in range(205)
        ]
    )

    first = get(staff, "/api/v1/pilots/")
    small = get(staff, "/api/v1/pilots/?page_size=5&page=2")
    most = get(staff, "/api/v1/pilots/?page_size=1000")

    assert first["count"] == 205 and len(first["results"]) == 50 and first["next"] and first["previous"] is None
    assert [row["name"] for row in small["results"]] == [f"Pilot {n:03d}" for n in range(5, 10)]
    assert len(most["results"]) == 200


# --- Query budgets --------------------------------------------------------------------------------


@dataclass
class Partner:
    """A recruiter user with a pilot it is assigned to and a contract it provides there."""

    client: APIClient
    recruiter: rec.Recruiter
    pilot: pil.Pilot
    contract: fin.RbfContract
    metric: fin.OutcomeMetric


@pytest.fixture
def partner() -> Partner:
    user = f.RecruiterUserFactory()
    recruiter = user.organisation.recruiter
    assignment = f.RecruiterAssignmentFactory(recruiter=recruiter)
    contract = f.RbfContractFactory(provider=user.organisation, pilot=assignment.pilot)
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED")
    return Partner(client_for(user), recruiter, assignment.pilot, contract, metric)


def add_contract(partner: Partner) -> fin.RbfContract:
    contract = f.RbfContractFactory(provider=partner.recruiter.organisation, pilot=partner.pilot)
    placed = f.OutcomeMetricFactory(contract=contract, code="PLACED")
    f.OutcomeMetricFactory(
        contract=contract, code="RETAINED", price=None, tiers=[{"units": None, "price": "10"}],
        threshold_rate=Decimal("0.5"), denominator_metric=placed,
    )  # fmt: skip
    return contract


def add_claim(partner: Partner, **kwargs: Any) -> fin.OutcomeClaim:
    return f.OutcomeClaimFactory(
        metric=partner.metric, worker__recruiter=partner.recruiter, worker__pilot=partner.pilot, **kwargs
    )


ADD: dict[str, Callable[[Partner], Any]] = {
    "pilots": lambda p: f.RecruiterAssignmentFactory(recruiter=p.recruiter),
    "job-openings": lambda p: f.JobOpeningFactory(pilot=p.pilot),
    "contracts": add_contract,
    "claims": add_claim,
}
# Queries per page: the count and the page, and for contracts their metrics (one prefetch); claims page by
# cursor: the page alone, no count.
LIST_BUDGET = {"pilots": 2, "job-openings": 2, "contracts": 3, "claims": 1}
DETAIL_BUDGET = {"pilots": 1, "job-openings": 1, "contracts": 2, "claims": 1}


def queries(client: APIClient, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        body = get(client, url)
    return len(captured), body


@pytest.mark.parametrize("endpoint", ADD)
def test_list_queries_stay_constant_as_the_page_fills(partner, endpoint):
    url = f"/api/v1/{endpoint}/"
    for _ in range(3):
        ADD[endpoint](partner)
    few, first = queries(partner.client, url)
    for _ in range(27):
        ADD[endpoint](partner)
    many, second = queries(partner.client, url)

    assert len(second["results"]) >= len(first["results"]) + 27
    assert few == many <= LIST_BUDGET[endpoint]


@pytest.mark.parametrize("endpoint", ADD)
def test_detail_queries_are_within_budget(partner, endpoint, django_assert_num_queries):
    row = ADD[endpoint](partner)
    pk = row.pilot_id if endpoint == "pilots" else row.pk

    with django_assert_num_queries(DETAIL_BUDGET[endpoint]):
        get(partner.client, f"/api/v1/{endpoint}/{pk}/")


def test_contract_detail_queries_do_not_grow_with_its_metrics(partner):
    url = f"/api/v1/contracts/{partner.contract.pk}/"
    few, _ = queries(partner.client, url)
    for n in range(8):
        f.OutcomeMetricFactory(contract=partner.contract, code=f"M{n}", denominator_metric=partner.metric,
                               threshold_rate=Decimal("0.1"))  # fmt: skip
    many, body = queries(partner.client, url)

    assert len(body["metrics"]) == 9
    assert few == many == DETAIL_BUDGET["contracts"]


def test_schedule_queries_do_not_grow_with_its_lines(partner, django_assert_max_num_queries):
    """The contract, its tranches with their totals and payments, its lines, its money in the one vocabulary
    and what is held back (metrics, the schedule's summary, the claims by metric, the tranche they wait for):
    nine queries for 3 lines or 60."""
    url = f"/api/v1/contracts/{partner.contract.pk}/schedule/"

    def verified_claims(count: int) -> None:
        for _ in range(count):
            add_claim(partner, status=fin.ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 2, 1))
        schedule_recompute(contract_id=partner.contract.pk)

    verified_claims(3)
    with django_assert_max_num_queries(9):
        few = get(partner.client, url)
    verified_claims(57)
    with django_assert_max_num_queries(9):
        many = get(partner.client, url)

    assert len(few["tranches"][0]["lines"]) == 3 and len(many["tranches"][0]["lines"]) == 60
