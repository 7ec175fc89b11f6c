"""The claims list: the records behind the numbers of other pages, filtered and paged."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from financing import services
from financing.models import ClaimStatus, MetricKind
from tests import factories as f
from tests.dashboard.conftest import page_queries
from tests.dashboard.test_queue import texts

pytestmark = pytest.mark.django_db

URL = reverse("financing:claims")


def ids(response) -> list[int]:  # noqa: ANN001
    return [claim.pk for claim in response.context["claims"]]


def at(day: datetime.date) -> datetime.datetime:
    """Noon UTC of ``day``: when a claim was made."""
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


@pytest.fixture
def world():  # noqa: ANN201
    """Two contracts in two pilots, two recruiters, claims in every status, each claimed two days after
    its outcome (so the newest claim is the latest outcome here)."""
    placed = f.OutcomeMetricFactory(code="PLACED")
    fee = f.OutcomeMetricFactory(code="ZERO_FEE", kind=MetricKind.ZERO_FEE, contract=placed.contract)
    other = f.OutcomeMetricFactory(code="PLACED")  # another contract, another pilot
    recruiter = f.RecruiterFactory()
    claims = {
        "claimed": f.OutcomeClaimFactory(
            metric=placed, worker__recruiter=recruiter, achieved_on=datetime.date(2026, 3, 1),
        ),
        "verified": f.OutcomeClaimFactory(
            metric=placed, status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 2, 20),
            achieved_on=datetime.date(2026, 2, 1),
        ),
        "rejected": f.OutcomeClaimFactory(
            metric=fee, status=ClaimStatus.REJECTED, rejection_reason="The survey reports a fee.",
            achieved_on=datetime.date(2026, 1, 15), worker__recruiter=recruiter,
        ),
        "review": f.OutcomeClaimFactory(metric=fee, achieved_on=datetime.date(2026, 1, 10)),
        "other": f.OutcomeClaimFactory(metric=other, achieved_on=datetime.date(2026, 1, 5)),
    }  # fmt: skip
    for claim in claims.values():
        claim.claimed_at = at(claim.achieved_on + datetime.timedelta(days=2))
        claim.save(update_fields=["claimed_at"])
    services.claim_send_to_review(claim=claims["review"], rule="zero_fee", reason="Both.", facts={"fee_paid": True})
    return {"placed": placed, "fee": fee, "other": other, "recruiter": recruiter, **claims}


# --- Who may open it ------------------------------------------------------------------------------------


def test_staff_open_the_list(staff_client):
    assert staff_client.get(URL).status_code == 200


def test_funders_are_refused(funder_client):
    assert funder_client.get(URL).status_code == 403


def test_recruiters_are_refused(recruiter_client):
    assert recruiter_client.get(URL).status_code == 403


def test_anonymous_visitors_go_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- What it shows --------------------------------------------------------------------------------------


def test_every_claim_with_its_columns_newest_claim_first(staff_client, world):
    response = staff_client.get(URL)

    assert ids(response) == [world[k].pk for k in ("claimed", "verified", "rejected", "review", "other")]
    html = response.content.decode()
    headers = (
        "Worker", "Metric", "Contract", "Status", "Amount", "Claimed on", "Achieved on", "Verified on",
        "Rejection reason",
    )  # fmt: skip
    for header in headers:
        assert re.search(rf'<th scope="col" class="sortable[^"]*" aria-sort="[a-z]+"><a [^>]*>{header}<', html), header
    assert re.search(r'aria-sort="descending"><a [^>]*>Claimed on<', html)  # the default order, marked
    assert "the newest claim first" in " ".join(texts(response, "page-head"))
    verified = world["verified"]
    assert reverse("programme:worker", args=[verified.worker_id]) in html
    assert reverse("financing:contract", args=[verified.metric.contract_id]) in html
    assert "20 Feb 2026" in html and "01 Feb 2026" in html
    assert "The survey reports a fee." in html
    badges = texts(response, "badge")
    assert badges == ["Claimed", "Verified", "Rejected", "In review", "Claimed"]
    assert '<span class="badge badge-rejected">' in html
    assert "5 claims" in " ".join(texts(response, "page-head"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (lambda w: {"contract": w["other"].metric.contract_id}, ["other"]),
        (lambda w: {"metric": w["fee"].pk}, ["rejected", "review"]),
        (lambda w: {"metric": "PLACED"}, ["claimed", "verified", "other"]),  # a code: in every contract
        (lambda w: {"metric": "PLACED", "contract": w["placed"].contract_id}, ["claimed", "verified"]),
        (lambda w: {"status": "verified"}, ["verified"]),
        (lambda w: {"status": "claimed"}, ["claimed", "review", "other"]),
        (lambda w: {"status": "in_review"}, ["review"]),
        (lambda w: {"recruiter": w["recruiter"].pk}, ["claimed", "rejected"]),
        (lambda w: {"pilot": w["placed"].contract.pilot_id, "status": "rejected"}, ["rejected"]),
    ],
)
def test_the_filters(staff_client, world, query, expected):
    response = staff_client.get(URL, query(world))

    assert response.status_code == 200
    assert ids(response) == [world[k].pk for k in expected]


def test_a_filter_with_nothing_to_show_says_so(staff_client, world):
    response = staff_client.get(URL, {"contract": world["other"].metric.contract_id, "status": "reversed"})

    assert response.status_code == 200 and ids(response) == []
    assert "No claim matches these filters." in texts(response, "empty")[0]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"contract": "abc"}, "Contract: There is no contract abc among those you can see."),
        ({"contract": "999999"}, "Contract: There is no contract 999999 among those you can see."),
        ({"metric": "NOPE"}, "Metric: There is no metric NOPE among those you can see."),
        ({"metric": "999999"}, "Metric: There is no metric 999999 among those you can see."),
        ({"status": "bogus"}, "Status: bogus is not a claim status."),
        ({"recruiter": "x"}, "Recruiter: There is no recruiter x among those you can see."),
        ({"pilot": "0"}, "Pilot: There is no pilot 0 among those you can see."),
    ],
)
def test_bad_filters_are_a_message_naming_the_filter(staff_client, world, query, message):
    response = staff_client.get(URL, query)

    assert response.status_code == 400
    assert texts(response, "error") == [message]
    assert ids(response) == []  # never the unfiltered list passed off as the answer


def test_the_list_is_paged_by_50(staff_client):
    metric = f.OutcomeMetricFactory()
    f.OutcomeClaimFactory.create_batch(60, metric=metric)

    first = staff_client.get(URL, {"status": "claimed"})
    second = staff_client.get(URL, {"status": "claimed", "page": 2})

    assert (len(ids(first)), len(ids(second))) == (50, 10)
    assert not set(ids(first)) & set(ids(second))
    assert "status=claimed&amp;page=2" in first.content.decode()  # the pager keeps the filters
    assert "60 claims" in " ".join(texts(first, "page-head"))


def test_the_list_runs_the_same_few_queries_for_5_or_60_claims(staff_client, world):
    with page_queries() as few:
        assert staff_client.get(URL).status_code == 200
    for _ in range(5):
        f.OutcomeClaimFactory.create_batch(11, metric=f.OutcomeMetricFactory())
    with page_queries() as many:
        response = staff_client.get(URL, {"status": "claimed"})
    assert len(ids(response)) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Newest first, and what each claim pays ----------------------------------------------------------------


def test_newest_first_means_the_newest_claim_across_pages(staff_client):
    """ "Newest" is when the claim was made (``claimed_at``), not its outcome's date: a late claim for an old
    outcome comes first, and page 2 carries on where page 1 stopped."""
    metric = f.OutcomeMetricFactory()
    start = timezone.now() - datetime.timedelta(days=100)
    claims = []
    for n in range(60):
        claim = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
        # Claimed in an order unlike the outcomes' (and the ids'): every 7th day, wrapping round.
        claim.claimed_at = start + datetime.timedelta(days=(n * 7) % 60)
        claim.save(update_fields=["claimed_at"])
        claims.append(claim)
    expected = [c.pk for c in sorted(claims, key=lambda c: (c.claimed_at, c.pk), reverse=True)]

    first, second = staff_client.get(URL), staff_client.get(URL, {"page": 2})

    assert ids(first) + ids(second) == expected
    assert "the newest claim first" in " ".join(texts(first, "page-head"))


def test_each_claim_shows_what_its_payment_lines_pay_in_the_contract_currency(staff_client):
    contract = f.RbfContractFactory(currency="MXN")
    tranche = f.TrancheFactory(contract=contract)
    paid = f.PaymentLineFactory(tranche=tranche, amount="8500.00")
    later = f.TrancheFactory(contract=contract, code="2026-Q2", start_date=datetime.date(2026, 4, 1),
                             end_date=datetime.date(2026, 6, 30), due_date=datetime.date(2026, 7, 31))  # fmt: skip
    f.PaymentLineFactory(tranche=later, claim=paid.claim, kind="adjustment", amount="-500.00")
    unpaid = f.OutcomeClaimFactory(metric=paid.claim.metric)

    response = staff_client.get(URL)

    rows = {claim.pk: claim for claim in response.context["claims"]}
    assert rows[paid.claim_id].amount == Decimal("8000.00")  # the payment and its adjustment together
    assert rows[unpaid.pk].amount is None
    html = response.content.decode()
    assert "MXN 8,000.00" in html
    assert "No payment line names this claim" in html
