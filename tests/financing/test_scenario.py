"""The simulator's JSON (rbf-scenario.md): the test vector, the output format, and every bad input."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from financing.payments import Claim, Metric, Terms, TermsError, Tier, TranchePeriod, compute_schedule
from financing.scenario import ScenarioError, parse_scenario, schedule_to_json, simulate
from tests.financing.scenarios import worked_example


def empty_tranche(code: str, start: str, end: str, due: str, total: str = "0.00") -> dict[str, Any]:
    return {"code": code, "start": start, "end": end, "due": due, "lines": [], "total": total}


def paid(
    claim: str, worker: str, amount: str, capped: str = "0.00", reason: str | None = None, metric: str = "PLACED"
) -> dict[str, Any]:
    return {"claim": claim, "metric": metric, "worker": worker, "amount": amount, "capped": capped, "reason": reason}


def test_the_test_vector_gives_the_documented_result():
    assert simulate(worked_example()) == {
        "currency": "USD",
        "tranches": [
            {
                "code": "2026-Q1",
                "start": "2026-01-01",
                "end": "2026-03-31",
                "due": "2026-04-30",
                "lines": [
                    paid("c1", "w1", "500.00"),
                    paid("c2", "w2", "500.00"),
                    paid("c3", "w3", "500.00"),
                    paid("c4", "w4", "0.00", capped="500.00", reason="cap_units"),
                ],
                "total": "1500.00",
            },
            empty_tranche("2026-Q2", "2026-04-01", "2026-06-30", "2026-07-30"),
            empty_tranche("2026-Q3", "2026-07-01", "2026-09-30", "2026-10-30"),
            empty_tranche("2026-Q4", "2026-10-01", "2026-12-31", "2027-01-30"),
        ],
        "lapsed": [],
        "not_payable": [],
        "total": "1500.00",
    }


def test_the_output_keeps_the_documented_field_order():
    result = simulate(worked_example())

    assert list(result) == ["currency", "tranches", "lapsed", "not_payable", "total"]
    assert list(result["tranches"][0]) == ["code", "start", "end", "due", "lines", "total"]
    assert list(result["tranches"][0]["lines"][0]) == ["claim", "metric", "worker", "amount", "capped", "reason"]


def test_the_example_input_of_the_spec_is_accepted():
    scenario = worked_example()
    scenario["cap_total"] = "100000.00"
    scenario["metrics"] = [
        {
            "code": "PLACED",
            "price": "500.00",
            "max_units_per_worker": 1,
            "cap_units": 3,
            "cap_amount": None,
            "threshold_rate": None,
            "denominator": None,
        },
        {"code": "RETAINED_180", "price": "750.00", "threshold_rate": "0.8", "denominator": "PLACED"},
    ]

    terms, _ = parse_scenario(scenario)

    assert terms.metrics == (
        Metric(code="PLACED", price=Decimal("500.00"), cap_units=3),
        Metric(code="RETAINED_180", price=Decimal("750.00"), threshold_rate=Decimal("0.8"), denominator="PLACED"),
    )
    assert terms.cap_total == Decimal("100000.00")


def test_a_scenario_is_parsed_into_terms_and_claims_in_input_order():
    scenario = worked_example()
    scenario["claims"].reverse()
    scenario["claims"][0].update(status="claimed", verified_on=None, achieved_on=None)

    terms, claims = parse_scenario(scenario)

    assert terms.currency == "USD"
    assert (terms.start, terms.end, terms.cap_total) == (date(2026, 1, 1), date(2026, 12, 31), None)
    assert [tranche.code for tranche in terms.tranches] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert claims[0] == Claim(
        id="c4", metric="PLACED", worker="w4", achieved_on=None, verified_on=None, status="claimed"
    )
    assert [claim.id for claim in claims] == ["c4", "c3", "c2", "c1"]
    assert claims[1].achieved_on == date(2026, 1, 2)


def test_tiers_and_defaults_are_parsed():
    scenario = worked_example()
    scenario["metrics"] = [
        {
            "code": "PLACED",
            "tiers": [
                {"units": 370, "price": "1100.00"},
                {"units": 40, "price": 1000},
                {"units": None, "price": "1350.00"},
            ],
        }
    ]

    terms, _ = parse_scenario(scenario)

    assert terms.metrics == (
        Metric(
            code="PLACED",
            tiers=(
                Tier(units=370, price=Decimal("1100.00")),
                Tier(units=40, price=Decimal("1000")),
                Tier(units=None, price=Decimal("1350.00")),
            ),
            max_units_per_worker=1,
            cap_units=None,
            cap_amount=None,
        ),
    )


def test_a_tier_without_units_is_the_unbounded_one():
    scenario = worked_example()
    scenario["metrics"] = [{"code": "PLACED", "tiers": [{"units": 1, "price": "0"}, {"price": "10"}]}]

    result = simulate(scenario)

    assert [line["amount"] for line in result["tranches"][0]["lines"]] == ["0.00", "10.00", "10.00", "10.00"]


def test_integers_and_plain_strings_are_accepted_as_amounts_and_padded_to_the_currency():
    scenario = worked_example()
    scenario["metrics"][0].update(price=500, cap_amount="1250")

    lines = simulate(scenario)["tranches"][0]["lines"]

    assert [(line["amount"], line["capped"], line["reason"]) for line in lines] == [
        ("500.00", "0.00", None),
        ("500.00", "0.00", None),
        ("250.00", "250.00", "cap_amount"),
        ("0.00", "500.00", "cap_units"),
    ]


def test_monthly_tranches_are_clipped_due_by_default_30_days_later_and_listed_even_when_empty():
    scenario = {**worked_example(), "start": "2026-01-15", "end": "2026-03-10", "tranches": {"period": "monthly"}}
    for claim in scenario["claims"]:
        claim["achieved_on"] = "2026-01-15"  # within the period, as every claim is
    scenario["claims"][0]["verified_on"] = "2026-03-20"  # after the period's end: not payable

    result = simulate(scenario)

    assert [(t["code"], t["start"], t["end"], t["due"], len(t["lines"]), t["total"]) for t in result["tranches"]] == [
        ("2026-01", "2026-01-15", "2026-01-31", "2026-03-02", 1, "500.00"),
        ("2026-02", "2026-02-01", "2026-02-28", "2026-03-30", 2, "1000.00"),
        ("2026-03", "2026-03-01", "2026-03-10", "2026-04-09", 0, "0.00"),
    ]
    assert result["not_payable"] == [
        {"claim": "c1", "metric": "PLACED", "worker": "w1", "reason": "outside_contract_period"}
    ]
    assert result["total"] == "1500.00"


def test_explicit_tranches_are_used_as_given():
    scenario = worked_example()
    scenario["tranches"] = [
        {"code": "launch", "start": "2026-01-01", "end": "2026-01-31", "due": "2026-02-15"},
        {"code": "rest", "start": "2026-02-01", "end": "2026-12-31", "due": "2027-01-31"},
    ]

    terms, _ = parse_scenario(scenario)
    result = simulate(scenario)

    assert terms.tranches == (
        TranchePeriod(code="launch", start=date(2026, 1, 1), end=date(2026, 1, 31), due=date(2026, 2, 15)),
        TranchePeriod(code="rest", start=date(2026, 2, 1), end=date(2026, 12, 31), due=date(2027, 1, 31)),
    )
    assert [(t["code"], [line["claim"] for line in t["lines"]], t["total"]) for t in result["tranches"]] == [
        ("launch", ["c1", "c2"], "1000.00"),
        ("rest", ["c3", "c4"], "500.00"),
    ]


def test_lapsed_and_not_payable_claims_are_listed_as_objects():
    scenario = worked_example()
    scenario["metrics"].append({"code": "RETAINED", "price": "750.00", "threshold_rate": "1", "denominator": "PLACED"})
    scenario["claims"] += [
        {"id": "r1", "metric": "RETAINED", "worker": "w1", "verified_on": "2026-06-01", "status": "verified"},
        {"id": "late", "metric": "PLACED", "worker": "w9", "verified_on": "2027-01-01", "status": "verified"},
        {"id": "gone", "metric": "PLACED", "worker": "w8", "verified_on": "2026-03-01", "status": "reversed"},
    ]

    result = simulate(scenario)

    assert result["lapsed"] == [{"claim": "r1", "metric": "RETAINED", "worker": "w1", "reason": "threshold_not_met"}]
    assert result["not_payable"] == [
        {"claim": "late", "metric": "PLACED", "worker": "w9", "reason": "outside_contract_period"}
    ]
    assert result["total"] == "1500.00"


@pytest.mark.parametrize(
    ("currency", "price", "amount", "empty_total"),
    [("USD", "0.125", "0.13", "0.00"), ("JPY", "1234.5", "1235", "0"), ("KWD", "0.0125", "0.013", "0.000")],
)
def test_amounts_are_strings_with_exactly_the_currencys_decimals(currency, price, amount, empty_total):
    scenario = {**worked_example(), "currency": currency}
    scenario["metrics"][0]["price"] = price

    result = simulate(scenario)

    line = result["tranches"][0]["lines"][3]
    assert (line["amount"], line["capped"]) == (empty_total, amount)
    assert result["tranches"][0]["lines"][0]["amount"] == amount
    assert result["tranches"][1]["total"] == empty_total
    assert result["total"] == str(3 * Decimal(amount))


def test_simulate_is_parse_then_compute_then_json():
    terms, claims = parse_scenario(worked_example())

    assert simulate(worked_example()) == schedule_to_json(compute_schedule(terms=terms, claims=claims))


def test_parsing_does_not_change_the_input():
    scenario = worked_example()
    original = copy.deepcopy(scenario)

    simulate(scenario)

    assert scenario == original


# --- Bad input ---------------------------------------------------------------------------------------

Edit = Callable[[dict[str, Any]], object]


def put(path: str, value: object) -> Edit:
    """An edit of the test vector setting ``path`` (e.g. ``metrics.0.price``) to ``value``."""

    def edit(scenario: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = scenario
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return edit


def drop(path: str) -> Edit:
    def edit(scenario: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = scenario
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return edit


def add_metric(metric: dict[str, Any]) -> Edit:
    return lambda scenario: scenario["metrics"].append(metric)


TRANCHE_A = {"code": "H1", "start": "2026-01-01", "end": "2026-06-30", "due": "2026-07-31"}
TRANCHE_B = {"code": "H2", "start": "2026-07-01", "end": "2026-12-31", "due": "2027-01-31"}

BAD_INPUT = [
    # top level
    ("unknown-field", put("pilot", "P1"), "pilot", "unknown field"),
    ("currency-missing", drop("currency"), "currency", "is required"),
    ("currency-unknown", put("currency", "XXX"), "currency", "unknown currency"),
    ("currency-lowercase", put("currency", "usd"), "currency", "unknown currency"),
    ("currency-number", put("currency", 840), "currency", "non-empty string"),
    ("start-missing", drop("start"), "start", "is required"),
    ("start-malformed", put("start", "2026-1-1"), "start", "YYYY-MM-DD"),
    ("start-compact", put("start", "20260101"), "start", "YYYY-MM-DD"),
    ("start-invalid", put("start", "2026-02-30"), "start", "not a valid date"),
    ("start-number", put("start", 20260101), "start", "YYYY-MM-DD"),
    ("end-before-start", put("end", "2025-12-31"), "end", "must not be before start"),
    ("cap-total-float", put("cap_total", 1500.5), "cap_total", "binary floating point"),
    ("cap-total-exponent", put("cap_total", "1e3"), "cap_total", "decimal"),
    ("cap-total-text", put("cap_total", "lots"), "cap_total", "decimal"),
    ("cap-total-bool", put("cap_total", True), "cap_total", "decimal"),
    ("cap-total-blank", put("cap_total", " 100"), "cap_total", "decimal"),
    ("cap-total-negative", put("cap_total", "-1.00"), "cap_total", "must not be negative"),
    ("cap-total-fraction-of-cent", put("cap_total", "100.001"), "cap_total", "minor units"),
    ("cap-total-too-large", put("cap_total", "1" + "0" * 12), "cap_total", "too large"),
    ("cap-total-too-large-int", put("cap_total", 10**12), "cap_total", "too large"),
    ("cap-total-too-large-padded", put("cap_total", "0001000000000000.5"), "cap_total", "too large"),
    # metrics
    ("metrics-missing", drop("metrics"), "metrics", "is required"),
    ("metrics-not-list", put("metrics", {"code": "PLACED"}), "metrics", "must be a list"),
    ("metric-not-object", put("metrics.0", "PLACED"), "metrics[0]", "must be a JSON object"),
    ("metric-unknown-field", put("metrics.0.cap_unit", 3), "metrics[0].cap_unit", "unknown field"),
    ("metric-code-missing", drop("metrics.0.code"), "metrics[0].code", "is required"),
    ("metric-code-empty", put("metrics.0.code", ""), "metrics[0].code", "non-empty string"),
    ("metric-code-duplicate", add_metric({"code": "PLACED", "price": "1"}), "metrics[1].code", "duplicate"),
    ("price-negative", put("metrics.0.price", "-500.00"), "metrics[0].price", "must not be negative"),
    ("price-float", put("metrics.0.price", 500.0), "metrics[0].price", "binary floating point"),
    ("price-and-tiers", put("metrics.0.tiers", [{"units": None, "price": "1"}]), "metrics[0].tiers", "not both"),
    ("price-nor-tiers", drop("metrics.0.price"), "metrics[0].price", "give a price or tiers"),
    (
        "tiers-not-list",
        add_metric({"code": "R", "tiers": {"units": None, "price": "1"}}),
        "metrics[1].tiers",
        "must be a list",
    ),
    ("tiers-empty", add_metric({"code": "R", "tiers": []}), "metrics[1].tiers", "at least one tier"),
    (
        "tier-unbounded-not-last",
        add_metric({"code": "R", "tiers": [{"units": None, "price": "1"}, {"units": 2, "price": "2"}]}),
        "metrics[1].tiers[0].units",
        "only the last tier",
    ),
    (
        "tier-last-bounded",
        add_metric({"code": "R", "tiers": [{"units": 2, "price": "1"}]}),
        "metrics[1].tiers[0].units",
        "must be unbounded",
    ),
    (
        "tier-units-zero",
        add_metric({"code": "R", "tiers": [{"units": 0, "price": "1"}, {"price": "2"}]}),
        "metrics[1].tiers[0].units",
        "at least 1",
    ),
    (
        "tier-units-text",
        add_metric({"code": "R", "tiers": [{"units": "5", "price": "1"}, {"price": "2"}]}),
        "metrics[1].tiers[0].units",
        "integer",
    ),
    (
        "tier-price-missing",
        add_metric({"code": "R", "tiers": [{"units": None}]}),
        "metrics[1].tiers[0].price",
        "is required",
    ),
    (
        "tier-price-negative",
        add_metric({"code": "R", "tiers": [{"units": 1, "price": "1"}, {"price": "-2"}]}),
        "metrics[1].tiers[1].price",
        "must not be negative",
    ),
    (
        "tier-unknown-field",
        add_metric({"code": "R", "tiers": [{"upto": 5, "price": "1"}]}),
        "metrics[1].tiers[0].upto",
        "unknown field",
    ),
    ("max-units-zero", put("metrics.0.max_units_per_worker", 0), "metrics[0].max_units_per_worker", "at least 1"),
    ("max-units-float", put("metrics.0.max_units_per_worker", 1.0), "metrics[0].max_units_per_worker", "integer"),
    ("max-units-bool", put("metrics.0.max_units_per_worker", True), "metrics[0].max_units_per_worker", "integer"),
    ("cap-units-negative", put("metrics.0.cap_units", -1), "metrics[0].cap_units", "must not be negative"),
    ("cap-units-text", put("metrics.0.cap_units", "3"), "metrics[0].cap_units", "integer"),
    ("cap-amount-negative", put("metrics.0.cap_amount", "-0.01"), "metrics[0].cap_amount", "must not be negative"),
    ("cap-amount-fraction-of-cent", put("metrics.0.cap_amount", "0.005"), "metrics[0].cap_amount", "minor units"),
    (
        "threshold-above-one",
        add_metric({"code": "R", "price": "1", "threshold_rate": "1.5", "denominator": "PLACED"}),
        "metrics[1].threshold_rate",
        "between 0 and 1",
    ),
    (
        "threshold-negative",
        add_metric({"code": "R", "price": "1", "threshold_rate": "-0.1", "denominator": "PLACED"}),
        "metrics[1].threshold_rate",
        "between 0 and 1",
    ),
    (
        "threshold-float",
        add_metric({"code": "R", "price": "1", "threshold_rate": 0.8, "denominator": "PLACED"}),
        "metrics[1].threshold_rate",
        "binary floating point",
    ),
    (
        "threshold-without-denominator",
        add_metric({"code": "R", "price": "1", "threshold_rate": "0.8"}),
        "metrics[1].denominator",
        "required with a threshold_rate",
    ),
    (
        "denominator-without-threshold",
        add_metric({"code": "R", "price": "1", "denominator": "PLACED"}),
        "metrics[1].threshold_rate",
        "required with a denominator",
    ),
    (
        "denominator-unknown",
        add_metric({"code": "R", "price": "1", "threshold_rate": "0.8", "denominator": "HIRED"}),
        "metrics[1].denominator",
        "unknown metric 'HIRED'",
    ),
    (
        "denominator-itself",
        add_metric({"code": "R", "price": "1", "threshold_rate": "0.8", "denominator": "R"}),
        "metrics[1].denominator",
        "another metric",
    ),
    # tranches
    ("tranches-missing", drop("tranches"), "tranches", "is required"),
    ("tranches-string", put("tranches", "quarterly"), "tranches", "must be"),
    ("period-missing", put("tranches", {"due_days": 30}), "tranches.period", "is required"),
    ("period-unknown", put("tranches.period", "weekly"), "tranches.period", "monthly, quarterly"),
    ("due-days-negative", put("tranches.due_days", -1), "tranches.due_days", "must not be negative"),
    ("due-days-text", put("tranches.due_days", "30"), "tranches.due_days", "integer"),
    ("due-days-overflow", put("tranches.due_days", 10**9), "tranches.due_days", "year 9999"),
    ("tranches-unknown-field", put("tranches.every", 3), "tranches.every", "unknown field"),
    ("tranches-empty", put("tranches", []), "tranches", "at least one tranche"),
    ("tranche-not-object", put("tranches", ["H1"]), "tranches[0]", "must be a JSON object"),
    (
        "tranche-code-missing",
        put("tranches", [{**TRANCHE_A, "code": None}, TRANCHE_B]),
        "tranches[0].code",
        "is required",
    ),
    (
        "tranche-due-malformed",
        put("tranches", [{**TRANCHE_A, "due": "soon"}, TRANCHE_B]),
        "tranches[0].due",
        "YYYY-MM-DD",
    ),
    (
        "tranche-gap",
        put("tranches", [TRANCHE_A, {**TRANCHE_B, "start": "2026-07-02"}]),
        "tranches[1].start",
        "must be 2026-07-01",
    ),
    (
        "tranche-overlap",
        put("tranches", [TRANCHE_A, {**TRANCHE_B, "start": "2026-06-01"}]),
        "tranches[1].start",
        "must be 2026-07-01",
    ),
    ("tranche-out-of-order", put("tranches", [TRANCHE_B, TRANCHE_A]), "tranches[0].start", "must be 2026-01-01"),
    ("tranche-short", put("tranches", [TRANCHE_A]), "tranches[0].end", "must be the contract's end"),
    (
        "tranche-past-end",
        put("tranches", [TRANCHE_A, {**TRANCHE_B, "end": "2027-01-01"}]),
        "tranches[1].end",
        "must not be after",
    ),
    # claims
    ("claims-missing", drop("claims"), "claims", "is required"),
    ("claims-not-list", put("claims", {}), "claims", "must be a list"),
    ("claim-not-object", put("claims.0", "c1"), "claims[0]", "must be a JSON object"),
    ("claim-unknown-field", put("claims.0.amount", "500"), "claims[0].amount", "unknown field"),
    ("claim-id-missing", drop("claims.0.id"), "claims[0].id", "is required"),
    ("claim-id-number", put("claims.0.id", 1), "claims[0].id", "non-empty string"),
    ("claim-id-duplicate", put("claims.2.id", "c1"), "claims[2].id", "duplicate claim id 'c1'"),
    ("claim-worker-missing", drop("claims.1.worker"), "claims[1].worker", "is required"),
    ("claim-metric-unknown", put("claims.3.metric", "HIRED"), "claims[3].metric", "unknown metric 'HIRED'"),
    ("claim-status-missing", drop("claims.0.status"), "claims[0].status", "is required"),
    ("claim-status-unknown", put("claims.0.status", "approved"), "claims[0].status", "must be one of"),
    ("claim-verified-without-date", put("claims.1.verified_on", None), "claims[1].verified_on", "is required"),
    ("claim-verified-on-malformed", put("claims.1.verified_on", "05/01/2026"), "claims[1].verified_on", "YYYY-MM-DD"),
    ("claim-achieved-on-invalid", put("claims.1.achieved_on", "2026-13-01"), "claims[1].achieved_on", "not a valid"),
]


@pytest.mark.parametrize(
    ("edit", "field", "message"), [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT]
)
def test_bad_input_is_refused_naming_the_field(edit, field, message):
    scenario = worked_example()
    edit(scenario)

    with pytest.raises(ScenarioError) as raised:
        simulate(scenario)

    assert raised.value.field == field
    assert message in raised.value.message
    assert str(raised.value) == f"{field}: {raised.value.message}"


@pytest.mark.parametrize("data", [None, [], "scenario", 42])
def test_a_scenario_that_is_not_an_object_is_refused(data):
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(data)

    assert (raised.value.field, raised.value.message) == ("scenario", "must be a JSON object")


def test_a_scenario_error_is_a_terms_error():
    assert issubclass(ScenarioError, TermsError)
    assert issubclass(ScenarioError, ValueError)


VALID_EDITS = [
    put("cap_total", "1500.00"),
    put("cap_total", None),
    put("cap_total", "000999999999999.99"),
    put("metrics.0.cap_amount", "0.01"),
    put("tranches", [TRANCHE_A, TRANCHE_B]),
    put("tranches.due_days", 0),
    add_metric({"code": "R", "price": "1", "threshold_rate": "0", "denominator": "PLACED"}),
    put("claims.1.verified_on", "2026-12-31"),
    put("claims.1.achieved_on", None),
    put("claims.1", {"id": "c2", "metric": "PLACED", "worker": "w2", "status": "rejected"}),
]


@pytest.mark.parametrize("edit", VALID_EDITS)
def test_the_same_edits_with_valid_values_are_accepted(edit):
    """So each bad-input case above fails for its own reason, not for the shape of its edit."""
    scenario = worked_example()
    edit(scenario)

    assert isinstance(parse_scenario(scenario)[0], Terms)


def test_errors_come_in_the_order_of_the_document():
    with pytest.raises(ScenarioError) as raised:
        parse_scenario({"currency": "XXX", "metrics": "none"})

    assert raised.value.field == "currency"
