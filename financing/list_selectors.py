"""Reads of the staff lists of claims, contracts and automatic decisions: the columns each may be sorted by,
one page in that order, and every row as filtered and sorted for the CSV export.

The filters are ``financing.selectors``' (``claims_listed``, ``automatic_decisions``); this module orders
them. The lists page by number (a ``Paginator``), so any order is exact as long as it is total: every sort
ends with the id, in the same direction. CSV rows are read through a server-side cursor, a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from financing.models import ClaimStatus, Decision, OutcomeClaim, PaymentLine, RbfContract, Verification
from financing.selectors import _WORKER_PRIVATE, _AnyOf, contract_amounts
from lamp.currencies import quantize
from lamp.fields import MoneyField
from lamp.listing import Column, Sort, Sorting

#: Rows read per round trip of a CSV export's server-side cursor.
CSV_CHUNK = 2000


def _claim_amount() -> Subquery:
    """What the claim's payment lines pay (payments and adjustments together), in its contract's currency;
    ``NULL`` for a claim no line names (claimed, rejected, or held out of every tranche)."""
    lines = PaymentLine.objects.filter(claim_id=OuterRef("pk")).order_by().values("claim_id")
    return Subquery(lines.annotate(total=Sum("amount")).values("total"), output_field=MoneyField())


# --- Claims ------------------------------------------------------------------------------------------------

#: The claims list's columns. The default is the newest claim first (by when it was claimed); amounts sort
#: within their currency (a number in pesos is not compared with one in dollars).
CLAIM_SORTING = Sorting(
    [
        Column("worker", ("worker__family_names", "worker__given_names")),
        Column("metric", ("metric__code", "unit")),
        Column("contract", ("metric__contract__reference",)),
        Column("status", ("status", "in_review")),
        Column("amount", ("metric__contract__currency", "sort_amount")),
        Column("claimed", ("claimed_at",)),
        Column("achieved", ("achieved_on",)),
        Column("verified", ("verified_on",), nulls_last=True),
        Column("reason", ("rejection_reason", "reversal_reason")),
    ],
    default="-claimed",
)


def _sortable(claims: QuerySet[OutcomeClaim]) -> QuerySet[OutcomeClaim]:
    """``claims`` with what the sorts name beyond their fields (``sort_amount``: 0 for no line), as an alias:
    computed only when the order uses it."""
    return claims.alias(sort_amount=Coalesce(_claim_amount(), Value(Decimal(0)), output_field=MoneyField()))


def claim_page(*, claims: QuerySet[OutcomeClaim], sort: Sort, offset: int, limit: int) -> list[OutcomeClaim]:
    """``limit`` of ``claims`` from ``offset`` in ``sort``, with what a list row shows and ``amount`` (what
    its payment lines pay, ``None`` for none): one query. The page is picked by a narrow query of the
    claims alone (an array subquery, run once), so the joins and the amounts are read for its rows only."""
    order = sort.order_by()
    ids = ArraySubquery(_sortable(claims).order_by(*order).values("pk")[offset : offset + limit])
    return list(
        _sortable(OutcomeClaim.objects.filter(_AnyOf(F("pk"), ids)))
        .select_related("worker__recruiter__organisation", "metric__contract")
        .defer(*_WORKER_PRIVATE)
        .annotate(amount=_claim_amount())
        .order_by(*order)
    )


CLAIM_CSV_HEADER = (
    "claim",
    "given names",
    "family names",
    "recruiter",
    "metric",
    "unit",
    "contract",
    "currency",
    "amount",
    "status",
    "in review",
    "claimed at",
    "achieved on",
    "verified on",
    "rejection reason",
    "reversal reason",
)


def claim_csv_rows(*, claims: QuerySet[OutcomeClaim], sort: Sort) -> Iterator[tuple[Any, ...]]:
    """Every claim of ``claims`` in ``sort`` as a CSV row (``CLAIM_CSV_HEADER``); no personal data but the
    worker's names, which the list shows."""
    statuses = dict(ClaimStatus.choices)
    rows = (
        _sortable(claims)
        .annotate(amount=_claim_amount())
        .order_by(*sort.order_by())
        .values_list(
            "pk",
            "worker__given_names",
            "worker__family_names",
            "worker__recruiter__organisation__name",
            "metric__code",
            "unit",
            "metric__contract__reference",
            "metric__contract__currency",
            "amount",
            "status",
            "in_review",
            "claimed_at",
            "achieved_on",
            "verified_on",
            "rejection_reason",
            "reversal_reason",
        )
    )
    for row in rows.iterator(chunk_size=CSV_CHUNK):
        currency, amount, status, in_review = row[7], row[8], row[9], row[10]
        amount = None if amount is None else quantize(amount, currency)
        yield (*row[:8], amount, str(statuses.get(status, status)), "yes" if in_review else "no", *row[11:])


# --- Contracts ---------------------------------------------------------------------------------------------

#: The contracts list's columns (on ``contracts_with_amounts``' annotations); by pilot, then reference, unless
#: asked otherwise. Amounts sort within their currency.
CONTRACT_SORTING = Sorting(
    [
        Column("contract", ("reference",)),
        Column("pilot", ("pilot__name", "reference")),
        Column("parties", ("payer__name", "provider__name")),
        Column("period", ("start_date", "end_date")),
        Column("cap", ("currency", "cap_total"), nulls_last=True),
        Column("verified", ("currency", "verified")),
        Column("next", ("next_tranche_due",), nulls_last=True),
    ],
    default="pilot",
)

CONTRACT_CSV_HEADER = (
    "reference",
    "name",
    "pilot",
    "payer",
    "provider",
    "status",
    "currency",
    "start date",
    "end date",
    "cap",
    "verified",
    "paid",
    "awaiting payment",
    "owed by the provider",
    "due in open tranches",
    "left under the cap",
    "overdue tranches",
    "next tranche",
    "next tranche due",
)


def contract_csv_rows(*, contracts: QuerySet[RbfContract], sort: Sort) -> Iterator[tuple[Any, ...]]:
    """Every contract of ``contracts`` (``contracts_with_amounts``) in ``sort`` as a CSV row, its money in the
    one vocabulary (``contract_amounts``, a query per chunk of rows): the figures the list shows."""
    chunk: list[RbfContract] = []
    for contract in contracts.order_by(*sort.order_by()).iterator(chunk_size=CSV_CHUNK):
        chunk.append(contract)
        if len(chunk) == CSV_CHUNK:
            yield from _contract_rows(chunk)
            chunk = []
    if chunk:
        yield from _contract_rows(chunk)


def _contract_rows(contracts: list[RbfContract]) -> Iterator[tuple[Any, ...]]:
    amounts = contract_amounts(contracts=contracts)
    for c in contracts:
        a = amounts[c.pk]

        def money(value: Decimal | None, currency: str = c.currency) -> Decimal | None:
            return None if value is None else quantize(value, currency)

        yield (
            c.reference,
            c.name,
            c.pilot.name,
            c.payer.name,
            c.provider.name,
            c.get_status_display(),
            c.currency,
            c.start_date,
            c.end_date,
            money(c.cap_total),
            money(a.verified),
            money(a.paid),
            money(a.awaiting_payment),
            money(a.owed_by_provider),
            money(a.due),
            money(a.left_under_cap),
            a.overdue_tranches,
            c.next_tranche_code or "",
            c.next_tranche_due,
        )


# --- Automatic decisions -----------------------------------------------------------------------------------

#: The decisions list's columns: when (newest first by default), what, the claim (by its number), why. The
#: facts for and against are lists of sentences, not sorted.
DECISION_SORTING = Sorting(
    [
        Column("when", ("decided_at",)),
        Column("decision", ("decision",)),
        # By the claim's number: its decisions together, read through the index of ``claim``.
        Column("claim", ("claim_id",)),
        Column("reason", ("reason",)),
    ],
    default="-when",
)

DECISION_CSV_HEADER = (
    "decided at",
    "decision",
    "rule",
    "claim",
    "metric",
    "unit",
    "contract",
    "given names",
    "family names",
    "why",
)


def decision_csv_rows(*, decisions: QuerySet[Verification], sort: Sort) -> Iterator[tuple[Any, ...]]:
    """Every decision of ``decisions`` (``automatic_decisions``) in ``sort`` as a CSV row."""
    labels = dict(Decision.choices)
    rows = decisions.order_by(*sort.order_by()).values_list(
        "decided_at",
        "decision",
        "rule",
        "claim_id",
        "claim__metric__code",
        "claim__unit",
        "claim__metric__contract__reference",
        "claim__worker__given_names",
        "claim__worker__family_names",
        "reason",
    )
    for decided_at, decision, *rest in rows.iterator(chunk_size=CSV_CHUNK):
        yield (decided_at, str(labels.get(decision, decision)), *rest)
