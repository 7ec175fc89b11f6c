"""Filters of the worker list.

Foreign keys are filtered by plain id (``NumberFilter``), not django-filter's model-choice filter: that
one checks the id against the whole table and would answer 400 for an id that does not exist but not
for another organisation's, telling the caller it exists. Here an id outside the caller's scope simply
matches nothing.
"""

from __future__ import annotations

import django_filters

from pilots.stages import Stage
from workers.models import FeeCategory, FeeReport, FeeSource, Gender, Worker


class WorkerFilterSet(django_filters.FilterSet):
    pilot = django_filters.NumberFilter(field_name="pilot_id", label="Pilot id")
    recruiter = django_filters.NumberFilter(field_name="recruiter_id", label="Recruiter (profile) id")
    stage = django_filters.ChoiceFilter(field_name="current_stage", choices=Stage.choices)
    season = django_filters.NumberFilter()
    gender = django_filters.ChoiceFilter(choices=Gender.choices)
    nationality = django_filters.CharFilter(lookup_expr="iexact", label="ISO 3166 code, e.g. GT")

    class Meta:
        model = Worker
        fields = ["pilot", "recruiter", "stage", "season", "gender", "nationality"]


class FeeReportFilterSet(django_filters.FilterSet):
    worker = django_filters.NumberFilter(field_name="worker_id", label="Worker id")
    category = django_filters.ChoiceFilter(choices=FeeCategory.choices)
    source = django_filters.ChoiceFilter(choices=FeeSource.choices)

    class Meta:
        model = FeeReport
        fields = ["worker", "category", "source"]
