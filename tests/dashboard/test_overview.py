"""The overview (``programme:overview``): every visible pilot with its figures, the totals, who sees what, and a
constant number of queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from financing import models as fin
from pilots import models as pil
from pilots.stages import Stage
from programme.selectors import pilots_overview, recruiter_scorecards
from tests import factories as f
from tests.dashboard.conftest import PAGE_QUERY_BUDGET, page_queries

pytestmark = pytest.mark.django_db

URL = reverse("programme:overview")


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def add_workers(pilot: pil.Pilot, recruiter, stages: list[str]) -> list:  # noqa: ANN001
    return [f.WorkerFactory(pilot=pilot, recruiter=recruiter, current_stage=stage) for stage in stages]


def add_money(contract: fin.RbfContract, worker, *, paid: str, due: str, staff: pil.User) -> None:  # noqa: ANN001
    """A paid first quarter (one line of ``paid``, disbursed) and an open second one (one line of ``due``),
    for claims about ``worker`` (a worker of the contract's pilot)."""
    q1 = f.TrancheFactory(
        contract=contract, status=fin.TrancheStatus.PAID, approved_by=staff, approved_at=timezone.now()
    )
    q2 = f.TrancheFactory(
        contract=contract, code="2026-Q2", start_date=datetime.date(2026, 4, 1), end_date=datetime.date(2026, 6, 30),
        due_date=datetime.date(2026, 7, 30),
    )  # fmt: skip
    f.PaymentLineFactory(tranche=q1, claim__worker=worker, amount=Decimal(paid))
    f.PaymentLineFactory(tranche=q2, claim__worker=worker, amount=Decimal(due))
    f.DisbursementFactory(tranche=q1, amount=Decimal(paid), currency=contract.currency)


@pytest.fixture
def world(funder_org, staff_user) -> dict[str, object]:
    """Two pilots: the H-2A one, whose contract the funder pays, and the cruise one, paid by someone else."""
    a = f.RecruiterFactory(organisation__name="Agencia A")
    b = f.RecruiterFactory(organisation__name="Agencia B")
    h2a = f.PilotFactory(name="H-2A agriculture", origin_countries=["GT", "MX"], destination_country="US")
    cruise = f.PilotFactory(
        name="Cruise hospitality", sector=f.SectorFactory(code="cruise", name="Cruise hospitality"),
        origin_countries=["GT"], destination_country="BS", status=pil.PilotStatus.RECRUITING,
    )  # fmt: skip
    funded = f.RbfContractFactory(pilot=h2a, payer=funder_org, provider=a.organisation, cap_total=Decimal("10000"))
    other = f.RbfContractFactory(pilot=cruise, provider=b.organisation, currency="EUR", cap_total=None)

    h2a_workers = add_workers(
        h2a, a,
        [Stage.REGISTERED, Stage.SCREENED, Stage.MATCHED, Stage.DEPLOYED, Stage.WORKING, Stage.SEPARATED_EARLY,
         Stage.WITHDRAWN, Stage.VISA_DENIED],
    )  # fmt: skip
    cruise_workers = add_workers(cruise, b, [Stage.REGISTERED, Stage.DEPLOYED, Stage.NOT_SELECTED])
    opening = f.JobOpeningFactory(pilot=h2a)
    f.EmploymentFactory(worker=h2a_workers[3], job_opening=opening, start_date=days_ago(10))  # not yet eligible
    f.EmploymentFactory(worker=h2a_workers[4], job_opening=opening, start_date=days_ago(200))  # retained
    f.EmploymentFactory(
        worker=h2a_workers[5], job_opening=opening, start_date=days_ago(200), end_date=days_ago(100),
        separation_reason="resigned",
    )  # fmt: skip
    f.FeeReportFactory(worker=h2a_workers[0], amount=Decimal("100"))
    f.FeeReportFactory(worker=h2a_workers[0], amount=Decimal("200"))  # the same worker: counted once
    f.FeeReportFactory(worker=h2a_workers[1], amount=Decimal("0"))  # no fee: not a finding
    f.FeeReportFactory(worker=cruise_workers[0], amount=Decimal("50"), currency="USD")

    add_money(funded, h2a_workers[4], paid="1500.00", due="500.00", staff=staff_user)
    add_money(other, cruise_workers[1], paid="300.00", due="200.00", staff=staff_user)
    return {
        "a": a, "b": b, "h2a": h2a, "cruise": cruise, "funded": funded, "other": other, "h2a_workers": h2a_workers,
    }  # fmt: skip


def row_of(overview, pilot: pil.Pilot):  # noqa: ANN001, ANN201
    return next(row for row in overview.rows if row.pilot.pk == pilot.pk)


def test_staff_see_every_pilot_with_its_facts_and_figures(staff_client, world):
    response = staff_client.get(URL)

    assert response.status_code == 200
    overview = response.context["overview"]
    assert [row.pilot.name for row in overview.rows] == ["Cruise hospitality", "H-2A agriculture"]
    h2a = row_of(overview, world["h2a"]).figures
    assert h2a.workers == 8
    # Placed: deployed, working, separated early; past screening: those and matched, visa denied.
    assert (h2a.placed, h2a.past_screening, h2a.placement_rate) == (3, 5, Decimal("0.6000"))
    assert (h2a.retention_retained, h2a.retention_eligible, h2a.retention_rate) == (1, 2, Decimal("0.5000"))
    assert (h2a.workers_with_fees, h2a.fee_rate) == (1, Decimal("0.1250"))
    html = response.content.decode()
    for text in ("Cruise hospitality", "GT, MX → US", "GT → BS", "Recruiting", "Agriculture", "60.0 %", "50.0 %"):
        assert text in html
    assert reverse("programme:pilot", args=[world["h2a"].pk]) in html


def test_the_cards_add_up_every_visible_pilot(staff_client, world):
    overview = staff_client.get(URL).context["overview"]

    totals = overview.totals
    assert totals.workers == 11
    assert totals.workers_by_stage[Stage.REGISTERED] == 2 and totals.workers_by_stage[Stage.NOT_SELECTED] == 1
    assert (totals.placed, totals.past_screening) == (4, 6)
    assert totals.workers_with_fees == 2
    eur, usd = overview.amounts
    assert (usd.currency, usd.verified, usd.paid, usd.awaiting_payment, usd.due) == (
        "USD", Decimal("2000.00"), Decimal("1500.00"), Decimal("0"), Decimal("500.00"),
    )  # fmt: skip
    assert usd.adds_up and eur.adds_up
    assert usd.cap_total == Decimal("10000.00")
    assert (eur.currency, eur.verified, eur.paid, eur.cap_total) == ("EUR", Decimal("500.00"), Decimal("300.00"), None)


def test_the_figures_are_the_scorecards_for_a_pilot_with_one_recruiter(world, staff_user):
    """One recruiter, one pilot: the overview's row and the recruiter's scorecard count the same workers."""
    row = row_of(pilots_overview(user=staff_user), world["h2a"]).figures
    card = recruiter_scorecards(recruiter_ids=[world["a"].pk])[0]

    assert row.workers_by_stage == card.workers_by_stage
    assert (row.placement_rate, row.retention_rate) == (card.placement_rate, card.retention_rate)
    assert (row.retention_eligible, row.workers_with_fees) == (card.retention_eligible, card.workers_with_fees)


def test_staff_get_stage_links_to_the_worker_list(staff_client, world):
    html = staff_client.get(URL).content.decode()

    assert f'href="{reverse("workers:list")}?stage=visa_pending"' in html
    assert 'class="fill exit"' in html


def test_money_is_shown_against_the_cap_with_a_progress_bar(staff_client, world):
    html = staff_client.get(URL).content.decode()

    assert 'class="progress"' in html
    assert "USD 2,000.00" in html and "USD 10,000.00" in html
    assert "(no cap)" in html  # the EUR contract has none
    assert 'class="paid" data-width="15.00%"' in html  # 1,500 paid of a 10,000 cap


def test_a_funder_sees_only_the_pilots_and_money_of_the_contracts_it_pays(funder_client, world):
    response = funder_client.get(URL)

    assert response.status_code == 200
    overview = response.context["overview"]
    assert [row.pilot.name for row in overview.rows] == ["H-2A agriculture"]
    assert [amounts.currency for amounts in overview.amounts] == ["USD"]
    assert overview.totals.workers == 8
    html = response.content.decode()
    assert "Cruise hospitality" not in html and "EUR" not in html
    assert reverse("workers:list") not in html  # no links into personal data
    assert "Ana " not in html  # never a worker's name


def test_a_funders_figures_count_only_its_contracts_in_a_shared_pilot(funder_client, funder_org, world, staff_user):
    other_payer = f.RbfContractFactory(pilot=world["h2a"], provider=world["a"].organisation, cap_total=Decimal("999"))
    add_money(other_payer, world["h2a_workers"][4], paid="700.00", due="0.00", staff=staff_user)

    (usd,) = funder_client.get(URL).context["overview"].amounts

    assert (usd.verified, usd.paid, usd.cap_total) == (Decimal("2000.00"), Decimal("1500.00"), Decimal("10000.00"))


def test_a_funder_without_contracts_sees_an_empty_overview(client, world):
    client.force_login(f.UserFactory(role=pil.Role.FUNDER, organisation=f.OrganisationFactory(kind="funder")))

    response = client.get(URL)

    assert response.status_code == 200
    assert response.context["overview"].rows == []
    assert "No pilot to show" in response.content.decode()


def test_recruiters_are_refused_and_anonymous_visitors_sent_to_log_in(client, recruiter_client, world):
    assert recruiter_client.get(URL).status_code == 403
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_overview_of_no_pilot_at_all(staff_client):
    response = staff_client.get(URL)

    assert response.status_code == 200
    assert response.context["overview"].totals.placement_rate is None
    assert "—" in response.content.decode()


def grow(world: dict[str, object], staff: pil.User) -> None:
    """Many more of everything: pilots, workers, employments, fees, contracts, tranches, lines."""
    for n in range(3):
        pilot = f.PilotFactory(name=f"More {n}")
        recruiter = f.RecruiterFactory()
        workers = add_workers(pilot, recruiter, [Stage.REGISTERED, Stage.DEPLOYED, Stage.WORKING, Stage.WITHDRAWN] * 3)
        opening = f.JobOpeningFactory(pilot=pilot)
        for worker in workers[:4]:
            f.EmploymentFactory(worker=worker, job_opening=opening, start_date=days_ago(300))
            f.FeeReportFactory(worker=worker, amount=Decimal("10"))
        contract = f.RbfContractFactory(pilot=pilot, payer=world["funded"].payer, provider=recruiter.organisation)
        add_money(contract, workers[1], paid="100.00", due="50.00", staff=staff)
    more = add_workers(world["h2a"], world["a"], [Stage.WORKING] * 10)
    add_money(
        f.RbfContractFactory(pilot=world["h2a"], payer=world["funded"].payer, currency="CAD"),
        more[0], paid="10.00", due="20.00", staff=staff,
    )  # fmt: skip


@pytest.mark.parametrize("viewer", ["staff_client", "funder_client"])
def test_the_overview_runs_a_constant_number_of_queries(request, viewer, world, staff_user):
    client = request.getfixturevalue(viewer)
    client.get(URL)  # warm up: the session, content types and the like
    with page_queries() as small:
        assert client.get(URL).status_code == 200

    grow(world, staff_user)
    with page_queries() as large:
        response = client.get(URL)
    assert response.status_code == 200
    assert len(response.context["overview"].rows) > 3

    assert len(large.captured_queries) == len(small.captured_queries) <= PAGE_QUERY_BUDGET
