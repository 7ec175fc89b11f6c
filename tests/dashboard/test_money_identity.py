"""One vocabulary of money: on every page and in the API, for every contract of the demo, verified is the sum
of paid, awaiting payment and due (less anything owed by the provider), and every page agrees with the API."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from financing.models import RbfContract
from financing.selectors import contract_amounts
from pilots.models import User

pytestmark = pytest.mark.django_db

PARTS = re.compile(
    r'data-money data-currency="(?P<cur>\w+)" data-verified="(?P<verified>[-\d.]+)" data-paid="(?P<paid>[-\d.]+)"'
    r' data-awaiting="(?P<awaiting>[-\d.]+)" data-owed="(?P<owed>[-\d.]+)" data-due="(?P<due>[-\d.]+)"'
)


@pytest.fixture
def demo() -> None:
    call_command("seed_demo", workers=80, password="identity-pass", stdout=io.StringIO())


def _parts(html: str) -> list[dict[str, Decimal | str]]:
    found = [
        {key: (value if key == "cur" else Decimal(value)) for key, value in match.groupdict().items()}
        for match in PARTS.finditer(html)
    ]
    assert found, "no money figures on the page"
    return found


def _adds_up(parts: dict[str, Decimal | str]) -> bool:
    return parts["verified"] == parts["paid"] + parts["awaiting"] - parts["owed"] + parts["due"]


@pytest.fixture
def staff_client(demo) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(User.objects.get(username="staff"))
    return client


def test_every_figure_adds_up_and_agrees_with_the_api(staff_client):
    """One seeding of the demo, every page that shows money read against the API."""
    _contract_pages_agree_with_the_api(staff_client)
    _lists_overview_and_pilot_pages_agree(staff_client)
    _scorecards_add_up(staff_client)
    _held_back_units_are_in_the_schedule_and_the_csv(staff_client)


def _contract_pages_agree_with_the_api(staff_client: Client) -> None:
    api = APIClient()
    api.force_authenticate(User.objects.get(username="staff"))
    contracts = list(RbfContract.objects.order_by("pk"))
    assert len(contracts) >= 4
    for contract in contracts:
        page = _parts(staff_client.get(f"/contracts/{contract.pk}/").content.decode())
        assert all(_adds_up(parts) for parts in page), contract.reference
        totals = api.get(f"/api/v1/contracts/{contract.pk}/schedule/").json()["totals"]
        figures = page[0]
        assert (
            Decimal(totals["verified"]), Decimal(totals["paid"]), Decimal(totals["awaiting_payment"]),
            Decimal(totals["owed_by_provider"]), Decimal(totals["due"]),
        ) == (figures["verified"], figures["paid"], figures["awaiting"], figures["owed"], figures["due"])  # fmt: skip
        tranches = api.get(f"/api/v1/contracts/{contract.pk}/schedule/").json()["tranches"]
        assert sum((Decimal(t["total"]) for t in tranches), Decimal(0)) == figures["verified"]


def _lists_overview_and_pilot_pages_agree(staff_client: Client) -> None:
    contracts = list(RbfContract.objects.order_by("pk"))
    amounts = contract_amounts(contracts=contracts)
    listed = _parts(staff_client.get("/contracts/").content.decode())
    assert all(_adds_up(parts) for parts in listed)
    assert sorted(p["verified"] for p in listed) == sorted(a.verified for a in amounts.values())

    overview = _parts(staff_client.get("/pilots/").content.decode())
    assert all(_adds_up(parts) for parts in overview)
    by_currency: dict[str, Decimal] = {}
    for contract in contracts:
        by_currency[contract.currency] = by_currency.get(contract.currency, Decimal(0)) + amounts[contract.pk].verified
    # The money card first: one entry per currency, the sum over every contract.
    assert {p["cur"]: p["verified"] for p in overview[: len(by_currency)]} == by_currency

    for pilot_id in {contract.pilot_id for contract in contracts}:
        page = _parts(staff_client.get(f"/pilots/{pilot_id}/").content.decode())
        assert all(_adds_up(parts) for parts in page)


def _scorecards_add_up(staff_client: Client) -> None:
    html = staff_client.get("/recruiters/").content.decode()
    assert "Awaiting payment" in html
    for recruiter_link in set(re.findall(r'href="/recruiters/(\d+)/', html)):
        page = staff_client.get(f"/recruiters/{recruiter_link}/").content.decode()
        for parts in PARTS.finditer(page):
            values = {k: Decimal(v) for k, v in parts.groupdict().items() if k != "cur"}
            assert values["verified"] == values["paid"] + values["awaiting"] - values["owed"] + values["due"]


def _held_back_units_are_in_the_schedule_and_the_csv(staff_client: Client) -> None:
    """The units a threshold holds back are on the contract page, with their rule, and in the CSV."""
    api = APIClient()
    api.force_authenticate(User.objects.get(username="staff"))
    seen_threshold = False
    for contract in RbfContract.objects.order_by("pk"):
        held = api.get(f"/api/v1/contracts/{contract.pk}/schedule/").json()["totals"]["held_back"]
        response = staff_client.get(f"/contracts/{contract.pk}/schedule.csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        by_threshold = [item for item in held if item["reason"] == "threshold_not_met"]
        in_csv = [row for row in rows if row["kind"] == "held_back" and row["reason"] == "threshold_not_met"]
        assert sum(item["units"] for item in by_threshold) == len(in_csv), contract.reference
        assert sum(Decimal(item["amount"]) for item in by_threshold) == sum(
            (Decimal(row["capped"]) for row in in_csv), Decimal(0)
        )
        assert all(row["amount"] == "0.00" for row in in_csv)
        if by_threshold:
            seen_threshold = True
            page = staff_client.get(f"/contracts/{contract.pk}/").content.decode()
            assert 'data-held-reason="threshold_not_met"' in page
            assert "Threshold not met: waiting for it" in page
    assert seen_threshold, "the demo holds retention units back by its threshold"
