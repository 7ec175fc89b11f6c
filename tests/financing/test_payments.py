"""The payment rules of rbf-scenario.md, step by step, on ``financing.payments`` (pure: no Django here)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from financing.payments import (
    Claim,
    Line,
    Metric,
    Reason,
    Schedule,
    Terms,
    TermsError,
    Tier,
    TranchePeriod,
    Unpaid,
    calendar_tranches,
    compute_schedule,
    validate_claims,
    validate_tranches,
)

START, END = date(2026, 1, 1), date(2026, 12, 31)


def d(text: str) -> date:
    return date.fromisoformat(text)


def placed(**overrides: object) -> Metric:
    return Metric(**{"code": "PLACED", "price": Decimal("500.00"), **overrides})  # type: ignore[arg-type]


def retained(**overrides: object) -> Metric:
    return Metric(  # type: ignore[arg-type]
        **{
            "code": "RETAINED",
            "price": Decimal("750.00"),
            "threshold_rate": Decimal("0.8"),
            "denominator": "PLACED",
            **overrides,
        }
    )


def make_terms(
    *metrics: Metric,
    currency: str = "USD",
    start: date = START,
    end: date = END,
    cap_total: Decimal | None = None,
    period: str = "quarterly",
) -> Terms:
    return Terms(
        currency=currency,
        start=start,
        end=end,
        cap_total=cap_total,
        tranches=calendar_tranches(start=start, end=end, period=period),
        metrics=metrics or (placed(),),
    )


def claim(
    id: str,
    verified_on: str | None = "2026-01-05",
    *,
    metric: str = "PLACED",
    worker: str | None = None,
    status: str = "verified",
) -> Claim:
    return Claim(
        id=id,
        metric=metric,
        worker=worker or f"w-{id}",
        achieved_on=None,
        verified_on=d(verified_on) if verified_on else None,
        status=status,
    )


def lines(schedule: Schedule) -> list[tuple[str, str, str, str | None]]:
    """Every line of the schedule as (claim, amount, capped, reason), amounts as their exact strings."""
    return [
        (line.claim, str(line.amount), str(line.capped), line.reason)
        for result in schedule.tranches
        for line in result.lines
    ]


def tranche_lines(schedule: Schedule) -> dict[str, list[str]]:
    return {result.period.code: [line.claim for line in result.lines] for result in schedule.tranches}


# --- The worked example ------------------------------------------------------------------------------


def test_worked_example_pays_three_units_and_caps_the_fourth():
    claims = [
        claim(f"c{n}", day, worker=f"w{n}")
        for n, day in enumerate(["2026-01-05", "2026-01-20", "2026-02-02", "2026-02-03"], start=1)
    ]

    schedule = compute_schedule(terms=make_terms(placed(cap_units=3)), claims=claims)

    q1 = schedule.tranches[0]
    assert q1.period == TranchePeriod(code="2026-Q1", start=d("2026-01-01"), end=d("2026-03-31"), due=d("2026-04-30"))
    assert q1.lines == (
        Line(claim="c1", metric="PLACED", worker="w1", amount=Decimal("500.00"), capped=Decimal("0.00"), reason=None),
        Line(claim="c2", metric="PLACED", worker="w2", amount=Decimal("500.00"), capped=Decimal("0.00"), reason=None),
        Line(claim="c3", metric="PLACED", worker="w3", amount=Decimal("500.00"), capped=Decimal("0.00"), reason=None),
        Line(
            claim="c4",
            metric="PLACED",
            worker="w4",
            amount=Decimal("0.00"),
            capped=Decimal("500.00"),
            reason=Reason.CAP_UNITS,
        ),
    )
    assert str(q1.total) == "1500.00"
    assert [(r.period.code, r.lines, str(r.total)) for r in schedule.tranches[1:]] == [
        ("2026-Q2", (), "0.00"),
        ("2026-Q3", (), "0.00"),
        ("2026-Q4", (), "0.00"),
    ]
    assert str(schedule.total) == "1500.00"
    assert schedule.lapsed == schedule.not_payable == ()


# --- Rule 1: outside the contract period -------------------------------------------------------------


def test_claims_verified_outside_the_contract_period_are_not_payable():
    claims = [
        claim("late", "2027-01-01"),
        claim("in", "2026-12-31"),
        claim("early", "2025-12-31"),
        claim("first-day", "2026-01-01"),
    ]

    schedule = compute_schedule(terms=make_terms(), claims=claims)

    assert lines(schedule) == [("first-day", "500.00", "0.00", None), ("in", "500.00", "0.00", None)]
    assert schedule.not_payable == (  # in verified_on order, like every list of claims
        Unpaid(claim="early", metric="PLACED", worker="w-early", reason=Reason.OUTSIDE_CONTRACT_PERIOD),
        Unpaid(claim="late", metric="PLACED", worker="w-late", reason=Reason.OUTSIDE_CONTRACT_PERIOD),
    )


def test_a_not_payable_claim_counts_for_nothing():
    # An early w1 claim would use up w1's one unit and cap_units' only unit if it counted.
    claims = [claim("early", "2025-12-20", worker="w1"), claim("c1", "2026-02-01", worker="w1")]

    schedule = compute_schedule(terms=make_terms(placed(cap_units=1)), claims=claims)

    assert lines(schedule) == [("c1", "500.00", "0.00", None)]


def test_a_not_payable_claim_does_not_count_towards_a_threshold():
    claims = [claim("p-early", "2025-12-31"), claim("r1", "2026-01-10", metric="RETAINED")]

    schedule = compute_schedule(terms=make_terms(placed(), retained()), claims=claims)

    assert lines(schedule) == []
    assert [(entry.claim, entry.reason) for entry in schedule.lapsed] == [("r1", Reason.THRESHOLD_NOT_MET)]


@pytest.mark.parametrize("status", ["claimed", "rejected", "reversed"])
def test_only_verified_claims_count(status):
    claims = [claim("x", "2026-01-05", worker="w1", status=status), claim("c1", "2026-02-01", worker="w1")]

    schedule = compute_schedule(terms=make_terms(placed(cap_units=1)), claims=claims)

    assert lines(schedule) == [("c1", "500.00", "0.00", None)]
    assert schedule.lapsed == schedule.not_payable == ()


# --- Rule 2: tranches and candidate order ------------------------------------------------------------


def test_each_claim_lands_in_the_tranche_of_its_verified_on():
    claims = [claim("q1-last", "2026-03-31"), claim("q2-first", "2026-04-01"), claim("q4", "2026-12-31")]

    schedule = compute_schedule(terms=make_terms(), claims=claims)

    assert tranche_lines(schedule) == {
        "2026-Q1": ["q1-last"],
        "2026-Q2": ["q2-first"],
        "2026-Q3": [],
        "2026-Q4": ["q4"],
    }
    assert [str(result.total) for result in schedule.tranches] == ["500.00", "500.00", "0.00", "500.00"]


def test_candidates_are_ordered_by_verified_on_then_position():
    claims = [claim("c", "2026-02-10"), claim("a", "2026-01-10"), claim("b2", "2026-01-20"), claim("b1", "2026-01-20")]

    schedule = compute_schedule(terms=make_terms(placed(cap_units=2)), claims=claims)

    # b2 is listed before b1 and both were verified the same day: b2 takes the last unit.
    assert lines(schedule) == [
        ("a", "500.00", "0.00", None),
        ("b2", "500.00", "0.00", None),
        ("b1", "0.00", "500.00", Reason.CAP_UNITS),
        ("c", "0.00", "500.00", Reason.CAP_UNITS),
    ]


# --- Rule 3: thresholds ------------------------------------------------------------------------------


def test_held_back_claims_are_paid_in_the_first_tranche_where_the_threshold_holds():
    claims = [
        claim("p1", "2026-01-05"),
        claim("p2", "2026-01-06"),
        claim("r1", "2026-02-01", metric="RETAINED"),  # Q1: 1 / 2 = 0.5 < 0.8, held
        claim("r2", "2026-05-01", metric="RETAINED"),  # Q2: 2 / 2 = 1 >= 0.8
        claim("p3", "2026-07-01"),
        claim("p4", "2026-07-01"),  # Q3: 3 / 4 < 0.8, r3 held to the end
        claim("r3", "2026-07-02", metric="RETAINED"),
    ]

    schedule = compute_schedule(terms=make_terms(placed(), retained()), claims=claims)

    assert tranche_lines(schedule) == {
        "2026-Q1": ["p1", "p2"],
        "2026-Q2": ["r1", "r2"],
        "2026-Q3": ["p3", "p4"],
        "2026-Q4": [],
    }
    assert schedule.lapsed == (Unpaid(claim="r3", metric="RETAINED", worker="w-r3", reason=Reason.THRESHOLD_NOT_MET),)
    assert str(schedule.total) == "3500.00"


def test_held_back_claims_come_before_the_tranches_own_candidates():
    claims = [
        claim("r1", "2026-01-10", metric="RETAINED"),
        claim("r2", "2026-04-02", metric="RETAINED"),
        claim("p1", "2026-04-01"),
    ]

    schedule = compute_schedule(terms=make_terms(placed(), retained(max_units_per_worker=1)), claims=claims)

    assert tranche_lines(schedule)["2026-Q2"] == ["r1", "p1", "r2"]


def test_the_threshold_is_evaluated_at_the_tranche_end_counting_later_claims_of_the_tranche():
    claims = [claim("r1", "2026-01-05", metric="RETAINED"), claim("p1", "2026-03-31")]

    schedule = compute_schedule(terms=make_terms(placed(), retained()), claims=claims)

    assert tranche_lines(schedule)["2026-Q1"] == ["r1", "p1"]


def test_a_rate_exactly_at_the_threshold_meets_it():
    claims = [
        *(claim(f"p{n}", "2026-01-05") for n in range(5)),
        *(claim(f"r{n}", "2026-02-05", metric="RETAINED") for n in range(4)),
    ]  # 4 / 5 = 0.8

    schedule = compute_schedule(terms=make_terms(placed(), retained()), claims=claims)

    assert len(schedule.tranches[0].lines) == 9
    assert schedule.lapsed == ()


def test_the_threshold_counts_verified_claims_even_those_a_unit_limit_stops():
    # RETAINED has 2 verified claims for 2 PLACED: 2 / 2 meets 1.0, though w1's second pays nothing.
    claims = [
        claim("p1", worker="w1"),
        claim("p2", worker="w2"),
        claim("r1", "2026-02-01", metric="RETAINED", worker="w1"),
        claim("r1-again", "2026-02-02", metric="RETAINED", worker="w1"),
    ]

    schedule = compute_schedule(terms=make_terms(placed(), retained(threshold_rate=Decimal(1))), claims=claims)

    assert lines(schedule)[2:] == [
        ("r1", "750.00", "0.00", None),
        ("r1-again", "0.00", "750.00", Reason.MAX_UNITS_PER_WORKER),
    ]


@pytest.mark.parametrize("rate", [Decimal(0), Decimal("0.5")])
def test_a_zero_denominator_never_meets_the_threshold(rate):
    claims = [claim("r1", "2026-02-01", metric="RETAINED"), claim("r2", "2026-11-01", metric="RETAINED")]

    schedule = compute_schedule(terms=make_terms(placed(), retained(threshold_rate=rate)), claims=claims)

    assert lines(schedule) == []
    assert [entry.claim for entry in schedule.lapsed] == ["r1", "r2"]
    assert str(schedule.total) == "0.00"


def test_a_zero_rate_is_met_by_any_denominator():
    claims = [claim("p1", "2026-01-05"), claim("r1", "2026-01-05", metric="RETAINED")]

    schedule = compute_schedule(terms=make_terms(placed(), retained(threshold_rate=Decimal(0))), claims=claims)

    assert [line[0] for line in lines(schedule)] == ["p1", "r1"]


# --- Rule 4: unit limits -----------------------------------------------------------------------------


def test_max_units_per_worker_stops_the_workers_further_units():
    claims = [
        claim("a", "2026-01-05", worker="w1"),
        claim("b", "2026-01-06", worker="w1"),
        claim("c", "2026-01-07", worker="w2"),
        claim("d", "2026-06-07", worker="w1"),
    ]

    schedule = compute_schedule(terms=make_terms(placed(max_units_per_worker=2)), claims=claims)

    assert lines(schedule) == [
        ("a", "500.00", "0.00", None),
        ("b", "500.00", "0.00", None),
        ("c", "500.00", "0.00", None),
        ("d", "0.00", "500.00", Reason.MAX_UNITS_PER_WORKER),
    ]


def test_max_units_per_worker_is_counted_per_metric():
    claims = [claim("p", worker="w1"), claim("z", worker="w1", metric="ZERO_FEE")]

    schedule = compute_schedule(terms=make_terms(placed(), placed(code="ZERO_FEE", price=Decimal(100))), claims=claims)

    assert lines(schedule) == [("p", "500.00", "0.00", None), ("z", "100.00", "0.00", None)]


def test_cap_units_counts_across_tranches():
    claims = [claim("a", "2026-01-05"), claim("b", "2026-05-05"), claim("c", "2026-09-05")]

    schedule = compute_schedule(terms=make_terms(placed(cap_units=2)), claims=claims)

    assert tranche_lines(schedule) == {"2026-Q1": ["a"], "2026-Q2": ["b"], "2026-Q3": ["c"], "2026-Q4": []}
    assert lines(schedule)[2] == ("c", "0.00", "500.00", Reason.CAP_UNITS)


def test_max_units_per_worker_is_checked_before_cap_units():
    claims = [claim("a", worker="w1"), claim("b", worker="w1")]

    schedule = compute_schedule(terms=make_terms(placed(cap_units=1)), claims=claims)

    assert lines(schedule)[1] == ("b", "0.00", "500.00", Reason.MAX_UNITS_PER_WORKER)


def test_a_cap_units_of_zero_counts_nothing():
    schedule = compute_schedule(terms=make_terms(placed(cap_units=0)), claims=[claim("a")])

    assert lines(schedule) == [("a", "0.00", "500.00", Reason.CAP_UNITS)]


def test_a_line_stopped_by_a_unit_limit_shows_the_price_of_the_next_counted_unit():
    tiers = (Tier(units=2, price=Decimal(100)), Tier(units=None, price=Decimal(40)))
    claims = [
        claim("a", worker="w1"),
        claim("a-again", worker="w1"),
        claim("b", worker="w2"),
        claim("c", worker="w3"),
        claim("c-again", worker="w3"),
    ]

    schedule = compute_schedule(terms=make_terms(placed(price=None, tiers=tiers, cap_units=3)), claims=claims)

    assert lines(schedule) == [
        ("a", "100.00", "0.00", None),
        ("a-again", "0.00", "100.00", Reason.MAX_UNITS_PER_WORKER),  # the next unit is the 2nd: 100
        ("b", "100.00", "0.00", None),
        ("c", "40.00", "0.00", None),
        ("c-again", "0.00", "40.00", Reason.MAX_UNITS_PER_WORKER),  # the next unit would be the 4th: 40
    ]


# --- Rule 4: amount limits ---------------------------------------------------------------------------


def test_cap_amount_pays_the_part_of_a_unit_that_fits():
    claims = [claim(name, f"2026-01-0{n}") for n, name in enumerate("abcd", start=1)]

    schedule = compute_schedule(terms=make_terms(placed(cap_amount=Decimal("1200.00"))), claims=claims)

    assert lines(schedule) == [
        ("a", "500.00", "0.00", None),
        ("b", "500.00", "0.00", None),
        ("c", "200.00", "300.00", Reason.CAP_AMOUNT),
        ("d", "0.00", "500.00", Reason.CAP_AMOUNT),
    ]
    assert str(schedule.total) == "1200.00"


def test_an_amount_cap_reached_exactly_cuts_nothing():
    claims = [claim("a", "2026-01-01"), claim("b", "2026-01-02"), claim("c", "2026-01-03")]

    schedule = compute_schedule(
        terms=make_terms(placed(cap_amount=Decimal(1000)), cap_total=Decimal(1000)), claims=claims
    )

    # b fills both caps exactly: no reason. c is cut to 0 by cap_amount; cap_total then cuts nothing.
    assert lines(schedule) == [
        ("a", "500.00", "0.00", None),
        ("b", "500.00", "0.00", None),
        ("c", "0.00", "500.00", Reason.CAP_AMOUNT),
    ]


def test_cap_total_pays_the_part_that_fits_across_metrics():
    claims = [
        claim("p1", "2026-01-05"),
        claim("z1", "2026-02-05", metric="ZERO_FEE"),
        claim("p2", "2026-04-05"),
        claim("z2", "2026-04-06", metric="ZERO_FEE"),
    ]
    terms = make_terms(placed(), placed(code="ZERO_FEE", price=Decimal("300")), cap_total=Decimal("1000"))

    schedule = compute_schedule(terms=terms, claims=claims)

    assert lines(schedule) == [
        ("p1", "500.00", "0.00", None),
        ("z1", "300.00", "0.00", None),
        ("p2", "200.00", "300.00", Reason.CAP_TOTAL),
        ("z2", "0.00", "300.00", Reason.CAP_TOTAL),
    ]
    assert [str(result.total) for result in schedule.tranches] == ["800.00", "200.00", "0.00", "0.00"]


def test_the_reason_is_the_last_limit_that_cut_the_line():
    claims = [claim("z1", "2026-01-01", metric="ZERO_FEE"), claim("p1", "2026-01-02"), claim("p2", "2026-01-03")]
    terms = make_terms(
        placed(cap_amount=Decimal("700")), placed(code="ZERO_FEE", price=Decimal("200")), cap_total=Decimal("850")
    )

    schedule = compute_schedule(terms=terms, claims=claims)

    assert lines(schedule) == [
        ("z1", "200.00", "0.00", None),
        ("p1", "500.00", "0.00", None),
        ("p2", "150.00", "350.00", Reason.CAP_TOTAL),  # cap_amount cut it to 200, then cap_total to 150
    ]


def test_a_zero_cap_total_caps_everything():
    schedule = compute_schedule(terms=make_terms(cap_total=Decimal(0)), claims=[claim("a")])

    assert lines(schedule) == [("a", "0.00", "500.00", Reason.CAP_TOTAL)]


def test_a_unit_paid_nothing_by_an_amount_cap_is_still_a_counted_unit():
    claims = [
        claim("a", "2026-01-01", worker="w1"),
        claim("b", "2026-01-02", worker="w2"),
        claim("b-again", "2026-01-03", worker="w2"),
        claim("c", "2026-01-04", worker="w3"),
    ]

    schedule = compute_schedule(terms=make_terms(placed(cap_amount=Decimal(500), cap_units=2)), claims=claims)

    assert lines(schedule) == [
        ("a", "500.00", "0.00", None),
        ("b", "0.00", "500.00", Reason.CAP_AMOUNT),  # counted: uses w2's unit and the 2nd of cap_units
        ("b-again", "0.00", "500.00", Reason.MAX_UNITS_PER_WORKER),
        ("c", "0.00", "500.00", Reason.CAP_UNITS),
    ]


def test_units_paid_nothing_by_an_amount_cap_move_the_tier_on():
    tiers = (Tier(units=1, price=Decimal(100)), Tier(units=None, price=Decimal(60)))
    claims = [claim("a", "2026-01-01"), claim("b", "2026-01-02"), claim("c", "2026-01-03")]

    schedule = compute_schedule(
        terms=make_terms(placed(price=None, tiers=tiers), cap_total=Decimal(100)), claims=claims
    )

    assert lines(schedule) == [
        ("a", "100.00", "0.00", None),
        ("b", "0.00", "60.00", Reason.CAP_TOTAL),
        ("c", "0.00", "60.00", Reason.CAP_TOTAL),
    ]


# --- Tiers -------------------------------------------------------------------------------------------


def test_tiers_price_each_counted_unit_including_a_zero_tier_and_an_unbounded_last_tier():
    tiers = (
        Tier(units=2, price=Decimal(0)),
        Tier(units=1, price=Decimal("100.00")),
        Tier(units=None, price=Decimal("150.00")),
    )
    claims = [claim(f"c{n}", f"2026-01-0{n}") for n in range(1, 6)]

    schedule = compute_schedule(terms=make_terms(placed(price=None, tiers=tiers)), claims=claims)

    assert lines(schedule) == [
        ("c1", "0.00", "0.00", None),  # "bonus only above the first 2": nothing is cut, so no reason
        ("c2", "0.00", "0.00", None),
        ("c3", "100.00", "0.00", None),
        ("c4", "150.00", "0.00", None),
        ("c5", "150.00", "0.00", None),
    ]


def test_unit_price_of_the_retention_contract_tiers():
    metric = Metric(
        code="RETAINED_180",
        tiers=(
            Tier(units=370, price=Decimal("1100.00")),
            Tier(units=40, price=Decimal("1000.00")),
            Tier(units=None, price=Decimal("1350.00")),
        ),
    )

    prices = {unit: metric.unit_price(unit) for unit in (1, 370, 371, 410, 411, 10_000)}

    assert prices == {
        1: Decimal("1100.00"),
        370: Decimal("1100.00"),
        371: Decimal("1000.00"),
        410: Decimal("1000.00"),
        411: Decimal("1350.00"),
        10_000: Decimal("1350.00"),
    }


def test_tiers_count_units_across_tranches_and_not_stopped_lines():
    tiers = (Tier(units=1, price=Decimal(100)), Tier(units=None, price=Decimal(10)))
    claims = [
        claim("a", "2026-01-05", worker="w1"),
        claim("a-again", "2026-01-06", worker="w1"),
        claim("b", "2026-08-05", worker="w2"),
    ]

    schedule = compute_schedule(terms=make_terms(placed(price=None, tiers=tiers)), claims=claims)

    assert lines(schedule) == [
        ("a", "100.00", "0.00", None),
        ("a-again", "0.00", "10.00", Reason.MAX_UNITS_PER_WORKER),
        ("b", "10.00", "0.00", None),
    ]


# --- Rounding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "price", "amount", "empty_total"),
    [
        ("USD", "10.005", "10.01", "0.00"),
        ("USD", "10.00499", "10.00", "0.00"),
        ("JPY", "100.5", "101", "0"),
        ("JPY", "100.49", "100", "0"),
        ("KWD", "1.0005", "1.001", "0.000"),
        ("KWD", "7", "7.000", "0.000"),
    ],
)
def test_amounts_are_rounded_half_up_to_the_currency(currency, price, amount, empty_total):
    terms = make_terms(placed(price=Decimal(price)), currency=currency)

    schedule = compute_schedule(terms=terms, claims=[claim("a")])

    assert str(schedule.tranches[0].lines[0].amount) == amount
    assert str(schedule.tranches[0].lines[0].capped) == str(Decimal(amount) - Decimal(amount))
    assert str(schedule.tranches[1].total) == empty_total
    assert str(schedule.total) == amount


def test_totals_are_sums_of_rounded_lines():
    claims = [claim(f"c{n}", "2026-01-05") for n in range(3)]

    schedule = compute_schedule(terms=make_terms(placed(price=Decimal("0.005"))), claims=claims)

    assert [line[1] for line in lines(schedule)] == ["0.01", "0.01", "0.01"]
    assert str(schedule.total) == "0.03"  # not 0.015 rounded


def test_a_capped_line_is_its_full_amount_less_what_it_pays():
    schedule = compute_schedule(
        terms=make_terms(placed(price=Decimal("333.335")), cap_total=Decimal("100")), claims=[claim("a")]
    )

    line = schedule.tranches[0].lines[0]
    assert (str(line.amount), str(line.capped), str(line.full)) == ("100.00", "233.34", "333.34")


# --- Tranches ----------------------------------------------------------------------------------------


def test_quarterly_tranches_over_a_year():
    tranches = calendar_tranches(start=START, end=END, period="quarterly", due_days=30)

    assert tranches == (
        TranchePeriod(code="2026-Q1", start=d("2026-01-01"), end=d("2026-03-31"), due=d("2026-04-30")),
        TranchePeriod(code="2026-Q2", start=d("2026-04-01"), end=d("2026-06-30"), due=d("2026-07-30")),
        TranchePeriod(code="2026-Q3", start=d("2026-07-01"), end=d("2026-09-30"), due=d("2026-10-30")),
        TranchePeriod(code="2026-Q4", start=d("2026-10-01"), end=d("2026-12-31"), due=d("2027-01-30")),
    )


def test_monthly_tranches_are_clipped_to_the_contract_and_due_after_their_clipped_end():
    tranches = calendar_tranches(start=d("2027-12-15"), end=d("2028-03-03"), period="monthly", due_days=10)

    assert tranches == (
        TranchePeriod(code="2027-12", start=d("2027-12-15"), end=d("2027-12-31"), due=d("2028-01-10")),
        TranchePeriod(code="2028-01", start=d("2028-01-01"), end=d("2028-01-31"), due=d("2028-02-10")),
        TranchePeriod(code="2028-02", start=d("2028-02-01"), end=d("2028-02-29"), due=d("2028-03-10")),
        TranchePeriod(code="2028-03", start=d("2028-03-01"), end=d("2028-03-03"), due=d("2028-03-13")),
    )


def test_quarterly_tranches_are_clipped_across_a_year_end():
    tranches = calendar_tranches(start=d("2025-11-15"), end=d("2026-05-10"), period="quarterly", due_days=0)

    assert tranches == (
        TranchePeriod(code="2025-Q4", start=d("2025-11-15"), end=d("2025-12-31"), due=d("2025-12-31")),
        TranchePeriod(code="2026-Q1", start=d("2026-01-01"), end=d("2026-03-31"), due=d("2026-03-31")),
        TranchePeriod(code="2026-Q2", start=d("2026-04-01"), end=d("2026-05-10"), due=d("2026-05-10")),
    )


def test_tranches_default_to_being_due_30_days_after_they_end():
    assert calendar_tranches(start=d("2026-02-10"), end=d("2026-02-10"), period="monthly") == (
        TranchePeriod(code="2026-02", start=d("2026-02-10"), end=d("2026-02-10"), due=d("2026-03-12")),
    )


def test_the_last_calendar_tranche_of_the_calendar():
    assert calendar_tranches(start=d("9999-11-15"), end=d("9999-12-31"), period="quarterly", due_days=0) == (
        TranchePeriod(code="9999-Q4", start=d("9999-11-15"), end=d("9999-12-31"), due=d("9999-12-31")),
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period": "weekly"}, "period"),
        ({"period": "monthly", "due_days": -1}, "due_days"),
        ({"period": "monthly", "end": d("2025-12-31")}, "end"),
        ({"period": "monthly", "end": d("9999-12-31")}, "due_days"),
    ],
)
def test_calendar_tranches_refuse_bad_arguments(kwargs, field):
    with pytest.raises(TermsError) as raised:
        calendar_tranches(**{"start": START, "end": END, **kwargs})

    assert raised.value.field == field


def test_explicit_tranches_are_paid_by_their_own_periods():
    tranches = (
        TranchePeriod(code="first", start=START, end=d("2026-01-10"), due=d("2026-02-01")),
        TranchePeriod(code="rest", start=d("2026-01-11"), end=END, due=d("2027-03-01")),
    )
    terms = Terms(currency="USD", start=START, end=END, cap_total=None, tranches=tranches, metrics=(placed(),))

    schedule = compute_schedule(terms=terms, claims=[claim("a", "2026-01-10"), claim("b", "2026-01-11")])

    assert [(result.period, [line.claim for line in result.lines]) for result in schedule.tranches] == [
        (tranches[0], ["a"]),
        (tranches[1], ["b"]),
    ]


def tranche(code: str, start: str, end: str, due: str | None = None) -> TranchePeriod:
    return TranchePeriod(code=code, start=d(start), end=d(end), due=d(due or end))


@pytest.mark.parametrize(
    ("tranches", "field"),
    [
        ((), "tranches"),
        ((tranche("a", "2026-01-02", "2026-12-31"),), "tranches[0].start"),
        ((tranche("a", "2026-01-01", "2026-06-30"), tranche("b", "2026-07-02", "2026-12-31")), "tranches[1].start"),
        ((tranche("a", "2026-01-01", "2026-06-30"), tranche("b", "2026-06-30", "2026-12-31")), "tranches[1].start"),
        ((tranche("b", "2026-07-01", "2026-12-31"), tranche("a", "2026-01-01", "2026-06-30")), "tranches[0].start"),
        ((tranche("a", "2026-01-01", "2026-06-30"),), "tranches[0].end"),
        ((tranche("a", "2026-01-01", "2027-01-31"),), "tranches[0].end"),
        ((tranche("a", "2026-01-01", "2026-12-31"), tranche("b", "2027-01-01", "2027-01-31")), "tranches[1].start"),
        ((tranche("a", "2026-01-01", "2026-06-30"), tranche("b", "2026-07-01", "2026-06-30")), "tranches[1].end"),
        ((tranche("a", "2026-01-01", "2026-12-31", due="2026-12-30"),), "tranches[0].due"),
        ((tranche("a", "2026-01-01", "2026-06-30"), tranche("a", "2026-07-01", "2026-12-31")), "tranches[1].code"),
        ((tranche("", "2026-01-01", "2026-12-31"),), "tranches[0].code"),
    ],
    ids=[
        "empty",
        "late-start",
        "gap",
        "overlap",
        "out-of-order",
        "short",
        "past-end",
        "extra",
        "end-before-start",
        "due-before-end",
        "duplicate-code",
        "empty-code",
    ],
)
def test_explicit_tranches_must_cover_the_contract_contiguously_and_in_order(tranches, field):
    with pytest.raises(TermsError) as raised:
        validate_tranches(start=START, end=END, tranches=tranches)

    assert raised.value.field == field


def test_explicit_tranches_covering_the_contract_are_valid():
    validate_tranches(
        start=START,
        end=END,
        tranches=(tranche("a", "2026-01-01", "2026-01-01"), tranche("b", "2026-01-02", "2026-12-31", due="2027-01-15")),
    )


# --- Validation of terms and claims ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": ""}, "code"),
        ({"price": None}, "price"),
        ({"tiers": (Tier(units=None, price=Decimal(1)),)}, "tiers"),
        ({"price": Decimal("-0.01")}, "price"),
        ({"price": Decimal("-0")}, "price"),
        ({"price": Decimal("NaN")}, "price"),
        ({"price": Decimal("Infinity")}, "price"),
        ({"price": None, "tiers": ()}, "tiers"),
        (
            {"price": None, "tiers": (Tier(units=None, price=Decimal(1)), Tier(units=5, price=Decimal(2)))},
            "tiers[0].units",
        ),
        (
            {"price": None, "tiers": (Tier(units=5, price=Decimal(1)), Tier(units=5, price=Decimal(2)))},
            "tiers[1].units",
        ),
        (
            {"price": None, "tiers": (Tier(units=0, price=Decimal(1)), Tier(units=None, price=Decimal(2)))},
            "tiers[0].units",
        ),
        (
            {"price": None, "tiers": (Tier(units=3, price=Decimal(1)), Tier(units=None, price=Decimal(-2)))},
            "tiers[1].price",
        ),
        ({"max_units_per_worker": 0}, "max_units_per_worker"),
        ({"cap_units": -1}, "cap_units"),
        ({"cap_amount": Decimal("-1")}, "cap_amount"),
        ({"threshold_rate": Decimal("1.01"), "denominator": "X"}, "threshold_rate"),
        ({"threshold_rate": Decimal("-0.1"), "denominator": "X"}, "threshold_rate"),
        ({"threshold_rate": Decimal("NaN"), "denominator": "X"}, "threshold_rate"),
        ({"threshold_rate": Decimal("0.5")}, "denominator"),
        ({"denominator": "X"}, "threshold_rate"),
    ],
)
def test_invalid_metrics_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(TermsError) as raised:
        placed(**kwargs)

    assert raised.value.field == field
    assert str(raised.value) == f"{field}: {raised.value.message}"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"currency": "usd"}, "currency"),
        ({"end": d("2025-12-31")}, "end"),
        ({"cap_total": Decimal("-1")}, "cap_total"),
        ({"cap_total": Decimal("100.001")}, "cap_total"),
        ({"currency": "JPY", "cap_total": Decimal("100.5")}, "cap_total"),
        ({"metrics": (placed(), placed())}, "metrics[1].code"),
        ({"metrics": (placed(), retained(denominator="HIRED"))}, "metrics[1].denominator"),
        ({"metrics": (placed(), retained(denominator="RETAINED"))}, "metrics[1].denominator"),
        ({"metrics": (placed(cap_amount=Decimal("0.5")),), "currency": "JPY"}, "metrics[0].cap_amount"),
        ({"tranches": ()}, "tranches"),
    ],
)
def test_invalid_terms_are_refused_naming_the_field(kwargs, field):
    fields = {
        "currency": "USD",
        "start": START,
        "end": END,
        "cap_total": None,
        "tranches": calendar_tranches(start=START, end=END, period="quarterly"),
        "metrics": (placed(),),
        **kwargs,
    }

    with pytest.raises(TermsError) as raised:
        Terms(**fields)

    assert raised.value.field == field


def test_caps_in_whole_minor_units_are_valid_whatever_their_exponent():
    terms = make_terms(placed(cap_amount=Decimal("500.000")), currency="JPY", cap_total=Decimal("1500.00"))

    assert terms.cap_total == Decimal(1500)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "approved"}, "status"),
        ({"status": "verified", "verified_on": None}, "verified_on"),
        ({"id": ""}, "id"),
        ({"worker": ""}, "worker"),
        ({"metric": ""}, "metric"),
    ],
)
def test_invalid_claims_are_refused_naming_the_field(kwargs, field):
    fields = {
        "id": "c1",
        "metric": "PLACED",
        "worker": "w1",
        "achieved_on": None,
        "verified_on": START,
        "status": "verified",
        **kwargs,
    }

    with pytest.raises(TermsError) as raised:
        Claim(**fields)

    assert raised.value.field == field


def test_an_unverified_claim_needs_no_verified_on():
    assert claim("c1", None, status="claimed").verified_on is None


@pytest.mark.parametrize(
    ("claims", "field"),
    [
        ([claim("c1"), claim("c2", metric="HIRED")], "claims[1].metric"),
        ([claim("c1"), claim("c2"), claim("c1", status="rejected")], "claims[2].id"),
    ],
)
def test_claims_must_name_known_metrics_and_unique_ids(claims, field):
    with pytest.raises(TermsError) as raised:
        validate_claims(terms=make_terms(), claims=claims)
    assert raised.value.field == field

    with pytest.raises(TermsError):
        compute_schedule(terms=make_terms(), claims=claims)
