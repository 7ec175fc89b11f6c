"""The pilot page (``programme:pilot``): the funnel, outcomes over time, recruiters side by side, contracts with
their next open tranche, who sees what, and a constant number of queries."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from financing import models as fin
from pilots import models as pil
from pilots.stages import PATH, Stage
from programme.selectors import funnel
from tests import factories as f
from tests.dashboard.conftest import PAGE_QUERY_BUDGET, page_queries

pytestmark = pytest.mark.django_db

#: An H-2A pilot: no training stages.
H2A_STAGES = [stage.value for stage in PATH if stage not in (Stage.IN_TRAINING, Stage.TRAINED)]


def url(pilot: pil.Pilot) -> str:
    return reverse("programme:pilot", args=[pilot.pk])


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def verified_claim(metric: fin.OutcomeMetric, worker, on: datetime.date) -> fin.OutcomeClaim:  # noqa: ANN001
    return f.OutcomeClaimFactory(metric=metric, worker=worker, status=fin.ClaimStatus.VERIFIED, verified_on=on)


@pytest.fixture
def world(funder_org, staff_user) -> dict[str, object]:
    """The H-2A pilot with two recruiters: A provides the contract the funder pays, B one paid by another payer."""
    pilot = f.PilotFactory(name="H-2A agriculture", required_stages=H2A_STAGES)
    a = f.RecruiterFactory(organisation__name="Agencia A")
    b = f.RecruiterFactory(organisation__name="Agencia B")
    f.RecruiterAssignmentFactory(recruiter=a, pilot=pilot, quota=40)
    f.RecruiterAssignmentFactory(recruiter=b, pilot=pilot, quota=25)
    stages_a = [
        Stage.REGISTERED, Stage.SCREENED, Stage.MATCHED, Stage.VISA_PENDING, Stage.DEPLOYED, Stage.WORKING,
        Stage.RETURNED, Stage.SEPARATED_EARLY, Stage.VISA_DENIED, Stage.WITHDRAWN,
    ]  # fmt: skip
    wa = [
        f.WorkerFactory(pilot=pilot, recruiter=a, current_stage=stage, given_names=f"Ana {i}")
        for i, stage in enumerate(stages_a)
    ]
    wb = [f.WorkerFactory(pilot=pilot, recruiter=b, current_stage=stage) for stage in (Stage.SCREENED, Stage.WORKING)]
    opening = f.JobOpeningFactory(pilot=pilot)
    f.EmploymentFactory(worker=wa[5], job_opening=opening, start_date=days_ago(200))
    f.EmploymentFactory(
        worker=wa[7],
        job_opening=opening,
        start_date=days_ago(190),
        end_date=days_ago(150),
        separation_reason="resigned",
    )
    f.EmploymentFactory(worker=wb[1], job_opening=opening, start_date=days_ago(181))
    f.FeeReportFactory(worker=wa[0], amount=Decimal("300"))
    f.FeeReportFactory(worker=wb[0], amount=Decimal("0"))

    funded = f.RbfContractFactory(
        reference="H2A-A", pilot=pilot, payer=funder_org, provider=a.organisation, cap_total=Decimal("5000.00")
    )
    placed = f.OutcomeMetricFactory(contract=funded, code="PLACED")
    retained = f.OutcomeMetricFactory(
        contract=funded, code="RETAINED_180", kind=fin.MetricKind.RETAINED_N, retention_days=180
    )
    other = f.RbfContractFactory(reference="H2A-B", pilot=pilot, provider=b.organisation, currency="CAD")
    placed_b = f.OutcomeMetricFactory(contract=other, code="PLACED")

    jan, feb, apr = datetime.date(2026, 1, 20), datetime.date(2026, 2, 3), datetime.date(2026, 4, 10)
    c1 = verified_claim(placed, wa[4], jan)
    c2 = verified_claim(placed, wa[5], jan)
    c3 = verified_claim(retained, wa[5], apr)
    verified_claim(placed_b, wb[1], feb)
    f.OutcomeClaimFactory(metric=placed, worker=wa[6])  # claimed, not verified: not an outcome yet
    f.OutcomeClaimFactory(
        metric=placed, worker=wa[7], status=fin.ClaimStatus.REVERSED, verified_on=feb, reversal_reason="No job"
    )

    q1 = f.TrancheFactory(
        contract=funded, status=fin.TrancheStatus.PAID, approved_by=staff_user, approved_at=timezone.now()
    )
    q2 = f.TrancheFactory(
        contract=funded, code="2026-Q2", start_date=datetime.date(2026, 4, 1), end_date=datetime.date(2026, 6, 30),
        due_date=datetime.date(2026, 7, 30),
    )  # fmt: skip
    f.TrancheFactory(
        contract=funded, code="2026-Q3", start_date=datetime.date(2026, 7, 1), end_date=datetime.date(2026, 9, 30),
        due_date=datetime.date(2026, 10, 30),
    )  # fmt: skip
    f.PaymentLineFactory(tranche=q1, claim=c1, amount=Decimal("500.00"))
    f.PaymentLineFactory(tranche=q1, claim=c2, amount=Decimal("500.00"))
    f.PaymentLineFactory(tranche=q2, claim=c3, amount=Decimal("250.00"))
    f.DisbursementFactory(tranche=q1, amount=Decimal("1000.00"))
    return {"pilot": pilot, "a": a, "b": b, "funded": funded, "other": other, "workers": wa + wb}


def bar_values(html: str) -> dict[str, int]:
    return {stage: int(n) for stage, n in re.findall(r'data-stage="(\w+)">(\d+)<', html)}


def test_the_funnel_counts_who_reached_each_required_stage_in_path_order(staff_client, world):
    response = staff_client.get(url(world["pilot"]))

    assert response.status_code == 200
    bars = response.context["page"].funnel
    assert [bar.stage for bar in bars if not bar.exit] == H2A_STAGES  # no training stage in this pilot
    reached = {bar.stage: bar.reached for bar in bars if not bar.exit}
    # 12 workers. A's: visa denied proves visa pending; separated early proves deployed; withdrawn proves only
    # registration. B's: one screened, one working.
    assert reached == {
        "registered": 12, "screened": 10, "matched": 8, "visa_pending": 7, "visa_issued": 5, "deployed": 5,
        "working": 3, "completed": 1, "returned": 1,
    }  # fmt: skip
    assert {bar.stage: bar.reached for bar in bars if bar.exit} == {
        "withdrawn": 1, "not_selected": 0, "visa_denied": 1, "separated_early": 1,
    }  # fmt: skip
    html = response.content.decode()
    assert bar_values(html)["visa_pending"] == 7
    assert html.count('class="fill exit"') == 4
    assert "reached <em>at least</em> that stage" in html
    assert f'href="{reverse("workers:list")}?pilot={world["pilot"].pk}&amp;stage=working"' in html


def test_the_funnel_of_a_pilot_with_every_stage():
    counts = {stage.value: 0 for stage in Stage} | {"in_training": 2, "trained": 1, "not_selected": 3}
    bars = funnel(required_stages=[stage.value for stage in reversed(PATH)], workers_by_stage=counts)

    assert [bar.stage for bar in bars] == [stage.value for stage in PATH] + [
        "withdrawn", "not_selected", "visa_denied", "separated_early",
    ]  # fmt: skip
    assert [bar.reached for bar in bars[:5]] == [6, 3, 3, 1, 0]
    assert (bars[2].now, bars[-3].reached, bars[-3].exit) == (2, 3, True)


def test_outcomes_over_time_are_verified_claims_per_month_by_metric(staff_client, world):
    response = staff_client.get(url(world["pilot"]))

    outcomes = response.context["page"].outcomes
    assert outcomes.metrics == ["PLACED", "RETAINED_180"]
    assert [(m.month, m.counts) for m in outcomes.months] == [
        (datetime.date(2026, 1, 1), (2, 0)),
        (datetime.date(2026, 2, 1), (1, 0)),  # B's placement; the reversed claim is not an outcome
        (datetime.date(2026, 3, 1), (0, 0)),
        (datetime.date(2026, 4, 1), (0, 1)),
    ]
    assert outcomes.by_metric == [("PLACED", [2, 1, 0, 0], 3), ("RETAINED_180", [0, 0, 0, 1], 1)]
    assert outcomes.total == 4
    html = response.content.decode()
    # The chart (Chart.js, drawn by lamp/static/lamp/charts.js) reads the figures the page embeds; the
    # table under it gives the same figures to read.
    assert '<canvas data-chart-source="outcomes-data"' in html
    assert response.context["page"].outcomes.chart == {
        "labels": ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026"],
        "series": [{"label": "PLACED", "data": [2, 1, 0, 0]}, {"label": "RETAINED_180", "data": [0, 0, 0, 1]}],
    }
    assert '<script id="outcomes-data" type="application/json">{"labels": ["Jan 2026"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "lamp/charts.js" in html
    assert 'id="outcomes"' in html
    assert f'href="{reverse("financing:claims")}?pilot={world["pilot"].pk}"' in html


def test_the_recruiters_side_by_side(staff_client, world):
    rows = staff_client.get(url(world["pilot"])).context["page"].recruiters

    a, b = rows
    assert (a.recruiter.pk, a.quota, b.recruiter.pk, b.quota) == (world["a"].pk, 40, world["b"].pk, 25)
    # A: placed = deployed, working, returned, separated early; past screening adds matched, visa pending, denied.
    assert (a.figures.workers, a.figures.placed, a.figures.past_screening) == (10, 4, 7)
    assert a.figures.placement_rate == Decimal("0.5714")
    assert (a.figures.retention_retained, a.figures.retention_eligible) == (1, 2)
    assert a.figures.workers_with_fees == 1
    assert [(x.currency, x.verified) for x in a.amounts] == [("USD", Decimal("1250.00"))]
    assert (b.figures.workers, b.figures.placement_rate, b.figures.retention_rate) == (2, Decimal("1.0000"), 1)
    assert b.figures.workers_with_fees == 0 and [x.currency for x in b.amounts] == ["CAD"]


def test_a_recruiter_with_workers_but_no_assignment_is_compared_too(staff_client, world):
    c = f.RecruiterFactory(organisation__name="Agencia C")
    f.WorkerFactory(pilot=world["pilot"], recruiter=c)

    rows = staff_client.get(url(world["pilot"])).context["page"].recruiters

    assert [(row.recruiter.organisation.name, row.quota, row.figures.workers) for row in rows][-1] == (
        "Agencia C", None, 1,
    )  # fmt: skip


def test_staff_link_recruiters_to_their_scorecards(staff_client, world):
    html = staff_client.get(url(world["pilot"])).content.decode()

    for recruiter in (world["a"], world["b"]):
        assert f'href="{reverse("programme:scorecard", args=[recruiter.pk])}"' in html


def test_contracts_with_cap_amounts_and_the_next_open_tranche(staff_client, world):
    response = staff_client.get(url(world["pilot"]))

    funded, other = response.context["page"].contracts
    assert funded.contract.reference == "H2A-A"
    amounts = funded.amounts
    assert (amounts.verified, amounts.paid, amounts.awaiting_payment, amounts.due) == (
        Decimal("1250.00"), Decimal("1000.00"), Decimal("0"), Decimal("250.00"),
    )  # fmt: skip
    assert amounts.adds_up
    assert amounts.cap_total == Decimal("5000.00")
    tranche = funded.next_tranche
    assert (tranche.code, tranche.end_date, tranche.due_date, tranche.total) == (
        "2026-Q2", datetime.date(2026, 6, 30), datetime.date(2026, 7, 30), Decimal("250.00"),
    )  # fmt: skip
    assert other.next_tranche is None and other.amounts.verified == 0
    html = response.content.decode()
    assert f'href="{reverse("financing:contract", args=[world["funded"].pk])}"' in html
    assert "2026-Q2" in html and "30 Jul 2026" in html and "USD 5,000.00" in html
    assert 'class="paid" data-width="20.00%"' in html  # 1,000 paid of 5,000
    assert 'class="due" data-width="5.00%"' in html  # 250 due of 5,000


def test_a_funder_sees_aggregates_and_only_the_contracts_it_pays(funder_client, world):
    response = funder_client.get(url(world["pilot"]))

    assert response.status_code == 200
    page = response.context["page"]
    assert [summary.contract.reference for summary in page.contracts] == ["H2A-A"]
    assert page.figures.workers == 12  # the pilot's workers, counted, never named
    assert page.outcomes.metrics == ["PLACED", "RETAINED_180"]
    # B's claim is under a contract it does not pay.
    assert [(code, total) for code, _, total in page.outcomes.by_metric] == [("PLACED", 2), ("RETAINED_180", 1)]
    a, b = page.recruiters
    assert [x.currency for x in a.amounts] == ["USD"] and b.amounts == []
    html = response.content.decode()
    assert "H2A-B" not in html and "CAD" not in html
    for worker in world["workers"]:
        assert worker.given_names not in html
    assert reverse("workers:list") not in html and reverse("financing:claims") not in html
    # It may read the scorecard of the recruiter whose contract it pays, not the other's.
    assert reverse("programme:scorecard", args=[world["a"].pk]) in html
    assert reverse("programme:scorecard", args=[world["b"].pk]) not in html


def test_a_pilot_the_viewer_cannot_see_is_not_found(funder_client, world):
    hidden = f.PilotFactory(name="Aged care")

    assert funder_client.get(url(hidden)).status_code == 404
    assert funder_client.get(reverse("programme:pilot", args=[999_999])).status_code == 404


def test_recruiters_are_refused_and_anonymous_visitors_sent_to_log_in(client, recruiter_client, world):
    assert recruiter_client.get(url(world["pilot"])).status_code == 403
    client.logout()
    response = client.get(url(world["pilot"]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_empty_pilot(staff_client):
    pilot = f.PilotFactory()

    response = staff_client.get(url(pilot))

    assert response.status_code == 200
    html = response.content.decode()
    assert "No verified outcome yet." in html and "No recruiter in this pilot yet." in html
    assert "No contract in this pilot." in html


def grow(world: dict[str, object], staff: pil.User) -> None:
    """Many more workers, employments, fees, recruiters, claims, tranches, lines and contracts in the pilot."""
    pilot = world["pilot"]
    for _ in range(3):
        recruiter = f.RecruiterFactory()
        f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=pilot)
        contract = f.RbfContractFactory(pilot=pilot, payer=world["funded"].payer, provider=recruiter.organisation)
        metric = f.OutcomeMetricFactory(contract=contract, code="PLACED")
        tranche = f.TrancheFactory(contract=contract)
        for i, stage in enumerate([Stage.DEPLOYED, Stage.WORKING, Stage.WITHDRAWN, Stage.SCREENED] * 3):
            worker = f.WorkerFactory(pilot=pilot, recruiter=recruiter, current_stage=stage)
            f.EmploymentFactory(worker=worker, start_date=days_ago(200))
            f.FeeReportFactory(worker=worker, amount=Decimal("5"))
            claim = verified_claim(metric, worker, datetime.date(2026, 1 + i % 3, 5))
            f.PaymentLineFactory(tranche=tranche, claim=claim)
        f.TrancheFactory(
            contract=contract, code="2026-Q2", start_date=datetime.date(2026, 4, 1),
            end_date=datetime.date(2026, 6, 30), due_date=datetime.date(2026, 7, 30),
        )  # fmt: skip


@pytest.mark.parametrize("viewer", ["staff_client", "funder_client"])
def test_the_pilot_page_runs_a_constant_number_of_queries(request, viewer, world, staff_user):
    client = request.getfixturevalue(viewer)
    client.get(url(world["pilot"]))  # warm up
    with page_queries() as small:
        assert client.get(url(world["pilot"])).status_code == 200

    grow(world, staff_user)
    with page_queries() as large:
        response = client.get(url(world["pilot"]))
    assert response.status_code == 200
    assert len(response.context["page"].recruiters) == 5 and len(response.context["page"].contracts) >= 4

    assert len(large.captured_queries) == len(small.captured_queries) <= PAGE_QUERY_BUDGET
