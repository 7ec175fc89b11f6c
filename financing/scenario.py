"""The contract simulator's JSON: a scenario in, the payment schedule out (``docs/rbf-scenario.md``).

Pure like ``payments``, so ``manage.py simulate_contract`` and ``POST /api/v1/contracts/simulate/`` share
one parser and one format. This module only reads and writes JSON shapes; what makes terms valid (prices,
caps, thresholds, tranches covering the period) is checked once, by the ``payments`` dataclasses, and
their ``TermsError`` is re-raised here under the JSON path of the object that was being read.

Input decisions:

- Amounts and rates are strings holding a plain decimal (``"500.00"``, ``"0.8"``, ``"-1"`` is read and then
  refused as negative) or JSON integers. JSON numbers with a fraction or exponent are refused: by the
  time they reach us they have been through binary floating point and may no longer be the number typed.
  Amounts have at most ``MAX_INTEGER_DIGITS`` digits before the point, what a ``MoneyField`` stores.
- Counts (``max_units_per_worker``, ``cap_units``, tier ``units``, ``due_days``) are JSON integers.
- Dates are ``YYYY-MM-DD`` strings.
- Unknown fields are refused: a misspelt ``cap_unit`` silently ignored would simulate an uncapped contract.
- ``null`` is the same as an absent optional field; every top-level field but ``cap_total`` is required.
- Bounds, so that no request can ask for unbounded work: every date between ``EARLIEST_DATE`` and
  ``LATEST_DATE``; a period (``start`` to ``end``) of at most ``MAX_PERIOD_YEARS`` years; at most
  ``MAX_CLAIMS`` claims; a claim achieved within the period and verified no earlier than it was achieved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TypeVar, overload

from financing.payments import (
    DEFAULT_DUE_DAYS,
    Claim,
    Metric,
    Schedule,
    Terms,
    TermsError,
    Tier,
    TranchePeriod,
    Unpaid,
    calendar_tranches,
    compute_schedule,
    validate_claims,
    validate_currency,
    validate_period,
)
from lamp.currencies import quantize

ROOT = "scenario"  # the field named when the scenario itself is not an object
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)
MAX_PERIOD_YEARS = 10
MAX_CLAIMS = 50_000
MAX_INTEGER_DIGITS = 12  # lamp.fields.MoneyField: 15 digits, 3 of them decimals

_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_SCENARIO_KEYS = frozenset({"currency", "start", "end", "cap_total", "tranches", "metrics", "claims"})
_PERIOD_KEYS = frozenset({"period", "due_days"})
_TRANCHE_KEYS = frozenset({"code", "start", "end", "due"})
_METRIC_KEYS = frozenset(
    {"code", "price", "tiers", "max_units_per_worker", "cap_units", "cap_amount", "threshold_rate", "denominator"}
)
_TIER_KEYS = frozenset({"units", "price"})
_CLAIM_KEYS = frozenset({"id", "metric", "worker", "achieved_on", "verified_on", "status"})

T = TypeVar("T")
Parse = Callable[[object, str], T]  # (JSON value, its path) -> parsed value, or ScenarioError


class ScenarioError(TermsError):
    """Bad simulator input; ``field`` is the JSON path of the bad value, e.g. ``metrics[1].price``."""


def simulate(data: object) -> dict[str, object]:
    """A scenario's JSON in, its schedule's JSON out."""
    terms, claims = parse_scenario(data)
    return schedule_to_json(compute_schedule(terms=terms, claims=claims))


def parse_scenario(data: object) -> tuple[Terms, list[Claim]]:
    """Read a scenario (already decoded from JSON) into terms and claims, or raise ``ScenarioError``."""
    fields = _Fields(data, path="", keys=_SCENARIO_KEYS)
    currency = fields.required("currency", _string)
    with _under(""):
        validate_currency(currency)  # first, so errors come in the order of the document
    start = fields.required("start", _date)
    end = fields.required("end", _date)
    with _under(""):
        validate_period(start=start, end=end)  # before calendar tranches are cut from the period
    if end >= (limit := _years_after(start, MAX_PERIOD_YEARS)):
        raise ScenarioError("end", f"the period is at most {MAX_PERIOD_YEARS} years: end before {limit.isoformat()}")
    with _under(""):
        terms = Terms(
            currency=currency,
            start=start,
            end=end,
            cap_total=fields.optional("cap_total", _decimal),
            tranches=fields.required("tranches", partial(_tranches, start=start, end=end)),
            metrics=tuple(fields.required("metrics", partial(_list, item=_metric))),
        )
    claims = fields.required("claims", partial(_list, item=partial(_claim, start=start, end=end), most=MAX_CLAIMS))
    with _under(""):
        validate_claims(terms=terms, claims=claims)
    return terms, claims


def schedule_to_json(schedule: Schedule) -> dict[str, object]:
    """The simulator's output: every tranche in order, amounts as strings with the currency's decimals."""

    def money(amount: Decimal) -> str:
        return f"{quantize(amount, schedule.currency):f}"

    def unpaid(entry: Unpaid) -> dict[str, object]:
        return {"claim": entry.claim, "metric": entry.metric, "worker": entry.worker, "reason": entry.reason.value}

    return {
        "currency": schedule.currency,
        "tranches": [
            {
                "code": result.period.code,
                "start": result.period.start.isoformat(),
                "end": result.period.end.isoformat(),
                "due": result.period.due.isoformat(),
                "lines": [
                    {
                        "claim": line.claim,
                        "metric": line.metric,
                        "worker": line.worker,
                        "amount": money(line.amount),
                        "capped": money(line.capped),
                        "reason": None if line.reason is None else line.reason.value,
                    }
                    for line in result.lines
                ],
                "total": money(result.total),
            }
            for result in schedule.tranches
        ],
        "lapsed": [unpaid(entry) for entry in schedule.lapsed],
        "not_payable": [unpaid(entry) for entry in schedule.not_payable],
        "total": money(schedule.total),
    }


# --- Objects of the scenario -------------------------------------------------------------------------


def _tranches(value: object, path: str, *, start: date, end: date) -> tuple[TranchePeriod, ...]:
    """``{"period": ..., "due_days": N}`` or an explicit list (``Terms`` checks that it covers the period)."""
    if isinstance(value, list):
        return tuple(_list(value, path, item=_tranche))
    if not isinstance(value, dict):
        raise ScenarioError(path, 'must be {"period": "monthly" | "quarterly", "due_days": N} or a list of tranches')
    fields = _Fields(value, path=path, keys=_PERIOD_KEYS)
    with _under(path):
        return calendar_tranches(
            start=start,
            end=end,
            period=fields.required("period", _string),
            due_days=fields.optional("due_days", _integer, DEFAULT_DUE_DAYS),
        )


def _tranche(value: object, path: str) -> TranchePeriod:
    fields = _Fields(value, path=path, keys=_TRANCHE_KEYS)
    return TranchePeriod(
        code=fields.required("code", _string),
        start=fields.required("start", _date),
        end=fields.required("end", _date),
        due=fields.required("due", _date),
    )


def _metric(value: object, path: str) -> Metric:
    fields = _Fields(value, path=path, keys=_METRIC_KEYS)
    with _under(path):
        return Metric(
            code=fields.required("code", _string),
            price=fields.optional("price", _decimal),
            tiers=fields.optional("tiers", _tiers),
            max_units_per_worker=fields.optional("max_units_per_worker", _integer, 1),
            cap_units=fields.optional("cap_units", _integer),
            cap_amount=fields.optional("cap_amount", _decimal),
            threshold_rate=fields.optional("threshold_rate", _decimal),
            denominator=fields.optional("denominator", _string),
        )


def _tiers(value: object, path: str) -> tuple[Tier, ...]:
    return tuple(_list(value, path, item=_tier))


def _tier(value: object, path: str) -> Tier:
    fields = _Fields(value, path=path, keys=_TIER_KEYS)
    return Tier(units=fields.optional("units", _integer), price=fields.required("price", _decimal))


def _claim(value: object, path: str, *, start: date, end: date) -> Claim:
    fields = _Fields(value, path=path, keys=_CLAIM_KEYS)
    with _under(path):
        claim = Claim(
            id=fields.required("id", _string),
            metric=fields.required("metric", _string),
            worker=fields.required("worker", _string),
            achieved_on=fields.optional("achieved_on", _date),
            verified_on=fields.optional("verified_on", _date),
            status=fields.required("status", _string),
        )
    if claim.achieved_on is not None and not start <= claim.achieved_on <= end:
        raise ScenarioError(
            fields.path("achieved_on"), f"must be within the period ({start.isoformat()} to {end.isoformat()})"
        )
    if claim.achieved_on is not None and claim.verified_on is not None and claim.verified_on < claim.achieved_on:
        raise ScenarioError(
            fields.path("verified_on"), f"must not be before achieved_on ({claim.achieved_on.isoformat()})"
        )
    return claim


class _Fields:
    """One JSON object of the scenario, read key by key; every error names the key's full path."""

    def __init__(self, data: object, *, path: str, keys: frozenset[str]) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(path or ROOT, "must be a JSON object")
        self._data = data
        self._path = path
        for key in data:
            if key not in keys:
                raise ScenarioError(self.path(key), "unknown field")

    def path(self, key: str) -> str:
        return _join(self._path, key)

    def required(self, key: str, parse: Parse[T]) -> T:
        value = self._data.get(key)
        if value is None:
            raise ScenarioError(self.path(key), "is required")
        return parse(value, self.path(key))

    @overload
    def optional(self, key: str, parse: Parse[T]) -> T | None: ...

    @overload
    def optional(self, key: str, parse: Parse[T], default: T) -> T: ...

    def optional(self, key: str, parse: Parse[T], default: T | None = None) -> T | None:
        value = self._data.get(key)
        return default if value is None else parse(value, self.path(key))


@contextmanager
def _under(path: str) -> Iterator[None]:
    """Re-raise a ``TermsError`` from ``payments`` as a ``ScenarioError`` under the object's path."""
    try:
        yield
    except ScenarioError:
        raise
    except TermsError as error:
        raise ScenarioError(_join(path, error.field), error.message) from None


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


# --- Values ------------------------------------------------------------------------------------------


def _list(value: object, path: str, *, item: Parse[T], most: int | None = None) -> list[T]:
    if not isinstance(value, list):
        raise ScenarioError(path, "must be a list")
    if most is not None and len(value) > most:
        raise ScenarioError(path, f"at most {most:,} items, not {len(value):,}")
    return [item(element, f"{path}[{index}]") for index, element in enumerate(value)]


def _string(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(path, "must be a non-empty string")
    return value


def _integer(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(path, "must be an integer")
    return value


def _decimal(value: object, path: str) -> Decimal:
    if isinstance(value, float):
        raise ScenarioError(
            path,
            'must be a string holding a decimal such as "500.00", not a JSON number '
            "with a fraction (it has been through binary floating point)",
        )
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        amount = Decimal(value)
    else:
        raise ScenarioError(path, 'must be a string holding a decimal such as "500.00"')
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise ScenarioError(path, f"is too large: at most {MAX_INTEGER_DIGITS} digits before the decimal point")
    return amount


def _date(value: object, path: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ScenarioError(path, "must be a date as YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ScenarioError(path, f"is not a valid date: {value}") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ScenarioError(path, f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}")
    return day


def _years_after(day: date, years: int) -> date:
    """``day`` ``years`` years later (29 February becomes 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
