"""The contracts list, the contract page, its CSV, "try terms", and approving and paying a tranche.

The contract of ``world`` is built so that every explanation has something to say: a total cap and a
unit cap that both bite in 2025-Q1, and a threshold metric whose unit is held back. Its dates are in
2025, so its tranches have ended whatever day the suite runs.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from financing.models import (
    ClaimStatus,
    Decision,
    Disbursement,
    MetricKind,
    OutcomeClaim,
    PaymentLine,
    RbfContract,
    Tranche,
    TrancheStatus,
    VerificationMethod,
)
from financing.services import schedule_recompute
from pilots.models import OrganisationKind
from tests import factories as f
from tests.dashboard.conftest import PAGE_QUERY_BUDGET, page_queries

pytestmark = pytest.mark.django_db

Q1_DAYS = [datetime.date(2025, 1, 5), datetime.date(2025, 1, 20), datetime.date(2025, 2, 2), datetime.date(2025, 2, 3)]


@dataclass
class World:
    contract: RbfContract
    placed: object
    retained: object
    claims: list[OutcomeClaim]
    q1: Tranche
    maker: object  # the staff user who verified the Q1 claims
    recruiter: object


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def _contract(*, payer, provider, **fields) -> RbfContract:  # noqa: ANN001
    defaults = {
        "start_date": datetime.date(2025, 1, 1),
        "end_date": datetime.date(2025, 12, 31),
        "cap_total": Decimal("1200.00"),
        "payer": payer,
        "provider": provider,
    }
    return f.RbfContractFactory(**{**defaults, **fields})


def _verified_claim(metric, *, day: datetime.date, worker, verifier=None) -> OutcomeClaim:  # noqa: ANN001
    claim = f.OutcomeClaimFactory(
        metric=metric, worker=worker, achieved_on=day, verified_on=day, status=ClaimStatus.VERIFIED
    )
    if verifier is not None:
        f.VerificationFactory(
            claim=claim, decision=Decision.VERIFIED, method=VerificationMethod.STAFF, decided_by=verifier, rule=""
        )
    return claim


@pytest.fixture
def world(funder_org, recruiter) -> World:  # noqa: ANN001
    maker = f.StaffUserFactory(first_name="Mara", last_name="Maker")
    contract = _contract(payer=funder_org, provider=recruiter.organisation, reference="H2A-TEST")
    f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=contract.pilot)
    placed = f.OutcomeMetricFactory(
        contract=contract, code="PLACED", name="Worker placed", price=Decimal("500.00"), cap_units=3, position=1
    )
    retained = f.OutcomeMetricFactory(
        contract=contract,
        code="RETAINED_180",
        name="Retained 180 days",
        kind=MetricKind.RETAINED_N,
        retention_days=180,
        price=Decimal("300.00"),
        threshold_rate=Decimal("0.8"),
        denominator_metric=placed,
        position=2,
    )
    workers = [f.WorkerFactory(pilot=contract.pilot, recruiter=recruiter) for _ in Q1_DAYS]
    workers[0].given_names, workers[0].family_names = "Rosa", "Xicará"
    workers[0].save()
    claims = [
        _verified_claim(placed, day=day, worker=worker, verifier=maker)
        for day, worker in zip(Q1_DAYS, workers, strict=True)
    ]
    claims.append(_verified_claim(retained, day=datetime.date(2025, 2, 10), worker=claims[0].worker))
    schedule_recompute(contract_id=contract.pk)
    q1 = Tranche.objects.get(contract=contract, code="2025-Q1")
    return World(contract, placed, retained, claims, q1, maker, recruiter)


@pytest.fixture
def other_contract() -> RbfContract:
    """A contract another funder pays."""
    payer = f.OrganisationFactory(kind=OrganisationKind.FUNDER, name="Other Fund")
    contract = _contract(payer=payer, provider=f.RecruiterFactory().organisation, reference="OTHER-1")
    f.OutcomeMetricFactory(contract=contract, code="PLACED")
    schedule_recompute(contract_id=contract.pk)
    return contract


def _url(name: str, *args: object) -> str:
    return reverse(f"financing:{name}", args=args)


# --- Who may open what -------------------------------------------------------------------------------------


def test_the_schedule_of_the_world_is_what_the_explanations_rely_on(world):
    lines = list(world.q1.lines.order_by("verified_on").values_list("amount", "capped", "reason"))
    assert lines == [
        (Decimal("500"), Decimal("0"), ""),
        (Decimal("500"), Decimal("0"), ""),
        (Decimal("200"), Decimal("300"), "cap_total"),
        (Decimal("0"), Decimal("500"), "cap_units"),
    ]


@pytest.mark.parametrize("name", ["contract", "contract-csv"])
def test_staff_and_the_paying_funder_open_a_contract_another_funder_gets_404(
    name, world, other_contract, staff_user, funder_user
):
    assert _client(staff_user).get(_url(name, world.contract.pk)).status_code == 200
    assert _client(staff_user).get(_url(name, other_contract.pk)).status_code == 200
    assert _client(funder_user).get(_url(name, world.contract.pk)).status_code == 200
    assert _client(funder_user).get(_url(name, other_contract.pk)).status_code == 404


# The provider reads its contract page and CSV (tests/dashboard/test_portal.py); trying terms is staff's.
def test_a_recruiter_may_not_try_terms_even_on_its_own_contract(world, recruiter_client):
    assert recruiter_client.get(_url("contract-try", world.contract.pk)).status_code == 403


def test_a_recruiter_is_refused_the_list(recruiter_client):
    assert recruiter_client.get(_url("contracts")).status_code == 403


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("contracts", "get"),
        ("contract", "get"),
        ("contract-csv", "get"),
        ("contract-try", "get"),
        ("tranche-approve", "post"),
        ("tranche-disburse", "post"),
    ],
)
def test_anonymous_visitors_go_to_the_login_page(name, method, world, client):
    args = () if name == "contracts" else (world.q1.pk if name.startswith("tranche") else world.contract.pk,)
    response = getattr(client, method)(_url(name, *args))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_try_terms_is_for_staff_only(world, funder_client):
    assert funder_client.get(_url("contract-try", world.contract.pk)).status_code == 403
    assert funder_client.post(_url("contract-try", world.contract.pk), {}).status_code == 403


def test_a_funder_may_not_approve_or_pay_and_nothing_changes(world, funder_client):
    response = funder_client.post(_url("tranche-approve", world.q1.pk), {"expected_total": "1200.00"})
    assert response.status_code == 403
    response = funder_client.post(
        _url("tranche-disburse", world.q1.pk),
        {f"t{world.q1.pk}-amount": "1200", f"t{world.q1.pk}-paid_on": "2025-05-01", f"t{world.q1.pk}-reference": "X"},
    )
    assert response.status_code == 403
    world.q1.refresh_from_db()
    assert world.q1.status == TrancheStatus.OPEN and not Disbursement.objects.exists()


def test_a_recruiter_may_not_approve(world, recruiter_client):
    assert recruiter_client.post(_url("tranche-approve", world.q1.pk), {"expected_total": "1200"}).status_code == 403


def test_actions_answer_post_only(world, staff_client):
    assert staff_client.get(_url("tranche-approve", world.q1.pk)).status_code == 405
    assert staff_client.get(_url("tranche-disburse", world.q1.pk)).status_code == 405


# --- The list ---------------------------------------------------------------------------------------------------


def test_the_list_shows_amounts_against_the_cap_and_the_next_tranche(world, other_contract, staff_client):
    response = staff_client.get(_url("contracts"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "H2A-TEST" in html and "OTHER-1" in html
    assert "USD 1,200.00" in html  # the cap, and what the schedule holds: the cap was reached
    assert "of a USD 1,200.00 cap · USD 0.00 left" in html
    assert "2025-Q1" in html and "period ended · to approve" in html
    assert reverse("financing:contract", args=[world.contract.pk]) in html
    assert reverse("programme:pilot", args=[world.contract.pilot_id]) in html
    assert reverse("programme:scorecard", args=[world.recruiter.pk]) in html


def test_a_funder_lists_only_the_contracts_it_pays(world, other_contract, funder_client):
    html = funder_client.get(_url("contracts")).content.decode()
    assert "H2A-TEST" in html and "OTHER-1" not in html
    assert "1 results-based financing contract that you pay" in html


def test_the_list_filters_by_pilot(world, other_contract, staff_client):
    html = staff_client.get(_url("contracts"), {"pilot": other_contract.pilot_id}).content.decode()
    assert "OTHER-1" in html and "H2A-TEST" not in html
    # A pilot the viewer cannot see, or nonsense, shows everything rather than failing.
    html = staff_client.get(_url("contracts"), {"pilot": "nonsense"}).content.decode()
    assert "OTHER-1" in html and "H2A-TEST" in html


def test_an_empty_list_says_what_to_do(funder_client):
    html = funder_client.get(_url("contracts")).content.decode()
    assert "Your organisation pays no contract yet" in html


def test_the_list_has_a_constant_query_count(funder_org, staff_user, funder_user):
    def add_contracts(n: int) -> None:
        for _ in range(n):
            contract = _contract(payer=funder_org, provider=f.RecruiterFactory().organisation)
            metric = f.OutcomeMetricFactory(contract=contract, code="PLACED")
            _verified_claim(metric, day=datetime.date(2025, 3, 1), worker=f.WorkerFactory(pilot=contract.pilot))
            schedule_recompute(contract_id=contract.pk)

    counts = []
    for n in (1, 6):
        add_contracts(n)
        for user in (staff_user, funder_user):
            client = _client(user)
            with page_queries() as ctx:
                assert client.get(_url("contracts")).status_code == 200
            counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert max(counts) <= PAGE_QUERY_BUDGET


# --- The contract page ------------------------------------------------------------------------------------


def test_the_page_states_the_terms_in_words(world, staff_client):
    html = staff_client.get(_url("contract", world.contract.pk)).content.decode()
    assert "USD 500.00 for each verified unit." in html
    assert "Pays at most 3 units in all." in html
    assert "At most 1 unit per worker." in html
    assert "verified RETAINED_180 units are at least 80 % of verified PLACED units" in html
    assert "Quarterly, each due 30 days after its period ends" in html


def test_the_page_explains_caps_reached_and_units_held_back(world, staff_client):
    html = staff_client.get(_url("contract", world.contract.pk)).content.decode()
    assert (
        "The contract cap of USD 1,200.00 was reached on 02 Feb 2025 (tranche 2025-Q1): 1 is paid in part, "
        "USD 300.00 held back in all" in html
    )
    assert (
        "PLACED&#x27;s cap of 3 units was reached on 03 Feb 2025 (tranche 2025-Q1): 1 further verified unit is "
        "not paid (USD 500.00)." in html
    )
    assert "they stand at 1 of 4 (25 %). 1 verified unit is held back" in html


def test_staff_see_lines_by_worker_and_the_actions(world, staff_client):
    html = staff_client.get(_url("contract", world.contract.pk)).content.decode()
    assert "Rosa Xicará" in html
    assert reverse("programme:worker", args=[world.claims[0].worker_id]) in html
    assert "Contract&#x27;s total cap reached" in html  # a line's reason, in words
    assert reverse("financing:tranche-approve", args=[world.q1.pk]) in html
    assert reverse("financing:contract-try", args=[world.contract.pk]) in html
    assert 'name="expected_total" value="1200.000"' in html


def test_the_maker_sees_why_it_may_not_approve(world):
    html = _client(world.maker).get(_url("contract", world.contract.pk)).content.decode()
    assert "Maker-checker: you verified claims it pays" in html
    assert reverse("financing:tranche-approve", args=[world.q1.pk]) not in html


def test_a_funder_sees_counts_but_no_worker_and_no_button(world, funder_client):
    html = funder_client.get(_url("contract", world.contract.pk)).content.decode()
    assert "USD 1,200.00" in html and "2025-Q1" in html
    assert "Rosa" not in html and "Xicará" not in html
    assert reverse("programme:worker", args=[world.claims[0].worker_id]) not in html
    assert "/tranches/" not in html and '<form method="post"' not in html.split("</header>", 1)[1]
    assert reverse("financing:contract-try", args=[world.contract.pk]) not in html
    assert reverse("financing:claims") not in html
    assert "The contract cap of USD 1,200.00 was reached" in html


def test_adjustments_of_a_frozen_tranche_are_explained(world):
    approver = f.StaffUserFactory()
    from financing.services import claim_reverse, tranche_approve

    tranche_approve(tranche=world.q1, user=approver, expected_total=Decimal("1200.00"))
    claim_reverse(claim=world.claims[1], user=approver, reason="Attestation withdrawn")
    schedule_recompute(contract_id=world.contract.pk)
    html = _client(approver).get(_url("contract", world.contract.pk)).content.decode()
    # w2 paid 500 is reversed: w3 now gets 500 (was 200) and w4 200 (was 0, unit-capped): −500, +300, +200.
    assert "Tranche 2025-Q2 holds 3 adjustment lines (net USD 0.00)" in html


def _many_claims(world, n: int) -> None:  # noqa: ANN001
    """``n`` more verified PLACED claims in 2025-Q2 (unit-capped: the lines pay 0, but they are lines)."""
    workers = f.WorkerFactory.create_batch(n, pilot=world.contract.pilot, recruiter=world.recruiter)
    for worker in workers:
        _verified_claim(world.placed, day=datetime.date(2025, 5, 6), worker=worker)
    schedule_recompute(contract_id=world.contract.pk)


def test_the_page_shows_the_first_lines_and_points_to_the_rest(world, staff_client):
    _many_claims(world, 30)
    html = staff_client.get(_url("contract", world.contract.pk)).content.decode()
    assert "The first 25 of 30 lines" in html
    assert "5 more lines in the" in html


def test_the_page_has_a_constant_query_count_whatever_the_lines(world, staff_user, funder_user):
    counts = {}
    for n in (0, 40):
        _many_claims(world, n)
        for label, user in (("staff", staff_user), ("funder", funder_user), ("maker", world.maker)):
            client = _client(user)
            with page_queries() as ctx:
                assert client.get(_url("contract", world.contract.pk)).status_code == 200
            counts[(label, n)] = len(ctx.captured_queries)
    for label in ("staff", "funder", "maker"):
        assert counts[(label, 0)] == counts[(label, 40)], counts
    assert max(counts.values()) <= PAGE_QUERY_BUDGET


# --- Approve -------------------------------------------------------------------------------------------------------


def _approve(client: Client, tranche: Tranche, total: str | None = "1200.00"):  # noqa: ANN202
    data = {} if total is None else {"expected_total": total}
    return client.post(_url("tranche-approve", tranche.pk), data, follow=True)


def test_a_second_staff_member_approves_the_tranche(world):
    checker = f.StaffUserFactory()
    response = _approve(_client(checker), world.q1)
    assert response.redirect_chain[-1][0].endswith(f"#tranche-{world.q1.pk}")
    assert "Tranche 2025-Q1 approved for USD 1,200.00" in response.content.decode()
    world.q1.refresh_from_db()
    assert (world.q1.status, world.q1.approved_by) == (TrancheStatus.APPROVED, checker)


def test_the_maker_may_not_approve(world):
    html = _approve(_client(world.maker), world.q1).content.decode()
    assert "Tranche 2025-Q1 was not approved. Maker-checker" in html
    world.q1.refresh_from_db()
    assert world.q1.status == TrancheStatus.OPEN


def test_approving_a_total_that_changed_is_refused(world, staff_client):
    html = _approve(staff_client, world.q1, total="1000.00").content.decode()
    assert "The tranche now totals 1200.00, not 1000.00: review it again." in html
    world.q1.refresh_from_db()
    assert world.q1.status == TrancheStatus.OPEN


@pytest.mark.parametrize("total", [None, "", "twelve hundred", "NaN"])
def test_approving_without_the_total_seen_is_refused(total, world, staff_client):
    html = _approve(staff_client, world.q1, total=total).content.decode()
    assert "was not approved: the total you saw is missing" in html
    world.q1.refresh_from_db()
    assert world.q1.status == TrancheStatus.OPEN


def test_approving_twice_is_refused(world, staff_client):
    _approve(staff_client, world.q1)
    html = _approve(staff_client, world.q1).content.decode()
    assert "Tranche 2025-Q1 is already approved." in html


def test_a_running_tranche_cannot_be_approved(funder_org, recruiter, staff_client):
    today = timezone.localdate()
    contract = _contract(
        payer=funder_org,
        provider=recruiter.organisation,
        start_date=today.replace(day=1),
        end_date=today.replace(day=1) + datetime.timedelta(days=400),
        tranche_period="monthly",
    )
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED")
    _verified_claim(metric, day=today, worker=f.WorkerFactory(pilot=contract.pilot, recruiter=recruiter))
    schedule_recompute(contract_id=contract.pk)
    tranche = Tranche.objects.get(contract=contract, start_date=today.replace(day=1))
    html = staff_client.get(_url("contract", contract.pk)).content.decode()
    assert "it can be approved once its period has ended" in html
    html = _approve(staff_client, tranche, total="500.00").content.decode()
    assert f"runs until {tranche.end_date}: approve it after" in html
    tranche.refresh_from_db()
    assert tranche.status == TrancheStatus.OPEN


def test_an_unknown_tranche_is_404(staff_client):
    assert staff_client.post(_url("tranche-approve", 999999), {"expected_total": "1"}).status_code == 404
    assert staff_client.post(_url("tranche-disburse", 999999), {}).status_code == 404


# --- Disburse ----------------------------------------------------------------------------------------------------


@pytest.fixture
def approved(world) -> Tranche:  # noqa: ANN001
    from financing.services import tranche_approve

    return tranche_approve(tranche=world.q1, user=f.StaffUserFactory(), expected_total=Decimal("1200.00"))


def _pay(client: Client, tranche: Tranche, *, follow: bool = True, headers: dict | None = None, **values):  # noqa: ANN202
    data = {"amount": "1200.00", "paid_on": "2025-05-20", "reference": "WIRE-2025-0520", **values}
    prefixed = {f"t{tranche.pk}-{key}": value for key, value in data.items() if value is not None}
    return client.post(_url("tranche-disburse", tranche.pk), prefixed, follow=follow, headers=headers or {})


def test_the_page_offers_to_record_the_payment_prefilled(approved, staff_client):
    html = staff_client.get(_url("contract", approved.contract_id)).content.decode()
    assert f'name="t{approved.pk}-amount" value="1200.00"' in html
    assert f'name="t{approved.pk}-reference"' in html


def test_recording_the_payment_marks_the_tranche_paid(approved, staff_client):
    html = _pay(staff_client, approved).content.decode()
    assert "Payment of USD 1,200.00 for tranche 2025-Q1 recorded" in html
    approved.refresh_from_db()
    assert approved.status == TrancheStatus.PAID
    disbursement = approved.disbursements.get()
    assert (disbursement.amount, disbursement.paid_on, disbursement.reference) == (
        Decimal("1200.000"),
        datetime.date(2025, 5, 20),
        "WIRE-2025-0520",
    )
    assert "reference WIRE-2025-0520" in html and "Paid" in html


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"reference": ""}, "Payment reference: This field is required."),
        ({"reference": "   "}, "Payment reference: This field is required."),
        ({"amount": "1200.01"}, "Tranche 2025-Q1 has USD 1,200.00 left to pay (total USD 1,200.00, paid USD 0.00)"),
        ({"amount": "0"}, "a payment is more than zero and at most that"),
        ({"amount": "1200.005"}, "Give the amount in whole USD minor units."),
        ({"paid_on": "1900-01-01"}, "cannot precede its period, which starts 2025-01-01"),
        ({"reference": "W\x00"}, "Null characters are not allowed."),
        ({"reference": "W" * 121}, "Ensure this value has at most 120 characters"),
        ({"amount": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"amount": None}, "This field is required."),
        ({"paid_on": "not a date"}, "Paid on: Enter a valid date."),
        ({"paid_on": "2999-01-01"}, "the date is in the future"),
    ],
)
def test_bad_payments_are_refused_with_a_message_and_nothing_is_written(values, message, approved, staff_client):
    html = _pay(staff_client, approved, **values).content.decode()
    assert "Payment for tranche 2025-Q1 not recorded." in html
    assert message in html
    approved.refresh_from_db()
    assert approved.status == TrancheStatus.APPROVED and not Disbursement.objects.exists()


def test_an_open_tranche_cannot_be_paid(world, staff_client):
    html = _pay(staff_client, world.q1).content.decode()
    assert "Tranche 2025-Q1 must be approved before it is paid." in html
    assert not Disbursement.objects.exists()


def test_a_tranche_is_paid_once(approved, staff_client):
    _pay(staff_client, approved)
    html = _pay(staff_client, approved, reference="WIRE-AGAIN").content.decode()
    assert "Tranche 2025-Q1 is already paid in full." in html
    assert Disbursement.objects.count() == 1


def test_with_htmx_a_bad_payment_answers_the_form_with_its_errors(approved, staff_client):
    response = _pay(staff_client, approved, follow=False, headers={"HX-Request": "true"}, reference="")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<form") and "This field is required." in html
    assert 'value="1200.00"' in html  # what was typed stays
    assert not Disbursement.objects.exists()


def test_with_htmx_a_good_payment_reloads_the_page(approved, staff_client):
    response = _pay(staff_client, approved, follow=False, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"  # not a redirect to the same page's #fragment, which would not reload
    assert Disbursement.objects.count() == 1


# --- CSV --------------------------------------------------------------------------------------------------------


def _csv(client: Client, contract: RbfContract) -> list[dict[str, str]]:
    response = client.get(_url("contract-csv", contract.pk))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{contract.reference}-schedule.csv"' in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_has_every_line_with_workers_for_staff(world, staff_client):
    rows = _csv(staff_client, world.contract)
    lines, held = rows[:-1], rows[-1]
    assert len(lines) == PaymentLine.objects.filter(tranche__contract=world.contract).count() == 4
    # The retention claim its threshold holds back has no line: it follows the lines, with its rule.
    assert (held["kind"], held["metric"], held["amount"], held["capped"], held["reason"], held["units"]) == (
        "held_back", "RETAINED_180", "0.00", "300.00", "threshold_not_met", "0",
    )  # fmt: skip
    assert held["claim_id"] == str(world.claims[-1].pk) and held["tranche"] == "2025-Q1"
    first = rows[0]
    assert first["tranche"] == "2025-Q1" and first["due_date"] == "2025-04-30" and first["tranche_status"] == "open"
    assert first["metric"] == "PLACED" and first["claim_id"] == str(world.claims[0].pk)
    assert first["worker_id"] == str(world.claims[0].worker_id) and first["worker_name"] == "Rosa Xicará"
    assert (first["kind"], first["units"], first["amount"], first["capped"], first["currency"]) == (
        "payment", "1", "500.00", "0.00", "USD",
    )  # fmt: skip
    assert [(r["amount"], r["capped"], r["reason"], r["units"]) for r in lines[2:]] == [
        ("200.00", "300.00", "cap_total", "1"),
        ("0.00", "500.00", "cap_units", "0"),
    ]


def test_the_csv_names_no_worker_for_a_funder(world, funder_client):
    response = funder_client.get(_url("contract-csv", world.contract.pk))
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5  # four lines, one unit held back
    assert "worker_id" not in rows[0] and "worker_name" not in rows[0]
    assert "Rosa" not in text and "Xicará" not in text


def test_the_csv_defuses_formulas_in_names(world, staff_client):
    worker = world.claims[1].worker
    worker.given_names = "=HYPERLINK(1)"
    worker.save()
    rows = _csv(staff_client, world.contract)
    assert rows[1]["worker_name"].startswith("'=HYPERLINK")


def test_the_csv_streams_in_constant_queries(world, staff_client):
    counts = []
    for n in (0, 30):
        _many_claims(world, n)
        with page_queries() as ctx:
            response = staff_client.get(_url("contract-csv", world.contract.pk))
            rows = b"".join(response.streaming_content).decode().count("\n") - 1
        counts.append(len(ctx.captured_queries))
        assert rows == PaymentLine.objects.filter(tranche__contract=world.contract).count() + 1  # + the held unit
    assert counts[0] == counts[1] <= PAGE_QUERY_BUDGET


# --- Try terms ----------------------------------------------------------------------------------------------------


def _try_data(world, **changes) -> dict[str, str]:  # noqa: ANN001
    """The form as the page prefills it (metric 0 is PLACED, 1 is RETAINED_180), with ``changes``."""
    data = {
        "cap_total": "1200.00",
        "m0_price": "500.00", "m0_tiers": "", "m0_max_units_per_worker": "1", "m0_cap_units": "3",
        "m0_cap_amount": "", "m0_threshold_rate": "", "m0_denominator": "",
        "m1_price": "300.00", "m1_tiers": "", "m1_max_units_per_worker": "1", "m1_cap_units": "",
        "m1_cap_amount": "", "m1_threshold_rate": "0.8", "m1_denominator": "PLACED",
    }  # fmt: skip
    data.update(changes)
    return data


def test_try_terms_is_prefilled_with_the_terms_in_force(world, staff_client):
    response = staff_client.get(_url("contract-try", world.contract.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="cap_total" value="1200.00"' in html
    assert 'name="m0_price" value="500.00"' in html and 'name="m0_cap_units" value="3"' in html
    assert 'name="m1_threshold_rate" value="0.8"' in html
    assert '<option value="PLACED" selected>PLACED</option>' in html


def test_try_terms_shows_the_difference_and_writes_nothing(world, staff_client):
    lines_before = list(PaymentLine.objects.order_by("pk").values_list("pk", "amount", "capped", "reason"))
    data = _try_data(world, cap_total="", m0_cap_units="", m1_threshold_rate="", m1_denominator="")
    response = staff_client.post(_url("contract-try", world.contract.pk), data)
    assert response.status_code == 200
    html = response.content.decode()
    comparison = response.context["comparison"]
    # In force: 500 + 500 + 200 (total cap) + 0 (unit cap), RETAINED held back. Edited: 4 x 500 + 300.
    assert (comparison["total"].current, comparison["total"].simulated) == (Decimal("1200.00"), Decimal("2300.00"))
    assert comparison["total"].difference == Decimal("1100.00")
    by_metric = {row.label: (row.current, row.simulated) for row in comparison["metrics"]}
    assert by_metric == {"PLACED": (Decimal("1200.00"), Decimal("2000.00")), "RETAINED_180": (0, Decimal("300.00"))}
    assert "USD 1,100.00 more" in html
    assert "Contract cap: USD 1,200.00 → none" in html and "PLACED unit cap: 3 → none" in html
    assert list(PaymentLine.objects.order_by("pk").values_list("pk", "amount", "capped", "reason")) == lines_before
    world.contract.refresh_from_db()
    assert world.contract.cap_total == Decimal("1200.00")


def test_try_terms_takes_tiers(world, staff_client):
    data = _try_data(world, m0_price="", m0_tiers="1 at 100.00\nrest at 50", m0_cap_units="", cap_total="")
    response = staff_client.post(_url("contract-try", world.contract.pk), data)
    assert response.status_code == 200
    placed = next(row for row in response.context["comparison"]["metrics"] if row.label == "PLACED")
    assert placed.simulated == Decimal("250.00")  # 100 + 3 x 50


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"m0_price": "-5"}, "m0_price", "Ensure this value is greater than or equal to 0."),
        ({"m0_price": ""}, "m0_price", "Give a price or tiers."),
        ({"m0_tiers": "10 at 1.00\nrest at 2.00"}, "m0_tiers", "Give either a price or tiers, not both."),
        ({"m0_price": "", "m0_tiers": "ten at 1.00"}, "m0_tiers", "Line 1 (“ten at 1.00”)"),
        ({"m0_price": "", "m0_tiers": "10 at 1.00"}, "m0_tiers", "must be unbounded (“rest at …”), line 1."),
        ({"m1_denominator": ""}, "m1_denominator", "is required with a threshold rate"),
        ({"m1_threshold_rate": "1.5"}, "m1_threshold_rate", "Ensure this value is less than or equal to 1."),
        ({"m0_cap_amount": "10.001"}, "m0_cap_amount", "must be a whole number of USD minor units"),
        ({"cap_total": "0.005"}, "cap_total", "must be a whole number of USD minor units"),
        ({"m0_max_units_per_worker": "0"}, "m0_max_units_per_worker", "greater than or equal to 1"),
    ],
)
def test_try_terms_refuses_bad_terms_on_the_field(changes, field, message, world, staff_client):
    response = staff_client.post(_url("contract-try", world.contract.pk), _try_data(world, **changes))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert "comparison" not in response.context
    assert "Some terms cannot be applied" in response.content.decode()


def test_try_terms_has_a_constant_query_count(world, staff_client):
    counts = []
    for n in (0, 30):
        _many_claims(world, n)
        with page_queries() as ctx:
            response = staff_client.post(_url("contract-try", world.contract.pk), _try_data(world, cap_total=""))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= PAGE_QUERY_BUDGET


def test_a_draft_contract_without_metrics_has_helpful_empty_states(funder_org, recruiter, staff_client):
    contract = _contract(payer=funder_org, provider=recruiter.organisation, status="draft")
    html = staff_client.get(_url("contract", contract.pk)).content.decode()
    assert "This contract prices no outcome yet" in html
    assert "the contract is a draft, and its schedule is computed once it is active" in html
    assert "No cap has been reached and no verified unit is held back" in html
    response = staff_client.get(_url("contract-try", contract.pk))
    assert response.status_code == 200 and "there is nothing to try" in response.content.decode()


def test_try_terms_says_so_when_the_contract_terms_cannot_be_applied(funder_org, recruiter, staff_client):
    contract = _contract(payer=funder_org, provider=recruiter.organisation, tranche_period="explicit")
    f.OutcomeMetricFactory(contract=contract, code="PLACED")
    response = staff_client.get(_url("contract-try", contract.pk))
    assert response.status_code == 409
    assert "cannot be applied by the payment rules (tranches: must list at least one tranche)" in (
        response.content.decode()
    )


def test_a_later_tranche_waits_for_the_earlier_ones_and_says_so(world):
    checker = f.StaffUserFactory()
    q2 = Tranche.objects.get(contract=world.contract, code="2025-Q2")
    page = _client(checker).get(reverse("financing:contract", args=[world.contract.pk])).content.decode()
    assert "Approve tranche 2025-Q1 first: tranches are approved in order." in page

    response = _approve(_client(checker), q2)

    assert "Approve tranche 2025-Q1 first: tranches are approved in order." in response.content.decode()
    q2.refresh_from_db()
    assert q2.status == TrancheStatus.OPEN
