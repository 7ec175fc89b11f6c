"""Money in a real browser: on the overview and a contract page of the demo, every whole is the sum of its
parts as the page shows them, and an overdue tranche is flagged where staff look."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from financing.models import RbfContract, Tranche
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "money-browser-pass"
AMOUNT = re.compile(r"-?[A-Z]{3} (-?[\d,]+(?:\.\d+)?)")


@pytest.fixture
def demo() -> None:
    call_command("seed_demo", workers=60, password=DEMO_PASSWORD, stdout=io.StringIO())


def _amount(text: str) -> Decimal:
    match = AMOUNT.search(text)
    assert match, text
    value = Decimal(match.group(1).replace(",", ""))
    return -value if text.strip().startswith("-") else value


def _figures(block: object) -> dict[str, Decimal]:
    """The whole and its parts as the reader sees them: the text of the money block, not its data."""
    text = block.inner_text()
    parts = {}
    for key, label in (("paid", "paid"), ("awaiting", "awaiting payment"), ("due", "due")):
        match = re.search(rf"(?:^|· ){label} (-?[A-Z]{{3}} [\d,.]+)", text, re.MULTILINE)
        assert match, (label, text)
        parts[key] = _amount(match.group(1))
    owed = re.search(r"owed by the provider (-?[A-Z]{3} [\d,.]+)", text)
    parts["owed"] = _amount(owed.group(1)) if owed else Decimal(0)
    return parts


def test_the_overview_and_a_contract_page_add_up_as_shown(demo, new_page):
    page = new_page("staff", DEMO_PASSWORD)
    page.goto("/pilots/")
    blocks = page.locator("[data-money]")
    assert blocks.count() >= 4
    for index in range(blocks.count()):
        block = blocks.nth(index)
        verified = Decimal(block.get_attribute("data-verified"))
        parts = _figures(block)
        assert verified == parts["paid"] + parts["awaiting"] - parts["owed"] + parts["due"]
    screenshot(page, "money-overview")

    contract = RbfContract.objects.order_by("pk").first()
    page.goto(f"/contracts/{contract.pk}/")
    verified = _amount(page.locator('[data-part="verified"]').inner_text())
    shown = {key: _amount(page.locator(f'[data-part="{key}"]').inner_text()) for key in ("paid", "awaiting", "due")}
    assert (
        verified
        == shown["paid"] + shown["awaiting"] + shown["due"] - _figures(page.locator("[data-money]").first)["owed"]
    )
    totals = page.locator("#schedule tfoot td.num").last.inner_text()
    assert _amount(totals) == verified  # the schedule's tranches add up to the same whole
    screenshot(page, "money-contract")


def test_an_overdue_tranche_is_flagged_on_the_contract_page_and_the_list(demo, new_page):
    tranche = Tranche.objects.filter(status="open").order_by("due_date").first()
    assert tranche is not None and tranche.due_date < tranche.contract.end_date
    page = new_page("staff", DEMO_PASSWORD)
    page.goto(f"/contracts/{tranche.contract_id}/")
    banner = page.locator("[data-overdue]").first
    assert banner.is_visible()
    assert tranche.code in banner.inner_text() and "overdue" in banner.inner_text()
    page.click(f'[data-overdue] a[href="#tranche-{tranche.pk}"]')
    assert page.url.endswith(f"#tranche-{tranche.pk}")
    page.goto("/contracts/")
    assert page.locator(".badge-bad", has_text="overdue").count() >= 1
