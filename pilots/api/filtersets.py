"""Filters of the pilot and job opening lists.

Foreign keys are filtered by plain id (``NumberFilter``), not django-filter's model-choice filter: that
one checks the id against the whole table and would answer 400 for an id that does not exist but not
for another organisation's, telling the caller it exists. Here an id outside the caller's scope simply
matches nothing.
"""

from __future__ import annotations

import django_filters

from pilots.models import JobOpening, Pilot, PilotStatus


class PilotFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PilotStatus.choices)
    sector = django_filters.CharFilter(field_name="sector__code", label="Sector code, e.g. agriculture")
    destination_country = django_filters.CharFilter(lookup_expr="iexact", label="ISO 3166 code, e.g. US")

    class Meta:
        model = Pilot
        fields = ["status", "sector", "destination_country"]


class JobOpeningFilterSet(django_filters.FilterSet):
    pilot = django_filters.NumberFilter(field_name="pilot_id", label="Pilot id")
    employer = django_filters.NumberFilter(field_name="employer_id", label="Employer (organisation) id")
    currency = django_filters.CharFilter(field_name="wage_currency", lookup_expr="iexact", label="ISO 4217 code")

    class Meta:
        model = JobOpening
        fields = ["pilot", "employer", "currency"]
