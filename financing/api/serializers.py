"""What the API shows of contracts, their metrics and schedules, and outcome claims.

Money is a string with the currency's decimals (``"1500.00"``; JPY ``"1500"``; KWD ``"1500.000"``)
beside the contract's ``currency``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

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
from financing.selectors import ScheduleAmounts
from lamp.api_base import ErrorSerializer, MoneyField, NamedSerializer, money
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
    claim = serializers.IntegerField(help_text="The outcome claim paid for: an id, nothing about the person.")
    metric = serializers.CharField(help_text="The metric's code.")
    kind = serializers.ChoiceField(choices=LineKind.choices)
    amount = serializers.CharField()
    capped = serializers.CharField(help_text="The part of the unit's price held back by a cap.")
    reason = serializers.ChoiceField(choices=[("", "")] + CapReason.choices, help_text="Which cap, if any.")
    note = serializers.CharField()
    worker = serializers.IntegerField(
        required=False, help_text="The worker's id: only for program staff and the contract's provider."
    )


class ScheduleTrancheSerializer(serializers.Serializer):
    code = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=TrancheStatus.choices)
    total = serializers.CharField(help_text="The sum of the tranche's lines.")
    paid_on = serializers.DateField(allow_null=True, help_text="When the payer paid the tranche.")
    lines = ScheduleLineSerializer(many=True)


class DueNextSerializer(serializers.Serializer):
    tranche = serializers.CharField(help_text="The code of the earliest open tranche.")
    due_date = serializers.DateField()
    total = serializers.CharField()


class ScheduleTotalsSerializer(serializers.Serializer):
    verified = serializers.CharField(help_text="Everything the schedule pays: the sum of all lines.")
    approved = serializers.CharField(help_text="The total of the tranches staff approved (paid ones included).")
    paid = serializers.CharField(help_text="The total disbursed by the payer.")
    due_next = DueNextSerializer(allow_null=True, help_text="The earliest open tranche; null when none is open.")
    cap_remaining = serializers.CharField(allow_null=True, help_text="The contract's cap less verified; null: no cap.")


class ContractScheduleSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    reference = serializers.CharField()
    currency = serializers.CharField()
    tranches = ScheduleTrancheSerializer(many=True)
    totals = ScheduleTotalsSerializer()


LineRow = tuple[int, int, str, int, str, Decimal, Decimal, str, str]
"""``(tranche_id, claim_id, metric_code, worker_id, kind, amount, capped, reason, note)``."""


def schedule_data(
    *, contract: RbfContract, tranches: Sequence[Tranche], lines: Iterable[LineRow], show_workers: bool
) -> dict[str, Any]:
    """The schedule of ``contract`` in the shape of ``ContractScheduleSerializer``.

    ``tranches`` in order, annotated with ``total`` (``TrancheQuerySet.with_totals``) and with their
    disbursement loaded; ``lines`` in allocation order. Worker ids only when ``show_workers``.
    """
    currency = contract.currency
    by_tranche: dict[int, list[dict[str, Any]]] = {tranche.pk: [] for tranche in tranches}
    for tranche_id, claim_id, metric, worker_id, kind, amount, capped, reason, note in lines:
        line = {
            "claim": claim_id,
            "metric": metric,
            "kind": kind,
            "amount": money(amount, currency),
            "capped": money(capped, currency),
            "reason": reason,
            "note": note,
        }
        if show_workers:
            line["worker"] = worker_id
        by_tranche[tranche_id].append(line)

    amounts = ScheduleAmounts()
    due_next: dict[str, Any] | None = None
    rendered = []
    for tranche in tranches:
        total: Decimal = tranche.total  # type: ignore[attr-defined]
        disbursement = getattr(tranche, "disbursement", None)
        is_open = amounts.add_tranche(
            status=tranche.status, total=total, paid=disbursement.amount if disbursement is not None else None
        )
        if due_next is None and is_open:
            due_next = {"tranche": tranche.code, "due_date": tranche.due_date, "total": money(total, currency)}
        rendered.append(
            {
                "code": tranche.code,
                "start_date": tranche.start_date,
                "end_date": tranche.end_date,
                "due_date": tranche.due_date,
                "status": tranche.status,
                "total": money(total, currency),
                "paid_on": disbursement.paid_on if disbursement is not None else None,
                "lines": by_tranche[tranche.pk],
            }
        )
    cap_remaining = None if contract.cap_total is None else contract.cap_total - amounts.verified
    return {
        "contract": contract.pk,
        "reference": contract.reference,
        "currency": currency,
        "tranches": rendered,
        "totals": {
            "verified": money(amounts.verified, currency),
            "approved": money(amounts.approved, currency),
            "paid": money(amounts.paid, currency),
            "due_next": due_next,
            "cap_remaining": money(cap_remaining, currency),
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
