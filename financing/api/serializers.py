"""What the API shows of contracts, their metrics and schedules, and outcome claims.

Money is a string with the currency's decimals (``"1500.00"``; JPY ``"1500"``; KWD ``"1500.000"``)
beside the contract's ``currency``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from financing.models import (
    CapReason,
    LineKind,
    OutcomeClaim,
    OutcomeMetric,
    RbfContract,
    Tranche,
    TrancheStatus,
    Verification,
)
from financing.selectors import (
    GLOSSARY_HELP,
    HELD_BACK_REASONS,
    contract_amounts,
    contract_held_back,
    is_overdue,
    money_figures,
)
from lamp.api_base import ErrorSerializer, MoneyField, NamedSerializer, money
from lamp.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from workers.models import Source


class TierSerializer(serializers.Serializer):
    units = serializers.IntegerField(allow_null=True, help_text="Units at this price; null: every further unit.")
    price = serializers.CharField()


class MetricSerializer(serializers.ModelSerializer):
    """A priced outcome of a contract. Its ``contract`` must be loaded (the contract's prefetch does it)."""

    price = MoneyField(amount="price", currency="contract.currency", allow_null=True)
    tiers = serializers.SerializerMethodField()
    cap_amount = MoneyField(amount="cap_amount", currency="contract.currency", allow_null=True)
    denominator = serializers.CharField(
        source="denominator_metric.code", read_only=True, allow_null=True, help_text="Code of the denominator metric."
    )
    sources = serializers.ListField(
        source="required_sources",
        child=serializers.ChoiceField(choices=Source.choices),
        read_only=True,
        help_text="Who confirms the outcome: one of them, other than the payee (for zero fee: every one, agreeing).",
    )

    class Meta:
        model = OutcomeMetric
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "retention_days",
            "price",
            "tiers",
            "max_units_per_worker",
            "cap_units",
            "cap_amount",
            "threshold_rate",
            "denominator",
            "sources",
        ]
        read_only_fields = fields

    def get_tiers(self, metric: OutcomeMetric) -> list[dict[str, Any]] | None:
        if metric.tiers is None:
            return None
        currency = metric.contract.currency
        return [
            {"units": tier["units"], "price": money(Decimal(str(tier["price"])), currency)} for tier in metric.tiers
        ]

    get_tiers.schema_field = TierSerializer(many=True, allow_null=True)  # type: ignore[attr-defined]


class ContractSerializer(serializers.ModelSerializer):
    pilot = NamedSerializer(read_only=True)
    payer = NamedSerializer(read_only=True)
    provider = NamedSerializer(read_only=True)
    cap_total = MoneyField(amount="cap_total", currency="currency", allow_null=True)
    metrics = MetricSerializer(many=True, read_only=True)

    class Meta:
        model = RbfContract
        fields = [
            "id",
            "reference",
            "name",
            "pilot",
            "payer",
            "provider",
            "currency",
            "start_date",
            "end_date",
            "signed_on",
            "cap_total",
            "tranche_period",
            "due_days",
            "status",
            "metrics",
        ]
        read_only_fields = fields


class ClaimSerializer(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="metric.contract_id", read_only=True)
    metric = serializers.CharField(source="metric.code", read_only=True, help_text="The metric's code.")
    worker = serializers.IntegerField(source="worker_id", read_only=True)

    class Meta:
        model = OutcomeClaim
        fields = [
            "id",
            "contract",
            "metric",
            "worker",
            "unit",
            "achieved_on",
            "status",
            "verified_on",
            "claimed_at",
            "rejection_reason",
            "reversal_reason",
            "in_review",
            "pending_reason",
        ]
        read_only_fields = fields


class ClaimConflictSerializer(ErrorSerializer):
    existing_id = serializers.IntegerField(
        required=False,
        help_text="The id of the claim that already exists; absent when the 409 is about an `Idempotency-Key` "
        "whose first request is still running.",
    )


class ClaimCreateSerializer(serializers.Serializer):
    """What a provider sends to claim an outcome. Ids outside the caller's scope are "unknown", exactly as
    ids that do not exist: the answer never tells that another organisation's record exists."""

    metric = serializers.IntegerField(help_text="The id of a metric of one of the caller's active contracts.")
    worker = serializers.IntegerField(help_text="The id of one of the caller's workers, in the contract's pilot.")
    unit = serializers.IntegerField(
        min_value=1, max_value=32767, default=1, help_text="Which unit of the metric for this worker (1, 2…)."
    )
    achieved_on = serializers.DateField(help_text="When the worker achieved the outcome; not in the future.")

    def validate_metric(self, value: int) -> OutcomeMetric:
        metric = self.context["metrics"].select_related("contract").filter(pk=value).first()
        if metric is None:
            raise serializers.ValidationError("unknown metric")
        return metric

    def validate_worker(self, value: int) -> Any:
        worker = self.context["workers"].filter(pk=value).first()
        if worker is None:
            raise serializers.ValidationError("unknown worker")
        return worker


# --- The schedule ---------------------------------------------------------------------------------
#
# A schedule may hold tens of thousands of lines, so it is built from plain rows into plain dicts
# (``schedule_data``) rather than field by field; the serializers below describe that shape for the
# OpenAPI schema, and a test holds the two together.


class ScheduleLineSerializer(serializers.Serializer):
    claim = serializers.IntegerField(
        allow_null=True,
        help_text="The outcome claim paid for: an id, nothing about the person. Null on a carried-forward line.",
    )
    metric = serializers.CharField(allow_null=True, help_text="The metric's code; null on a carried-forward line.")
    kind = serializers.ChoiceField(choices=LineKind.choices)
    amount = serializers.CharField()
    capped = serializers.CharField(help_text="The part of the unit's price held back by a cap.")
    reason = serializers.ChoiceField(choices=[("", "")] + CapReason.choices, help_text="Which cap, if any.")
    note = serializers.CharField()
    carried_with = serializers.CharField(
        allow_null=True,
        help_text="A carried-forward line: the code of the tranche whose balance below zero it took, or gave to.",
    )
    worker = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The worker's id: only for program staff and the contract's provider (null on a carried-forward "
        "line).",
    )


class PaymentSerializer(serializers.Serializer):
    """One payment by the payer of a tranche: a part or all of what was left to pay."""

    amount = serializers.CharField()
    paid_on = serializers.DateField()
    reference = serializers.CharField(help_text="The bank transfer or payment reference.")


class RefundSerializer(serializers.Serializer):
    """What the provider owes back: the balance below zero of a tranche approved with no later open tranche."""

    id = serializers.IntegerField()
    tranche = serializers.CharField(help_text="The code of the tranche whose balance it is.")
    amount = serializers.CharField(help_text="What the provider owes back, positive.")
    due = serializers.DateField(help_text="The provider repays by this date.")
    settled_on = serializers.DateField(allow_null=True, help_text="When the provider repaid it; null until then.")
    reference = serializers.CharField(help_text="The repayment's reference; empty until it is repaid.")


class TranchePaymentsSerializer(serializers.Serializer):
    """A tranche as approving and paying it leave it: its total, what was paid, and what the provider owes."""

    code = serializers.CharField()
    status = serializers.ChoiceField(choices=TrancheStatus.choices)
    total = serializers.CharField(help_text="The sum of the tranche's lines.")
    paid = serializers.CharField(help_text="The sum of the payer's payments of the tranche.")
    left_to_pay = serializers.CharField(
        help_text="Total less paid for an approved tranche (a part paid: what is left); 0 once paid, and for an "
        "open tranche (not yet payable) or one whose total is below zero."
    )
    payments = PaymentSerializer(many=True, help_text="The payer's payments, oldest first.")
    refund = RefundSerializer(allow_null=True, help_text="What the provider owes back for this tranche, if anything.")


class PaymentCreateSerializer(serializers.Serializer):
    """A payment by the payer of an approved tranche: what is left to pay, or a part of it."""

    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text="More than zero and at most what is left to pay, in whole minor units of the currency.",
    )
    paid_on = serializers.DateField(help_text="When the payer paid: not in the future, not before the period.")
    reference = serializers.CharField(max_length=120, help_text="The bank reference; once per tranche.")


class ApproveSerializer(serializers.Serializer):
    expected_total = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        required=False,
        help_text="The total the approver reviewed: the approval is refused if the tranche no longer totals it.",
    )


class RefundSettleSerializer(serializers.Serializer):
    """The provider's repayment of what it owes back: all of it, in one payment."""

    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, help_text="Exactly what the provider owes."
    )
    settled_on = serializers.DateField(help_text="When the provider repaid: not in the future.")
    reference = serializers.CharField(max_length=120, help_text="The repayment's bank reference.")


class ScheduleTrancheSerializer(serializers.Serializer):
    code = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=TrancheStatus.choices)
    total = serializers.CharField(help_text="The sum of the tranche's lines.")
    overdue = serializers.BooleanField(help_text=GLOSSARY_HELP["overdue"])
    paid_on = serializers.DateField(
        allow_null=True, help_text="When the payer paid the tranche in full (its last payment); null until then."
    )
    paid = serializers.CharField(help_text="The sum of the payer's payments of the tranche.")
    left_to_pay = serializers.CharField(help_text="What is left to pay of an approved tranche (partly paid: the rest).")
    payments = PaymentSerializer(many=True, help_text="The payer's payments, oldest first.")
    refund = RefundSerializer(allow_null=True, help_text="What the provider owes back for this tranche, if anything.")
    lines = ScheduleLineSerializer(many=True)


class DueNextSerializer(serializers.Serializer):
    tranche = serializers.CharField(help_text="The code of the earliest open tranche.")
    due_date = serializers.DateField()
    total = serializers.CharField()


class HeldBackSerializer(serializers.Serializer):
    metric = serializers.CharField(help_text="The metric's code.")
    reason = serializers.ChoiceField(
        choices=list(HELD_BACK_REASONS.items()),
        help_text="The rule that holds the units back.",
    )
    units = serializers.IntegerField(help_text="Verified units held back (in full or in part).")
    amount = serializers.CharField(help_text="What they would pay under no limit, less what they are paid.")
    tranche = serializers.CharField(allow_null=True, help_text="The tranche the units are in, or wait for.")


class ScheduleTotalsSerializer(serializers.Serializer):
    verified = serializers.CharField(help_text=GLOSSARY_HELP["verified"])
    paid = serializers.CharField(help_text=GLOSSARY_HELP["paid"])
    awaiting_payment = serializers.CharField(help_text=GLOSSARY_HELP["awaiting_payment"])
    owed_by_provider = serializers.CharField(help_text=GLOSSARY_HELP["owed_by_provider"])
    due = serializers.CharField(help_text=GLOSSARY_HELP["due"])
    left_under_cap = serializers.CharField(allow_null=True, help_text=GLOSSARY_HELP["left_under_cap"])
    held_back = HeldBackSerializer(many=True, help_text=GLOSSARY_HELP["held_back"])
    overdue_tranches = serializers.IntegerField(help_text=GLOSSARY_HELP["overdue"])
    due_next = DueNextSerializer(allow_null=True, help_text="The earliest open tranche; null when none is open.")


class ContractScheduleSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    reference = serializers.CharField()
    currency = serializers.CharField()
    tranches = ScheduleTrancheSerializer(many=True)
    totals = ScheduleTotalsSerializer()


LineRow = tuple[int, int | None, str | None, int | None, str, Decimal, Decimal, str, str, str | None]
"""``(tranche_id, claim_id, metric_code, worker_id, kind, amount, capped, reason, note, carried_with_code)``."""


def tranche_payments_data(*, tranche: Tranche, total: Decimal, currency: str) -> dict[str, Any]:
    """What was paid of ``tranche`` (its ``disbursements`` prefetched, oldest first, and its ``refund`` loaded)
    in the shape of ``TranchePaymentsSerializer``, less ``code``, ``status`` and ``total``."""
    payments = list(tranche.disbursements.all())
    paid = sum((payment.amount for payment in payments), Decimal(0))
    left = total - paid if tranche.status == TrancheStatus.APPROVED and total > paid else Decimal(0)
    refund = getattr(tranche, "refund", None)
    return {
        "paid": money(paid, currency),
        "left_to_pay": money(left, currency),
        "payments": [
            {"amount": money(p.amount, currency), "paid_on": p.paid_on, "reference": p.reference} for p in payments
        ],
        "refund": None
        if refund is None
        else {
            "id": refund.pk,
            "tranche": tranche.code,
            "amount": money(refund.amount, currency),
            "due": refund.due,
            "settled_on": refund.settled_on,
            "reference": refund.reference,
        },
    }


def tranche_state(*, tranche: Tranche, total: Decimal, currency: str) -> dict[str, Any]:
    """``tranche`` in the shape of ``TranchePaymentsSerializer``."""
    return {
        "code": tranche.code,
        "status": tranche.status,
        "total": money(total, currency),
        **tranche_payments_data(tranche=tranche, total=total, currency=currency),
    }


def schedule_data(
    *, contract: RbfContract, tranches: Sequence[Tranche], lines: Iterable[LineRow], show_workers: bool
) -> dict[str, Any]:
    """The schedule of ``contract`` in the shape of ``ContractScheduleSerializer``.

    ``tranches`` in order, annotated with ``total`` (``TrancheQuerySet.with_totals``), with their
    disbursements prefetched (oldest first) and their refund loaded; ``lines`` in allocation order
    (``PaymentLineQuerySet.schedule_rows``). Worker ids only when ``show_workers``.
    """
    currency = contract.currency
    by_tranche: dict[int, list[dict[str, Any]]] = {tranche.pk: [] for tranche in tranches}
    for tranche_id, claim_id, metric, worker_id, kind, amount, capped, reason, note, carried_with in lines:
        line = {
            "claim": claim_id,
            "metric": metric,
            "kind": kind,
            "amount": money(amount, currency),
            "capped": money(capped, currency),
            "reason": reason,
            "note": note,
            "carried_with": carried_with,
        }
        if show_workers:
            line["worker"] = worker_id
        by_tranche[tranche_id].append(line)

    amounts = contract_amounts(contracts=[contract])[contract.pk]
    held_back = contract_held_back(contract=contract)
    today = timezone.localdate()
    due_next: dict[str, Any] | None = None
    rendered = []
    for tranche in tranches:
        total: Decimal = tranche.total  # type: ignore[attr-defined]
        payments = tranche_payments_data(tranche=tranche, total=total, currency=currency)
        last_payment = payments["payments"][-1]["paid_on"] if payments["payments"] else None
        if due_next is None and tranche.status == TrancheStatus.OPEN:
            due_next = {"tranche": tranche.code, "due_date": tranche.due_date, "total": money(total, currency)}
        rendered.append(
            {
                "code": tranche.code,
                "start_date": tranche.start_date,
                "end_date": tranche.end_date,
                "due_date": tranche.due_date,
                "status": tranche.status,
                "total": money(total, currency),
                "overdue": is_overdue(status=tranche.status, due_date=tranche.due_date, today=today),
                "paid_on": last_payment if tranche.status == TrancheStatus.PAID else None,
                **payments,
                "lines": by_tranche[tranche.pk],
            }
        )
    codes = {tranche.pk: tranche.code for tranche in tranches}
    return {
        "contract": contract.pk,
        "reference": contract.reference,
        "currency": currency,
        "tranches": rendered,
        "totals": {
            **money_figures(amounts, currency),
            "left_under_cap": money(amounts.left_under_cap, currency),
            "held_back": [
                {
                    "metric": item.metric,
                    "reason": item.reason,
                    "units": item.units,
                    "amount": money(item.amount, currency),
                    "tranche": codes.get(item.tranche_id),
                }
                for item in held_back
            ],
            "overdue_tranches": sum(
                1 for tranche in tranches if is_overdue(status=tranche.status, due_date=tranche.due_date, today=today)
            ),
            "due_next": due_next,
        },
    }


class DecisionSerializer(serializers.ModelSerializer):
    """An automatic rule's decision on a claim: what it decided, when, and on which facts."""

    claim = serializers.IntegerField(source="claim_id", read_only=True)
    contract = serializers.IntegerField(source="claim.metric.contract_id", read_only=True)
    metric = serializers.CharField(source="claim.metric.code", read_only=True)
    worker = serializers.IntegerField(source="claim.worker_id", read_only=True)

    class Meta:
        model = Verification
        fields = ["id", "claim", "contract", "metric", "worker", "decision", "rule", "reason", "facts", "decided_at"]
        read_only_fields = fields
