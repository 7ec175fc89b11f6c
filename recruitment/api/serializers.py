"""What the API shows of fee reports and what it takes to record one.

The amount is a string with the currency's decimals (``"1500.00"``; JPY ``"1500"``) beside ``currency``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from lamp.api_base import money
from lamp.currencies import CURRENCY_CHOICES
from lamp.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from recruitment.models import FeeCategory, FeeReport, FeeSource


class FeeReportSerializer(serializers.ModelSerializer):
    """A fee a worker paid to be recruited, in an ILO category. The pilots are zero-fee: any amount above 0 is
    a finding, and reverses a verified ``ZERO_FEE`` outcome of the worker."""

    worker = serializers.IntegerField(source="worker_id", help_text="One of the caller's workers.")
    recruiter = serializers.IntegerField(source="recruiter_id", read_only=True, help_text="The worker's recruiter.")
    category = serializers.ChoiceField(choices=FeeCategory.choices, help_text="ILO category of fee or related cost.")
    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, min_value=0, coerce_to_string=True
    )
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, help_text="ISO 4217")
    source = serializers.ChoiceField(
        choices=FeeSource.choices, required=False, help_text="Always `recruiter` when a recruiter reports."
    )
    reported_by = serializers.IntegerField(source="reported_by_id", read_only=True, allow_null=True)

    class Meta:
        model = FeeReport
        fields = [
            "id",
            "worker",
            "recruiter",
            "category",
            "amount",
            "currency",
            "paid_to",
            "paid_on",
            "recovered_by_wage_deduction",
            "source",
            "reported_by",
            "reported_at",
            "note",
        ]
        read_only_fields = ["id", "recruiter", "reported_by", "reported_at"]

    def to_representation(self, instance: FeeReport) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["amount"] = money(instance.amount, instance.currency)
        return data
