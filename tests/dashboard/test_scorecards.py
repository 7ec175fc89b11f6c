"""Recruiter scorecards in the dashboard (``programme:scorecards``, ``programme:scorecard``): who sees which
recruiter, that the figures are the selector's, sorting and filtering, and a query count that does not grow."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from financing import models as fin
from pilots import models as pil
from pilots.stages import Stage
from programme.selectors import (
    licence_status,
    recruiter_pilots,
    recruiter_scorecards,
    scorecard_recruiters,
    scorecard_totals,
)
from recruitment import models as rec
from tests import factories as f
from tests.dashboard.conftest import page_queries
from workers import models as wrk

pytestmark = pytest.mark.django_db

LIST = reverse("programme:scorecards")


def page(pk: int) -> str:
    return reverse("programme:scorecard", args=[pk])


def client_for(user: pil.User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def paid_tranche(contract: fin.RbfContract, staff: pil.User, code: str = "2026-Q1") -> fin.Tranche:
    return f.TrancheFactory(
        contract=contract, code=code, status=fin.TrancheStatus.PAID, approved_by=staff, approved_at=timezone.now()
    )


@pytest.fixture
def world(funder_org):  # noqa: ANN001, ANN201
    """Alfa provides a contract the funder pays (K1) and one another payer pays (K2); Beta works in the same
    pilot with no contract; Gamma works in another pilot. Alfa's figures are known by hand (see the tests)."""
    staff = f.StaffUserFactory()
    p1 = f.PilotFactory(name="Berries H-2A")
    p2 = f.PilotFactory(name="Aged care Canada")
    alfa = f.RecruiterFactory(organisation__name="Agencia Alfa", certifications=["iris"])
    beta = f.RecruiterFactory(organisation__name="Agencia Beta", licence_expires_on=days_ago(3))
    gamma = f.RecruiterFactory(organisation__name="Agencia Gamma", licence_expires_on=days_ago(-30))
    for recruiter, pilot in ((alfa, p1), (beta, p1), (gamma, p2)):
        f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=pilot, quota=10)

    k1 = f.RbfContractFactory(reference="K1-FUNDER", pilot=p1, payer=funder_org, provider=alfa.organisation)
    k2 = f.RbfContractFactory(reference="K2-OTHER", pilot=p1, provider=alfa.organisation)
    placed_k1 = f.OutcomeMetricFactory(contract=k1, code="PLACED")
    placed_k2 = f.OutcomeMetricFactory(contract=k2, code="PLACED")

    stages = [Stage.REGISTERED, Stage.IN_TRAINING, Stage.DEPLOYED, Stage.WORKING, Stage.VISA_DENIED, Stage.WITHDRAWN]
    w = [f.WorkerFactory(recruiter=alfa, pilot=p1, current_stage=stage) for stage in stages]
    opening = f.JobOpeningFactory(pilot=p1)
    f.EmploymentFactory(worker=w[2], job_opening=opening, start_date=days_ago(200))
    f.EmploymentFactory(
        worker=w[3], job_opening=opening, start_date=days_ago(250), end_date=days_ago(200), separation_reason="quit"
    )
    f.FeeReportFactory(worker=w[0], category=wrk.FeeCategory.MEDICAL, amount=Decimal("350.00"), currency="GTQ")
    f.FeeReportFactory(worker=w[0], category=wrk.FeeCategory.MEDICAL, amount=Decimal("150.00"), currency="GTQ")
    f.FeeReportFactory(worker=w[1], amount=Decimal("0"), currency="GTQ")  # a zero report is no finding

    jan = datetime.date(2026, 1, 20)
    verified_k1 = f.OutcomeClaimFactory(metric=placed_k1, worker=w[2], status="verified", verified_on=jan)
    f.OutcomeClaimFactory(metric=placed_k1, worker=w[3], status="rejected", rejection_reason="No attestation")
    verified_k2 = f.OutcomeClaimFactory(metric=placed_k2, worker=w[2], status="verified", verified_on=jan)
    f.OutcomeClaimFactory(metric=placed_k2, worker=w[3], in_review=True)
    q1 = paid_tranche(k1, staff)
    f.PaymentLineFactory(tranche=q1, claim=verified_k1, amount=Decimal("500.00"))
    f.DisbursementFactory(tranche=q1, amount=Decimal("500.00"))
    f.PaymentLineFactory(tranche=f.TrancheFactory(contract=k2), claim=verified_k2, amount=Decimal("300.00"))

    f.WorkerFactory(recruiter=beta, pilot=p1, current_stage=Stage.WORKING)
    f.WorkerFactory(recruiter=beta, pilot=p1, current_stage=Stage.SCREENED)
    f.WorkerFactory(recruiter=gamma, pilot=p2, current_stage=Stage.DEPLOYED)
    return {"staff": staff, "p1": p1, "p2": p2, "alfa": alfa, "beta": beta, "gamma": gamma, "k1": k1, "k2": k2}


def names(response) -> list[str]:  # noqa: ANN001
    return [row.card.name for row in response.context["rows"]]


# --- Who sees what ---------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    for url in (LIST, page(world["alfa"].pk)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_staff_compare_every_recruiter_with_links_to_the_records(staff_client, world):
    response = staff_client.get(LIST)

    assert response.status_code == 200
    assert names(response) == ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]
    html = response.content.decode()
    alfa = world["alfa"].pk
    assert f'href="/workers/?recruiter={alfa}"' in html
    assert f'href="/workers/?recruiter={alfa}&amp;fee_reported=yes"' in html
    assert f'href="/claims/?recruiter={alfa}&amp;status=rejected"' in html
    assert f'href="/claims/?recruiter={alfa}&amp;status=in_review"' in html
    assert 'class="bars"' in html
    assert "Licence expired" in html and "Licence expires in 30 days" in html


def test_the_figures_shown_are_the_selectors(staff_client, world):
    response = staff_client.get(LIST)

    recruiters = list(rec.Recruiter.objects.select_related("organisation").order_by("organisation__name"))
    assert [row.card for row in response.context["rows"]] == recruiter_scorecards(recruiters=recruiters)
    alfa = response.context["rows"][0].card
    # By hand: 4 past screening (in training, deployed, working, visa denied), 2 placed; 2 employed 180 days
    # ago, 1 retained; 1 worker with fees; claims and amounts over both contracts.
    assert (alfa.workers, alfa.placed, alfa.past_screening) == (6, 2, 4)
    assert (alfa.retention_retained, alfa.retention_eligible, alfa.workers_with_fees) == (1, 2, 1)
    assert alfa.claims_by_status == {"claimed": 1, "verified": 2, "rejected": 1, "reversed": 0}
    assert alfa.claims_in_review == 1
    assert alfa.amounts["USD"].verified == Decimal("800.00") and alfa.amounts["USD"].paid == Decimal("500.00")
    html = response.content.decode()
    assert "50.0 %" in html and "2 of 4" in html and "1 of 2" in html
    assert "GTQ 500.00" in html  # medical fees of Alfa: 350 + 150; the zero report is left out
    assert "USD 800.00" in html and "USD 300.00" in html  # verified; due (the open K2 tranche)
    totals = response.context["totals"]
    assert totals.workers == 9 and totals.placed == 4 and totals.past_screening == 6


def test_staff_read_any_scorecard_with_figures_in_words(staff_client, world):
    response = staff_client.get(page(world["alfa"].pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "2 of 4</strong> workers past screening were placed" in html
    assert "1 of 2</strong> workers whose job started at least 180 days ago stayed 180 days" in html
    assert "The pilots are zero-fee" in html and "Medical costs" in html and "GTQ 500.00" in html
    assert "MINTRAB" not in html  # factories' licence numbers are LIC-…
    assert world["alfa"].licence_number in html
    assert "IRIS (IOM International Recruitment Integrity System)" in html
    assert "Signed on 01 Nov 2025" in html
    assert f'href="/workers/?recruiter={world["alfa"].pk}&amp;stage=working"' in html
    assert f'href="/claims/?recruiter={world["alfa"].pk}&amp;status=rejected"' in html
    assert f'href="/contracts/{world["k1"].pk}/"' in html  # the pilot's contract
    assert f'href="/pilots/{world["p1"].pk}/"' in html
    assert response.context["card"] == recruiter_scorecards(recruiters=[world["alfa"]])[0]
    assert staff_client.get(page(999999)).status_code == 404


def test_a_licence_about_to_expire_and_an_expired_one_are_flagged(staff_client, world):
    expired = staff_client.get(page(world["beta"].pk)).content.decode()
    assert "expired on" in expired and "Licence expired" in expired
    expiring = staff_client.get(page(world["gamma"].pk)).content.decode()
    assert "in 30 days" in expiring and "Licence expiring" in expiring


def test_a_funder_sees_the_recruiters_of_its_contracts_with_plain_numbers(funder_client, world):
    response = funder_client.get(LIST)

    assert response.status_code == 200
    assert names(response) == ["Agencia Alfa"]
    html = response.content.decode()
    assert "/workers/" not in html and "/claims/" not in html
    # Claims and amounts under the contract it pays only: K1, not K2 (another payer's).
    card = response.context["rows"][0].card
    assert card == recruiter_scorecards(recruiters=[world["alfa"]], payer_id=world["k1"].payer_id)[0]
    assert card.claims_by_status == {"claimed": 0, "verified": 1, "rejected": 1, "reversed": 0}
    assert card.claims_in_review == 0
    assert card.amounts["USD"].verified == Decimal("500.00")
    assert "USD 800.00" not in html and "USD 300.00" not in html
    assert "only the contracts you pay" in html


def test_a_funder_opens_the_scorecard_of_a_recruiter_it_pays_and_no_other(funder_client, world):
    response = funder_client.get(page(world["alfa"].pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "/workers/" not in html and "/claims/" not in html
    assert f'href="/contracts/{world["k1"].pk}/"' in html and f"/contracts/{world['k2'].pk}/" not in html
    assert "USD 500.00" in html and "USD 800.00" not in html

    assert funder_client.get(page(world["beta"].pk)).status_code == 404
    assert funder_client.get(page(world["gamma"].pk)).status_code == 404


def test_a_funder_paying_no_recruiter_sees_none(client, world):
    client.force_login(f.UserFactory(role=pil.Role.FUNDER, organisation=f.OrganisationFactory(kind="funder")))
    response = client.get(LIST)
    assert response.status_code == 200 and names(response) == []
    assert "None of the contracts you pay" in response.content.decode()
    assert client.get(page(world["alfa"].pk)).status_code == 404


def test_a_recruiter_is_sent_from_the_list_to_its_own_scorecard(client, world):
    client.force_login(f.RecruiterUserFactory(organisation=world["alfa"].organisation))
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"] == page(world["alfa"].pk)


def test_a_recruiter_reads_its_own_scorecard_without_links_into_staff_pages(client, world):
    client.force_login(f.RecruiterUserFactory(organisation=world["alfa"].organisation))
    response = client.get(page(world["alfa"].pk))

    assert response.status_code == 200
    html = response.content.decode()
    for staff_page in ("/workers/", "/claims/", "/contracts/", "/pilots/", "/verification/"):
        assert f'href="{staff_page}' not in html  # the portal's own pages (/portal/workers/…) are its
    assert "Your organisation's scorecard (read-only)" in html
    assert "K1-FUNDER" in html  # its contract is named, not linked
    assert response.context["card"] == recruiter_scorecards(recruiters=[world["alfa"]])[0]


def test_another_recruiters_scorecard_is_a_404_for_a_recruiter(client, world):
    client.force_login(f.RecruiterUserFactory(organisation=world["alfa"].organisation))
    assert client.get(page(world["beta"].pk)).status_code == 404


def test_a_recruiter_user_without_a_profile_is_told_so_not_redirected_in_circles(client, world):
    organisation = f.OrganisationFactory(kind=pil.OrganisationKind.RECRUITER)
    client.force_login(f.UserFactory(role=pil.Role.RECRUITER, organisation=organisation))
    response = client.get(LIST)
    assert response.status_code == 200
    assert "No scorecard yet" in response.content.decode()


# --- Sorting, filtering, paging --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        ("-name", ["Agencia Gamma", "Agencia Beta", "Agencia Alfa"]),
        ("-workers", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        ("workers", ["Agencia Gamma", "Agencia Beta", "Agencia Alfa"]),
        # Rates: Beta 1/1, Gamma 1/1 (ties by name), Alfa 2/4; a missing rate would come last.
        ("-placement", ["Agencia Beta", "Agencia Gamma", "Agencia Alfa"]),
        ("placement", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        # Retention: only Alfa has anyone employed 180 days ago; the others have no rate and come last.
        ("retention", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        ("-retention", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        ("-fees", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        ("-rejected", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        ("-in_review", ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]),
        ("verified", ["Agencia Beta", "Agencia Gamma", "Agencia Alfa"]),
        ("placed", ["Agencia Beta", "Agencia Gamma", "Agencia Alfa"]),
    ],
)
def test_the_table_sorts_by_a_column(staff_client, world, sort, expected):
    response = staff_client.get(LIST, {"sort": sort})
    assert response.status_code == 200
    assert names(response) == expected
    assert response.context["sort"] == sort
    assert response.context["messages_inline"] == []


@pytest.mark.parametrize("bad", ["zzz", "--workers", "-", "workers;drop", "organisation__name", "é" * 300])
def test_a_bad_sort_falls_back_to_names_with_a_message(staff_client, world, bad):
    response = staff_client.get(LIST, {"sort": bad})
    assert response.status_code == 200
    assert names(response) == ["Agencia Alfa", "Agencia Beta", "Agencia Gamma"]
    assert response.context["sort"] == "name"
    assert "is not a column to sort by" in response.content.decode()


def test_the_header_links_reverse_the_current_order(staff_client, world):
    columns = staff_client.get(LIST, {"sort": "-workers"}).context["columns"]
    assert columns["workers"] == {"param": "workers", "aria": "descending", "arrow": " ▼"}
    assert columns["name"]["param"] == "name" and columns["placement"]["param"] == "-placement"


def test_the_pilot_filter_keeps_the_recruiters_assigned_to_it(staff_client, world):
    response = staff_client.get(LIST, {"pilot": world["p2"].pk})
    assert names(response) == ["Agencia Gamma"]
    assert response.context["pilot"] == world["p2"]
    assert names(staff_client.get(LIST, {"pilot": world["p1"].pk})) == ["Agencia Alfa", "Agencia Beta"]


@pytest.mark.parametrize("bad", ["abc", "999999", "-1", "³"])
def test_a_bad_pilot_shows_every_recruiter_with_a_message(staff_client, world, bad):
    response = staff_client.get(LIST, {"pilot": bad})
    assert response.status_code == 200
    assert len(names(response)) == 3
    assert "There is no such pilot among yours" in response.content.decode()


def test_a_funder_cannot_filter_by_a_pilot_it_does_not_fund(funder_client, world):
    response = funder_client.get(LIST, {"pilot": world["p2"].pk})
    assert names(response) == ["Agencia Alfa"]  # the filter is ignored, with a message
    assert "There is no such pilot among yours" in response.content.decode()
    assert [p.pk for p in response.context["pilots"]] == [world["p1"].pk]


def test_an_empty_pilot_says_so(staff_client, world):
    empty = f.PilotFactory(name="Trucking Mexico")
    response = staff_client.get(LIST, {"pilot": empty.pk})
    assert names(response) == []
    assert "No recruiter is assigned to Trucking Mexico" in response.content.decode()


def test_a_bad_page_number_shows_a_page(staff_client, world):
    for bad in ("x", "0", "999"):
        assert staff_client.get(LIST, {"page": bad}).status_code == 200


# --- Selectors --------------------------------------------------------------------------------------------


def test_scorecard_recruiters_by_role(world, funder_user):
    assert list(scorecard_recruiters(user=world["staff"])) == [world["alfa"], world["beta"], world["gamma"]]
    assert list(scorecard_recruiters(user=funder_user)) == [world["alfa"]]
    recruiter_user = f.RecruiterUserFactory(organisation=world["beta"].organisation)
    assert list(scorecard_recruiters(user=recruiter_user)) == [world["beta"]]
    assert list(scorecard_recruiters(user=world["staff"], pilot_id=world["p1"].pk)) == [world["alfa"], world["beta"]]
    assert list(scorecard_recruiters(user=None)) == []


def test_recruiter_pilots_count_workers_and_name_a_visible_contract(world, funder_user):
    (assignment,) = recruiter_pilots(recruiter=world["alfa"], user=world["staff"])
    assert assignment.pilot == world["p1"] and assignment.workers == 6
    assert assignment.contract_id == world["k1"].pk  # the earliest of K1 and K2 (same dates: lowest id)
    (seen_by_funder,) = recruiter_pilots(recruiter=world["alfa"], user=funder_user)
    assert seen_by_funder.contract_reference == "K1-FUNDER"
    assert recruiter_pilots(recruiter=world["gamma"], user=funder_user) == []  # a pilot the funder does not fund


def test_scorecard_totals_add_up_and_recompute_rates(world):
    cards = recruiter_scorecards(recruiter_ids=[world["alfa"].pk, world["beta"].pk, world["gamma"].pk])
    totals = scorecard_totals(cards)
    assert totals.workers == sum(card.workers for card in cards) == 9
    assert totals.placement_rate == Decimal("0.6667")  # 4 of 6
    assert totals.amounts["USD"].verified == Decimal("800.00")
    assert [(fee.category, fee.amount, fee.reports) for fee in totals.fees] == [("medical", Decimal("500.00"), 2)]


@pytest.mark.parametrize(
    ("expires_in", "state"),
    [(-1, "expired"), (0, "expiring"), (90, "expiring"), (91, "valid"), (None, "unknown")],
)
def test_licence_status(expires_in, state):
    today = datetime.date(2026, 6, 1)
    expires = None if expires_in is None else today + datetime.timedelta(days=expires_in)
    recruiter = rec.Recruiter(licence_expires_on=expires)
    assert licence_status(recruiter=recruiter, today=today).state == state


# --- Query budget -----------------------------------------------------------------------------------------


def grow(*, recruiters: int, workers: int, payer: pil.Organisation, staff: pil.User) -> list[rec.Recruiter]:
    """Recruiters, each with a contract the payer pays, an assignment, workers with employments, fees, claims,
    payment lines and a disbursement."""
    made = []
    for _ in range(recruiters):
        recruiter = f.RecruiterFactory()
        contract = f.RbfContractFactory(payer=payer, provider=recruiter.organisation)
        f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=contract.pilot)
        metric = f.OutcomeMetricFactory(contract=contract)
        tranche = paid_tranche(contract, staff)
        f.DisbursementFactory(tranche=tranche, amount=Decimal("100.00"))
        for _ in range(workers):
            worker = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot, current_stage=Stage.WORKING)
            f.EmploymentFactory(worker=worker, start_date=days_ago(200))
            f.FeeReportFactory(worker=worker)
            claim = f.OutcomeClaimFactory(metric=metric, worker=worker, status="verified", verified_on=days_ago(1))
            f.PaymentLineFactory(tranche=tranche, claim=claim)
        made.append(recruiter)
    return made


def count(client: Client, url: str, **params: str) -> int:
    with page_queries() as queries:
        response = client.get(url, params)
        assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_list_runs_a_fixed_number_of_queries(funder_org, funder_user):
    staff = f.StaffUserFactory()
    first = grow(recruiters=2, workers=2, payer=funder_org, staff=staff)
    staff_client, funder_client = client_for(staff), client_for(funder_user)
    pilot = str(first[0].assignments.get().pilot_id)

    def counts() -> list[int]:
        filtered = count(staff_client, LIST, pilot=pilot, sort="-placement")
        return [count(staff_client, LIST), count(funder_client, LIST), filtered]

    few = counts()
    grow(recruiters=6, workers=5, payer=funder_org, staff=staff)
    assert counts() == few
    assert len(staff_client.get(LIST).context["rows"]) == 8


def test_a_scorecard_runs_a_fixed_number_of_queries(funder_org, funder_user):
    staff = f.StaffUserFactory()
    (recruiter,) = grow(recruiters=1, workers=2, payer=funder_org, staff=staff)
    clients = [
        client_for(staff),
        client_for(funder_user),
        client_for(f.RecruiterUserFactory(organisation=recruiter.organisation)),
    ]
    url = page(recruiter.pk)
    few = [count(client, url) for client in clients]

    contract = recruiter.organisation.contracts_as_provider.get()
    tranche = contract.tranches.get()
    metric = contract.metrics.get()
    for _ in range(20):
        worker = f.WorkerFactory(recruiter=recruiter, pilot=contract.pilot, current_stage=Stage.DEPLOYED)
        f.FeeReportFactory(worker=worker, category=wrk.FeeCategory.TRAVEL_LODGING, currency="USD")
        claim = f.OutcomeClaimFactory(metric=metric, worker=worker, status="verified", verified_on=days_ago(1))
        f.PaymentLineFactory(tranche=tranche, claim=claim)
    f.RecruiterAssignmentFactory(recruiter=recruiter)  # a second pilot
    grow(recruiters=3, workers=2, payer=funder_org, staff=staff)  # other recruiters do not count either

    assert [count(client, url) for client in clients] == few
