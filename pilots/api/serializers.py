"""What the API shows of pilots and job openings."""

from __future__ import annotations

from rest_framework import serializers

from lamp.api_base import MoneyField, NamedSerializer
from pilots.models import JobOpening, Pilot, Sector


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ["code", "name"]


class PilotSerializer(serializers.ModelSerializer):
    sector = SectorSerializer(read_only=True)
    destination_country = serializers.CharField(source="destination_country.code", read_only=True)
    corridor = serializers.CharField(read_only=True)

    class Meta:
        model = Pilot
        fields = [
            "id",
            "name",
            "slug",
            "sector",
            "origin_countries",
            "destination_country",
            "corridor",
            "pathway",
            "status",
            "start_date",
            "end_date",
            "target_cohort_size",
            "required_stages",
            "description",
        ]
        read_only_fields = fields


class JobOpeningSerializer(serializers.ModelSerializer):
    pilot = serializers.IntegerField(source="pilot_id", read_only=True)
    employer = NamedSerializer(read_only=True)
    wage_amount = MoneyField(amount="wage_amount", currency="wage_currency")
    location_country = serializers.CharField(source="location_country.code", read_only=True)

    class Meta:
        model = JobOpening
        fields = [
            "id",
            "pilot",
            "employer",
            "title",
            "positions",
            "wage_amount",
            "wage_currency",
            "wage_period",
            "hours_per_week",
            "location",
            "location_country",
            "season_start",
            "season_end",
        ]
        read_only_fields = fields
