"""Sorting the staff lists by any column shown (``?sort=col`` / ``?sort=-col``), with the pages they already had.

Each expected order is computed here in Python from what the rows hold, the id breaking ties, and compared
with the page: every column both ways. The workers list pages by keyset cursor, so it is walked page by page
(three rows a page) forwards and back in every order; the other lists page by number.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from financing.models import ClaimStatus, Decision
from lamp.listing import Sorting, SortRefused
from pilots.stages import Stage
from tests import factories as f
from workers.selectors import WORKER_SORTING, WorkerFilters, worker_list_page

pytestmark = pytest.mark.django_db

WORKERS, CLAIMS = reverse("workers:list"), reverse("financing:claims")
CONTRACTS, DECISIONS = reverse("financing:contracts"), reverse("financing:decisions")


def ordered(
    rows: list[Any], key: Callable[[Any], tuple], *, descending: bool, nullable: int | None = None
) -> list[int]:
    """The ids of ``rows`` sorted by ``key`` (which ends with the id); with ``nullable``, rows whose key at
    that position is ``None`` come last either way, in id order the same way."""
    present = [r for r in rows if nullable is None or key(r)[nullable] is not None]
    missing = [r for r in rows if r not in present]
    result = sorted(present, key=key, reverse=descending)
    result += sorted(missing, key=lambda r: r.pk, reverse=descending)
    return [r.pk for r in result]


def header(html: str, label: str) -> str:
    match = re.search(
        rf'<th scope="col" class="sortable[^"]*" aria-sort="([a-z]+)"><a href="\?([^"]*)"[^>]*>{label}<', html
    )
    assert match, label
    return match.group(1)


# --- The workers list -------------------------------------------------------------------------------------


@pytest.fixture
def workers():  # noqa: ANN201
    """Nine workers who differ in every column the list shows (ASCII names: no collation subtleties)."""
    pilots = [f.PilotFactory(name="Bravo pilot"), f.PilotFactory(name="Alpha pilot")]
    recruiters = [
        f.RecruiterFactory(organisation__name="Zeta Agency"),
        f.RecruiterFactory(organisation__name="Eta Agency"),
    ]
    rows = [
        # family, given, nationality, gender, stage, season, document, registered on
        ("Perez", "Ana", "GT", "female", Stage.WORKING, 1, "P00004181U", datetime.date(2025, 3, 1)),
        ("Lopez", "Juan", "MX", "male", Stage.REGISTERED, 2, "P00000002A", datetime.date(2025, 1, 9)),
        ("Perez", "Ana", "HN", "female", Stage.SCREENED, 1, "P00000003C", datetime.date(2025, 6, 2)),
        ("Coj", "Rosa", "GT", "non_binary", Stage.WITHDRAWN, 3, "P00000009B", None),
        ("Ajus", "Luis", "PH", "male", Stage.DEPLOYED, 1, "X12345678Z", datetime.date(2024, 11, 30)),
        ("Tzoc", "Eva", "SV", "undisclosed", Stage.VISA_ISSUED, 2, "P00000007A", datetime.date(2025, 3, 1)),
        ("Lopez", "Berta", "MX", "female", Stage.RETURNED, 1, "N1234567", datetime.date(2025, 2, 14)),
        ("Xicara", "Ines", "GT", "female", Stage.MATCHED, 1, None, datetime.date(2025, 8, 8)),
        ("Baten", "Olga", "GT", "male", Stage.WORKING, 2, "P00000005D", datetime.date(2025, 3, 1)),
    ]
    made = []
    for n, (family, given, nationality, gender, stage, season, document, registered) in enumerate(rows):
        unhashed = {} if document else {"identity_document_hash": ""}
        worker = f.WorkerFactory(
            family_names=family, given_names=given, nationality=nationality, gender=gender, current_stage=stage,
            season=season, identity_document_number=document, pilot=pilots[n % 2], recruiter=recruiters[n % 3 % 2],
            **unhashed,
        )  # fmt: skip
        if registered:
            f.JourneyEventFactory(worker=worker, occurred_on=registered)
        worker.registered = registered or worker.created_at.date()
        made.append(worker)
    return made


WORKER_KEYS: dict[str, Callable[[Any], tuple]] = {
    "id": lambda w: (w.pk,),
    "name": lambda w: (w.family_names, w.given_names, w.pk),
    "nationality": lambda w: (w.nationality.code, w.pk),
    "gender": lambda w: (w.gender, w.pk),
    "pilot": lambda w: (w.pilot.name, w.pk),
    "recruiter": lambda w: (w.recruiter.organisation.name, w.pk),
    "stage": lambda w: (Stage.values.index(w.current_stage), w.pk),
    "season": lambda w: (w.season, w.pk),
    "document": lambda w: (w.identity_document_masked[-4:], w.pk),
    "registered": lambda w: (w.registered, w.pk),
}


def test_every_column_of_the_workers_list_can_be_sorted():
    assert set(WORKER_KEYS) == set(WORKER_SORTING.columns)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", sorted(WORKER_KEYS))
def test_the_workers_list_sorted_by_each_column(staff_client, workers, key, descending):
    for worker in workers:
        worker.refresh_from_db()
    sort = f"-{key}" if descending else key

    response = staff_client.get(WORKERS, {"sort": sort})

    assert response.status_code == 200
    expected = ordered(workers, WORKER_KEYS[key], descending=descending)
    assert [w.pk for w in response.context["page"].workers] == expected
    html = response.content.decode()
    if key != "id":
        assert header(html, {"document": "Identity doc."}.get(key, key.capitalize())) == (
            "descending" if descending else "ascending"
        )
    assert f'name="sort" value="{sort}"' in html  # the filter form keeps the order


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", sorted(WORKER_KEYS))
def test_the_workers_cursor_walks_every_order_forwards_and_back(staff_user, workers, key, descending):
    for worker in workers:
        worker.refresh_from_db()
    sort = WORKER_SORTING.parse(f"-{key}" if descending else key)
    expected = ordered(workers, WORKER_KEYS[key], descending=descending)

    pages, cursor = [], None
    while True:
        page = worker_list_page(user=staff_user, filters=WorkerFilters(), cursor=cursor, size=3, sort=sort)
        pages.append([w.pk for w in page.workers])
        if page.older is None:
            break
        cursor = type(page.older).parse(str(page.older))  # through its URL form, as a link would
    assert [pk for ids in pages for pk in ids] == expected
    assert [len(ids) for ids in pages] == [3, 3, 3]

    back = worker_list_page(user=staff_user, filters=WorkerFilters(), cursor=page.newer, size=3, sort=sort)
    assert [w.pk for w in back.workers] == pages[1]
    back = worker_list_page(user=staff_user, filters=WorkerFilters(), cursor=back.newer, size=3, sort=sort)
    assert [w.pk for w in back.workers] == pages[0] and back.newer is None


def test_sorting_keeps_the_filters(staff_client, workers):
    response = staff_client.get(WORKERS, {"sort": "-name", "nationality": "GT"})

    guatemalans = [w for w in workers if w.nationality.code == "GT"]
    assert [w.pk for w in response.context["page"].workers] == ordered(
        guatemalans, WORKER_KEYS["name"], descending=True
    )
    html = response.content.decode()
    # Each header's link keeps the filter, drops the page's position and asks for its own order.
    link = re.search(r'<a href="\?([^"]*)"[^>]*>Name<', html).group(1).replace("&amp;", "&")
    assert sorted(link.split("&")) == ["nationality=GT", "sort=name"]


def test_a_page_link_of_another_order_is_refused(staff_client, workers):
    response = staff_client.get(WORKERS, {"sort": "name", "cursor": f"o{workers[3].pk}"})

    assert response.status_code == 400
    assert "This page link is damaged" in response.content.decode()


@pytest.mark.parametrize("value", ["bogus", "-", "--name", "name;drop", "x" * 500, "pk", "id\x00"])
def test_a_bad_sort_is_a_400_naming_the_parameter(staff_client, workers, value):
    response = staff_client.get(WORKERS, {"sort": value})

    assert response.status_code == 400
    assert "Sort: " in response.content.decode()
    assert "page" not in response.context or response.context.get("page") is None


def test_the_sorted_workers_list_runs_the_same_queries_for_60_or_120_workers(
    staff_client, workers, django_assert_num_queries
):
    f.WorkerFactory.create_batch(51, pilot=workers[0].pilot, recruiter=workers[0].recruiter)
    for size in (60, 120):
        for key in WORKER_KEYS:
            for sort in (key, f"-{key}"):
                # The session, the user, the pilots and recruiters offered, the page, the bounded count.
                with django_assert_num_queries(6):
                    response = staff_client.get(WORKERS, {"sort": sort})
                assert len(response.context["page"].workers) == 50
                with django_assert_num_queries(6):  # a deeper page costs what the first does
                    staff_client.get(WORKERS, {"sort": sort, "cursor": str(response.context["page"].older)})
        if size == 60:
            f.WorkerFactory.create_batch(60, pilot=workers[1].pilot, recruiter=workers[1].recruiter)


# --- The claims list --------------------------------------------------------------------------------------


@pytest.fixture
def claims():  # noqa: ANN201
    """Claims of two contracts in two currencies, every status, with and without payment lines."""
    usd = f.RbfContractFactory(reference="B-USD", currency="USD")
    mxn = f.RbfContractFactory(reference="A-MXN", currency="MXN")
    placed, fee = f.OutcomeMetricFactory(contract=usd, code="PLACED"), f.OutcomeMetricFactory(contract=usd, code="FEE")
    other = f.OutcomeMetricFactory(contract=mxn, code="PLACED")
    day = datetime.date(2026, 1, 1)
    made = []
    specs = [
        (placed, "Perez", ClaimStatus.VERIFIED, 3, 20, "", ""),
        (fee, "Lopez", ClaimStatus.REJECTED, 1, None, "A fee was reported", ""),
        (other, "Ajus", ClaimStatus.VERIFIED, 7, 40, "", ""),
        (placed, "Coj", ClaimStatus.CLAIMED, 2, None, "", ""),
        (other, "Tzoc", ClaimStatus.REVERSED, 5, 10, "", "Left the job early"),
        (fee, "Baten", ClaimStatus.VERIFIED, 4, 30, "", ""),
    ]
    for n, (metric, family, status, days, verified, rejection, reversal) in enumerate(specs):
        claim = f.OutcomeClaimFactory(
            metric=metric, worker__family_names=family, worker__given_names="Ana", status=status,
            achieved_on=day + datetime.timedelta(days=days),
            verified_on=day + datetime.timedelta(days=verified) if verified else None,
            rejection_reason=rejection, reversal_reason=reversal,
        )  # fmt: skip
        claim.claimed_at = datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC) + datetime.timedelta(hours=(n * 5) % 6)
        claim.save(update_fields=["claimed_at"])
        claim.amount = None
        made.append(claim)
    q1 = {c.pk: f.TrancheFactory(contract=c) for c in (usd, mxn)}
    for claim, amount in ((made[0], "500.00"), (made[2], "9000.00"), (made[4], "-250.00"), (made[5], "120.00")):
        kind = "adjustment" if amount.startswith("-") else "payment"
        f.PaymentLineFactory(tranche=q1[claim.metric.contract_id], claim=claim, amount=amount, kind=kind)
        claim.amount = Decimal(amount)
    return made


CLAIM_KEYS: dict[str, tuple[Callable[[Any], tuple], int | None]] = {
    "worker": (lambda c: (c.worker.family_names, c.worker.given_names, c.pk), None),
    "metric": (lambda c: (c.metric.code, c.unit, c.pk), None),
    "contract": (lambda c: (c.metric.contract.reference, c.pk), None),
    "status": (lambda c: (c.status, c.in_review, c.pk), None),
    "amount": (lambda c: (c.metric.contract.currency, c.amount or Decimal(0), c.pk), None),
    "claimed": (lambda c: (c.claimed_at, c.pk), None),
    "achieved": (lambda c: (c.achieved_on, c.pk), None),
    "verified": (lambda c: (c.verified_on, c.pk), 0),
    "reason": (lambda c: (c.rejection_reason, c.reversal_reason, c.pk), None),
}


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", sorted(CLAIM_KEYS))
def test_the_claims_list_sorted_by_each_column(staff_client, claims, key, descending):
    from financing.list_selectors import CLAIM_SORTING

    assert set(CLAIM_KEYS) == set(CLAIM_SORTING.columns)
    sort_key, nullable = CLAIM_KEYS[key]

    response = staff_client.get(CLAIMS, {"sort": f"-{key}" if descending else key})

    assert response.status_code == 200
    assert [c.pk for c in response.context["claims"]] == ordered(
        claims, sort_key, descending=descending, nullable=nullable
    )


def test_the_claims_list_pages_keep_the_order(staff_client):
    metric = f.OutcomeMetricFactory()
    made = [f.OutcomeClaimFactory(metric=metric, worker__family_names=f"Name{n % 7}") for n in range(57)]

    first = staff_client.get(CLAIMS, {"sort": "-worker"})
    second = staff_client.get(CLAIMS, {"sort": "-worker", "page": 2})

    expected = ordered(made, lambda c: (c.worker.family_names, c.worker.given_names, c.pk), descending=True)
    assert [c.pk for c in first.context["claims"]] + [c.pk for c in second.context["claims"]] == expected
    assert "sort=-worker&amp;page=2" in first.content.decode()


def test_a_bad_claims_sort_is_a_400_naming_it(staff_client, claims):
    response = staff_client.get(CLAIMS, {"sort": "worker__password"})

    assert response.status_code == 400
    assert response.context["claims"] == []
    assert "Sort: “worker__password” is not a column of this list" in response.content.decode()


def test_the_sorted_claims_list_runs_the_same_queries_for_6_or_60_claims(
    staff_client, claims, django_assert_num_queries
):
    counts = {}
    for key in CLAIM_KEYS:
        with django_assert_num_queries(8) as ctx:
            staff_client.get(CLAIMS, {"sort": f"-{key}"})
        counts[key] = len(ctx.captured_queries)
    f.PaymentLineFactory.create_batch(
        54,
        tranche=f.TrancheFactory(
            contract=claims[0].metric.contract,
            code="2026-Q2",
            start_date=datetime.date(2026, 4, 1),
            end_date=datetime.date(2026, 6, 30),
            due_date=datetime.date(2026, 7, 31),
        ),
    )
    for key in CLAIM_KEYS:
        with django_assert_num_queries(counts[key]):
            response = staff_client.get(CLAIMS, {"sort": f"-{key}"})
        assert len(response.context["claims"]) == 50


# --- The contracts list -----------------------------------------------------------------------------------


@pytest.fixture
def contracts():  # noqa: ANN201
    made, pilots = [], {name: f.PilotFactory(name=name) for name in ("Alpha", "Bravo", "Charlie")}
    funds = {name: f.OrganisationFactory(name=name, kind="funder") for name in ("Fund A", "Fund B", "Fund C")}
    specs = [
        ("C-2", "Bravo", "Fund A", "Agency Z", datetime.date(2026, 1, 1), Decimal("1000.00"), "700.00", 40),
        ("C-1", "Alpha", "Fund B", "Agency Y", datetime.date(2025, 7, 1), None, "100.00", 10),
        ("C-3", "Alpha", "Fund A", "Agency X", datetime.date(2026, 3, 1), Decimal("50000.00"), None, None),
        ("C-4", "Charlie", "Fund C", "Agency W", datetime.date(2025, 1, 1), Decimal("900.00"), "2500.00", 25),
    ]
    for reference, pilot, payer, provider, start, cap, verified, due_in in specs:
        contract = f.RbfContractFactory(
            reference=reference, pilot=pilots[pilot], payer=funds[payer], provider__name=provider, start_date=start,
            end_date=start + datetime.timedelta(days=365), cap_total=cap,
        )  # fmt: skip
        contract.verified = Decimal(verified or 0)
        contract.next_due = None
        if verified:
            due = datetime.date(2026, 4, 1) + datetime.timedelta(days=due_in)
            tranche = f.TrancheFactory(contract=contract, due_date=due)
            f.PaymentLineFactory(tranche=tranche, amount=verified)
            contract.next_due = due
        made.append(contract)
    return made


CONTRACT_KEYS: dict[str, tuple[Callable[[Any], tuple], int | None]] = {
    "contract": (lambda c: (c.reference, c.pk), None),
    "pilot": (lambda c: (c.pilot.name, c.reference, c.pk), None),
    "parties": (lambda c: (c.payer.name, c.provider.name, c.pk), None),
    "period": (lambda c: (c.start_date, c.end_date, c.pk), None),
    "cap": (lambda c: (c.cap_total, c.pk), 0),  # one currency here
    "verified": (lambda c: (c.verified, c.pk), None),
    "next": (lambda c: (c.next_due, c.pk), 0),
}


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", sorted(CONTRACT_KEYS))
def test_the_contracts_list_sorted_by_each_column(staff_client, contracts, key, descending):
    from financing.list_selectors import CONTRACT_SORTING

    assert set(CONTRACT_KEYS) == set(CONTRACT_SORTING.columns)
    sort_key, nullable = CONTRACT_KEYS[key]

    response = staff_client.get(CONTRACTS, {"sort": f"-{key}" if descending else key})

    assert response.status_code == 200
    assert [c.pk for c in response.context["contracts"]] == ordered(
        contracts, sort_key, descending=descending, nullable=nullable
    )


def test_the_contracts_list_is_by_pilot_unless_asked(staff_client, contracts):
    response = staff_client.get(CONTRACTS)

    assert [c.pk for c in response.context["contracts"]] == ordered(
        contracts, CONTRACT_KEYS["pilot"][0], descending=False
    )
    assert header(response.content.decode(), "Pilot") == "ascending"


def test_a_bad_contracts_sort_is_a_400_naming_it(staff_client, contracts):
    response = staff_client.get(CONTRACTS, {"sort": "secret"})

    assert response.status_code == 400 and response.context["contracts"] == []
    assert "Sort: “secret” is not a column of this list" in response.content.decode()


# --- The automatic decisions ------------------------------------------------------------------------------


@pytest.fixture
def decisions():  # noqa: ANN201
    made = []
    specs = [
        (Decision.VERIFIED, "Employer attestation", 3),
        (Decision.NEEDS_REVIEW, "Sources disagree", 1),
        (Decision.REVERSED, "Separated before day 180", 5),
        (Decision.VERIFIED, "Payroll record", 2),
    ]
    claims = [f.OutcomeClaimFactory(), f.OutcomeClaimFactory()]
    for n, (decision, reason, days) in enumerate(specs):
        made.append(
            f.VerificationFactory(
                claim=claims[n % 2], decision=decision, reason=reason,
                decided_at=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC) + datetime.timedelta(days=days),
            )
        )  # fmt: skip
    return made


DECISION_KEYS: dict[str, Callable[[Any], tuple]] = {
    "when": lambda v: (v.decided_at, v.pk),
    "decision": lambda v: (v.decision, v.pk),
    "claim": lambda v: (v.claim_id, v.pk),
    "reason": lambda v: (v.reason, v.pk),
}


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", sorted(DECISION_KEYS))
def test_the_decisions_sorted_by_each_column(staff_client, decisions, key, descending):
    response = staff_client.get(DECISIONS, {"sort": f"-{key}" if descending else key})

    assert response.status_code == 200
    assert [row.pk for row, _facts in response.context["items"]] == ordered(
        decisions, DECISION_KEYS[key], descending=descending
    )


def test_the_decisions_are_newest_first_unless_asked(staff_client, decisions):
    response = staff_client.get(DECISIONS)

    assert [row.pk for row, _facts in response.context["items"]] == ordered(
        decisions, DECISION_KEYS["when"], descending=True
    )
    assert header(response.content.decode(), "When") == "descending"


def test_a_bad_decisions_sort_is_a_400(staff_client, decisions):
    response = staff_client.get(DECISIONS, {"sort": "facts"})

    assert response.status_code == 400 and response.context["items"] == []


# --- The parser ---------------------------------------------------------------------------------------------


def test_the_parser_accepts_only_its_columns():
    from lamp.listing import Column

    sorting = Sorting([Column("a", ("x",)), Column("b", ("y",))], default="-a")
    assert str(sorting.parse("")) == "-a" and str(sorting.parse("b")) == "b" and str(sorting.parse("-b")) == "-b"
    for bad in ("c", "-c", "--a", "a,b", "x"):
        with pytest.raises(SortRefused, match="Sort: "):
            sorting.parse(bad)
