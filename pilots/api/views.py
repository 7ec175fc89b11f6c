"""Pilots and job openings, read-only, each caller seeing only the pilots it works in."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view

from lamp.api_base import ReadOnlyViewSet, not_found
from pilots.api import examples
from pilots.api.filtersets import JobOpeningFilterSet, PilotFilterSet
from pilots.api.serializers import JobOpeningSerializer, PilotSerializer
from pilots.models import JobOpening, Pilot


@extend_schema_view(
    list=extend_schema(summary="Pilots the caller works in", examples=examples.PILOT_EXAMPLES),
    retrieve=extend_schema(
        summary="A pilot",
        responses={200: PilotSerializer, 404: not_found("pilot", "Pilot")},
        examples=examples.PILOT_EXAMPLES,
    ),
)
class PilotViewSet(ReadOnlyViewSet):
    serializer_class = PilotSerializer
    filterset_class = PilotFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "start_date", "status"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Pilot]:
        return Pilot.objects.visible_to(self.request.user).select_related("sector")


@extend_schema_view(
    list=extend_schema(summary="Job openings of the caller's pilots", examples=examples.JOB_OPENING_EXAMPLES),
    retrieve=extend_schema(
        summary="A job opening",
        responses={200: JobOpeningSerializer, 404: not_found("job opening", "JobOpening")},
        examples=examples.JOB_OPENING_EXAMPLES,
    ),
)
class JobOpeningViewSet(ReadOnlyViewSet):
    serializer_class = JobOpeningSerializer
    filterset_class = JobOpeningFilterSet
    search_fields = ["title", "location", "employer__name"]
    ordering_fields = ["season_start", "title", "wage_amount", "positions"]
    ordering = ["pilot_id", "season_start", "title"]

    def get_queryset(self) -> QuerySet[JobOpening]:
        return JobOpening.objects.visible_to(self.request.user).select_related("employer")
