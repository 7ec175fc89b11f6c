"""Filters of the contract and claim lists.

Foreign keys are filtered by plain id (``NumberFilter``), not django-filter's model-choice filter: that
one checks the id against the whole table and would answer 400 for an id that does not exist but not
for another organisation's, telling the caller it exists. Here an id outside the caller's scope simply
matches nothing.
"""

from __future__ import annotations

import django_filters

from financing.models import ClaimStatus, ContractStatus, Decision, OutcomeClaim, RbfContract, Verification


class ContractFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ContractStatus.choices)
    pilot = django_filters.NumberFilter(field_name="pilot_id", label="Pilot id")
    provider = django_filters.NumberFilter(field_name="provider_id", label="Provider (organisation) id")
    payer = django_filters.NumberFilter(field_name="payer_id", label="Payer (organisation) id")

    class Meta:
        model = RbfContract
        fields = ["status", "pilot", "provider", "payer"]


class ClaimFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices)
    contract = django_filters.NumberFilter(field_name="metric__contract_id", label="Contract id")
    metric = django_filters.CharFilter(field_name="metric__code", label="Metric code, e.g. PLACED")
    worker = django_filters.NumberFilter(field_name="worker_id", label="Worker id")
    in_review = django_filters.BooleanFilter()

    class Meta:
        model = OutcomeClaim
        fields = ["status", "contract", "metric", "worker", "in_review"]


class DecisionFilterSet(django_filters.FilterSet):
    decision = django_filters.ChoiceFilter(
        choices=[(value, label) for value, label in Decision.choices if value != Decision.REJECTED]
    )
    contract = django_filters.NumberFilter(field_name="claim__metric__contract_id", label="Contract id")
    since = django_filters.DateFilter(field_name="decided_at__date", lookup_expr="gte", label="Decided on or after")

    class Meta:
        model = Verification
        fields = ["decision", "contract", "since"]
