"""Properties of ``compute_schedule`` that hold for any terms and claims (hypothesis; pure, no Django)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from financing.payments import (
    VERIFIED,
    Claim,
    Line,
    Metric,
    Reason,
    Schedule,
    Terms,
    Tier,
    calendar_tranches,
    compute_schedule,
)
from lamp.currencies import get_currency

PROPERTIES = settings(max_examples=200, deadline=None)
UNIT_LIMITS = {Reason.MAX_UNITS_PER_WORKER, Reason.CAP_UNITS}
CURRENCIES = ("USD", "JPY", "KWD")
WORKERS = tuple(f"w{n}" for n in range(5))


def prices() -> st.SearchStrategy[Decimal]:
    """Prices with more decimals than any currency has, so rounding is exercised too."""
    return st.decimals(min_value=0, max_value=2000, places=4)


def amounts(currency: str, max_value: int) -> st.SearchStrategy[Decimal]:
    """Caps: whole minor units of the currency, as Terms requires."""
    return st.decimals(min_value=0, max_value=max_value, places=get_currency(currency).exponent)


@st.composite
def metrics(draw: st.DrawFn, *, code: str, currency: str, denominator: str | None) -> Metric:
    if draw(st.booleans()):
        price, tiers = draw(prices()), None
    else:
        bounded = draw(st.lists(st.tuples(st.integers(1, 4), prices()), max_size=2))
        price = None
        tiers = (*(Tier(units=units, price=price) for units, price in bounded), Tier(units=None, price=draw(prices())))
    threshold = denominator is not None and draw(st.booleans())
    return Metric(
        code=code,
        price=price,
        tiers=tiers,
        max_units_per_worker=draw(st.integers(1, 3)),
        cap_units=draw(st.none() | st.integers(0, 8)),
        cap_amount=draw(st.none() | amounts(currency, 5000)),
        threshold_rate=draw(st.sampled_from([Decimal(0), Decimal("0.25"), Decimal("0.8"), Decimal(1)]))
        if threshold
        else None,
        denominator=denominator if threshold else None,
    )


@st.composite
def terms(draw: st.DrawFn) -> Terms:
    currency = draw(st.sampled_from(CURRENCIES))
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 90)))
    end = start + timedelta(days=draw(st.integers(0, 400)))
    codes = [f"M{n}" for n in range(draw(st.integers(1, 3)))]
    return Terms(
        currency=currency,
        start=start,
        end=end,
        cap_total=draw(st.none() | amounts(currency, 10_000)),
        tranches=calendar_tranches(
            start=start,
            end=end,
            period=draw(st.sampled_from(["monthly", "quarterly"])),
            due_days=draw(st.integers(0, 60)),
        ),
        metrics=tuple(
            draw(metrics(code=code, currency=currency, denominator=None if n == 0 else "M0"))
            for n, code in enumerate(codes)
        ),
    )


def claims(terms: Terms, *, distinct_days: bool = False) -> st.SearchStrategy[list[Claim]]:
    """Claims verified from a month before the contract to a month after it, mostly ``verified``."""
    first = terms.start - timedelta(days=31)
    days = (terms.end - first).days + 31
    claim = st.builds(
        lambda metric, worker, offset, status: (metric, worker, first + timedelta(days=offset), status),
        st.sampled_from([metric.code for metric in terms.metrics]),
        st.sampled_from(WORKERS),
        st.integers(0, days),
        st.sampled_from([VERIFIED, VERIFIED, VERIFIED, "claimed", "rejected", "reversed"]),
    )
    drawn = st.lists(claim, max_size=30, unique_by=(lambda c: c[2]) if distinct_days else None)
    return drawn.map(
        lambda rows: [
            Claim(id=f"c{n}", metric=metric, worker=worker, achieved_on=None, verified_on=verified_on, status=status)
            for n, (metric, worker, verified_on, status) in enumerate(rows)
        ]
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Terms, list[Claim]]:
    contract = draw(terms())
    return contract, draw(claims(contract))


def all_lines(schedule: Schedule) -> list[Line]:
    return [line for result in schedule.tranches for line in result.lines]


@PROPERTIES
@given(scenarios())
def test_no_cap_is_ever_exceeded(scenario):
    contract, listed = scenario
    schedule = compute_schedule(terms=contract, claims=listed)
    lines = all_lines(schedule)

    if contract.cap_total is not None:
        assert schedule.total <= contract.cap_total
    paid: defaultdict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        paid[line.metric] += line.amount
    counted = Counter(line.metric for line in lines if line.reason not in UNIT_LIMITS)
    per_worker = Counter((line.metric, line.worker) for line in lines if line.reason not in UNIT_LIMITS)
    for metric in contract.metrics:
        if metric.cap_amount is not None:
            assert paid[metric.code] <= metric.cap_amount
        if metric.cap_units is not None:
            assert counted[metric.code] <= metric.cap_units
        assert all(
            units <= metric.max_units_per_worker for (code, _), units in per_worker.items() if code == metric.code
        )


@PROPERTIES
@given(scenarios())
def test_totals_are_exactly_the_sums_of_the_lines(scenario):
    contract, listed = scenario
    schedule = compute_schedule(terms=contract, claims=listed)

    for result in schedule.tranches:
        assert result.total == sum((line.amount for line in result.lines), Decimal(0))
    assert schedule.total == sum((result.total for result in schedule.tranches), Decimal(0))
    assert schedule.total == sum((line.amount for line in all_lines(schedule)), Decimal(0))


@PROPERTIES
@given(scenarios())
def test_every_amount_has_exactly_the_currencys_decimals(scenario):
    contract, listed = scenario
    schedule = compute_schedule(terms=contract, claims=listed)
    exponent = -get_currency(contract.currency).exponent

    amounts = [schedule.total, *(result.total for result in schedule.tranches)]
    amounts += [amount for line in all_lines(schedule) for amount in (line.amount, line.capped)]
    assert {amount.as_tuple().exponent for amount in amounts} == {exponent}


@PROPERTIES
@given(scenarios())
def test_every_line_pays_between_nothing_and_its_full_amount(scenario):
    contract, listed = scenario
    schedule = compute_schedule(terms=contract, claims=listed)

    for line in all_lines(schedule):
        assert line.amount >= 0
        assert line.capped >= 0
        assert (line.capped > 0) <= (line.reason is not None)  # nothing is withheld without a reason
        if line.reason in UNIT_LIMITS:
            assert line.amount == 0


@PROPERTIES
@given(scenarios())
def test_every_verified_claim_is_accounted_for_exactly_once(scenario):
    contract, listed = scenario
    schedule = compute_schedule(terms=contract, claims=listed)

    accounted = [line.claim for line in all_lines(schedule)]
    accounted += [entry.claim for entry in (*schedule.lapsed, *schedule.not_payable)]
    assert sorted(accounted) == sorted(claim.id for claim in listed if claim.status == VERIFIED)
    assert all(entry.reason == Reason.OUTSIDE_CONTRACT_PERIOD for entry in schedule.not_payable)
    assert all(entry.reason == Reason.THRESHOLD_NOT_MET for entry in schedule.lapsed)


@PROPERTIES
@given(st.data())
def test_the_order_claims_are_listed_in_does_not_matter_when_their_days_differ(data):
    contract = data.draw(terms())
    listed = data.draw(claims(contract, distinct_days=True))
    shuffled = data.draw(st.permutations(listed))

    assert compute_schedule(terms=contract, claims=shuffled) == compute_schedule(terms=contract, claims=listed)


@PROPERTIES
@given(scenarios())
def test_computing_twice_gives_the_same_schedule(scenario):
    contract, listed = scenario

    assert compute_schedule(terms=contract, claims=listed) == compute_schedule(terms=contract, claims=list(listed))
