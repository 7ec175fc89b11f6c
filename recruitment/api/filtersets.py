"""Filters of the fee report list: by plain id (see ``pilots.api.filtersets``), ILO category and source."""

from __future__ import annotations

import django_filters

from recruitment.models import FeeCategory, FeeReport, FeeSource


class FeeReportFilterSet(django_filters.FilterSet):
    worker = django_filters.NumberFilter(field_name="worker_id", label="Worker id")
    category = django_filters.ChoiceFilter(choices=FeeCategory.choices)
    source = django_filters.ChoiceFilter(choices=FeeSource.choices)

    class Meta:
        model = FeeReport
        fields = ["worker", "category", "source"]
