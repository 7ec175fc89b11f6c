"""Pilots and job openings, read-only, each caller seeing only the pilots it works in."""

from __future__ import annotations

from django.db.models import QuerySet

from lamp.api_base import ReadOnlyViewSet
from pilots.api.filtersets import JobOpeningFilterSet, PilotFilterSet
from pilots.api.serializers import JobOpeningSerializer, PilotSerializer
from pilots.models import JobOpening, Pilot


class PilotViewSet(ReadOnlyViewSet):
    serializer_class = PilotSerializer
    filterset_class = PilotFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "start_date", "status"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Pilot]:
        return Pilot.objects.visible_to(self.request.user).select_related("sector")


class JobOpeningViewSet(ReadOnlyViewSet):
    serializer_class = JobOpeningSerializer
    filterset_class = JobOpeningFilterSet
    search_fields = ["title", "location", "employer__name"]
    ordering_fields = ["season_start", "title", "wage_amount", "positions"]
    ordering = ["pilot_id", "season_start", "title"]

    def get_queryset(self) -> QuerySet[JobOpening]:
        return JobOpening.objects.visible_to(self.request.user).select_related("employer")
