"""``GET /api/v1/scorecard/``: the recruiter's scorecard (figures defined in ``programme.selectors``).

A recruiter gets a list of one: its own. Program staff get every recruiter's, to compare them, or one
with ``?recruiter=<id>`` (a recruiter profile's id). Funders get a 403: the scorecard is about workers.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from financing.selectors import GLOSSARY_HELP, money_figures
from lamp.api_base import ApiSchema, bad_input, error_response, money
from lamp.tenancy import tenancy_of
from programme.api import examples
from programme.selectors import Scorecard, fees_withheld, recruiter_scorecards
from recruitment.models import Recruiter


class MaySeeScorecards(permissions.BasePermission):
    message = "Only recruiters (their own) and program staff may read scorecards."

    def has_permission(self, request: Request, view: object) -> bool:
        tenancy = tenancy_of(request.user)
        return tenancy.staff or tenancy.recruiter is not None


def _rate(value: Any) -> str | None:
    return None if value is None else str(value)


def scorecard_data(card: Scorecard, *, for_recruiter: bool = False) -> dict[str, Any]:
    """A scorecard as the API gives it; to its own recruiter, fee figures only over at least five workers."""
    withheld = for_recruiter and fees_withheld(card)
    return {
        "recruiter": {"id": card.recruiter_id, "organisation": card.organisation_id, "name": card.name},
        "workers": {"total": card.workers, "by_stage": card.workers_by_stage},
        "placement": {"placed": card.placed, "past_screening": card.past_screening, "rate": _rate(card.placement_rate)},
        "retention_180": {
            "retained": card.retention_retained,
            "eligible": card.retention_eligible,
            "rate": _rate(card.retention_rate),
        },
        "fees": {
            "workers_with_fees": None if withheld else card.workers_with_fees,
            "withheld": withheld,
            "by_category": []
            if withheld
            else [
                {
                    "category": fee.category,
                    "currency": fee.currency,
                    "amount": money(fee.amount, fee.currency),
                    "reports": fee.reports,
                }
                for fee in card.fees
            ],
        },
        "claims": card.claims_by_status,
        "amounts": [
            {
                "currency": entry.currency,
                **money_figures(entry, entry.currency),
            }
            for entry in sorted(card.amounts.values(), key=lambda entry: entry.currency)
        ],
    }


# --- The shape, for the OpenAPI schema -------------------------------------------------------------------


class _RecruiterRef(serializers.Serializer):
    id = serializers.IntegerField(help_text="The recruiter profile's id.")
    organisation = serializers.IntegerField(help_text="The recruiter organisation's id (a contract's provider).")
    name = serializers.CharField()


class _Workers(serializers.Serializer):
    total = serializers.IntegerField()
    by_stage = serializers.DictField(child=serializers.IntegerField(), help_text="Workers at each current stage.")


class _Placement(serializers.Serializer):
    placed = serializers.IntegerField(help_text="Workers now deployed, working, completed, returned, separated early.")
    past_screening = serializers.IntegerField(help_text="Placed, or between screening and deployment, or visa denied.")
    rate = serializers.CharField(allow_null=True, help_text="placed / past_screening, four decimals; null: none.")


class _Retention(serializers.Serializer):
    retained = serializers.IntegerField(help_text="Of the eligible, employed 180 days with no separation before.")
    eligible = serializers.IntegerField(help_text="Workers with an employment that started 180 days ago or more.")
    rate = serializers.CharField(allow_null=True, help_text="retained / eligible, four decimals; null: none.")


class _FeeTotal(serializers.Serializer):
    category = serializers.CharField(help_text="ILO category.")
    currency = serializers.CharField()
    amount = serializers.CharField()
    reports = serializers.IntegerField()


class _Fees(serializers.Serializer):
    workers_with_fees = serializers.IntegerField(
        allow_null=True, help_text="Workers with any fee above zero reported; null when withheld."
    )
    withheld = serializers.BooleanField(
        help_text="To a recruiter, fee figures are withheld while fewer than five of its workers reported a fee, "
        "so that no worker who reported one can be told apart."
    )
    by_category = _FeeTotal(many=True)


class _Amounts(serializers.Serializer):
    currency = serializers.CharField()
    verified = serializers.CharField(help_text=GLOSSARY_HELP["verified"])
    paid = serializers.CharField(help_text=GLOSSARY_HELP["paid"])
    awaiting_payment = serializers.CharField(help_text=GLOSSARY_HELP["awaiting_payment"])
    owed_by_provider = serializers.CharField(help_text=GLOSSARY_HELP["owed_by_provider"])
    due = serializers.CharField(help_text=GLOSSARY_HELP["due"])


class ScorecardSerializer(serializers.Serializer):
    recruiter = _RecruiterRef()
    workers = _Workers()
    placement = _Placement()
    retention_180 = _Retention()
    fees = _Fees()
    claims = serializers.DictField(child=serializers.IntegerField(), help_text="Claims by status.")
    amounts = _Amounts(many=True, help_text="By currency of the recruiter's contracts.")


class ScorecardViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated, MaySeeScorecards]
    schema = ApiSchema()

    @extend_schema(
        summary="Recruiter scorecards",
        description="A recruiter's own scorecard (a list of one); for program staff every recruiter's, or one "
        "with `?recruiter=<id>`. Funders: 403.",
        parameters=[
            OpenApiParameter("recruiter", OpenApiTypes.INT, description="Staff only: one recruiter profile's id.")
        ],
        responses={
            200: ScorecardSerializer(many=True),
            400: bad_input(examples.BAD_RECRUITER),
            403: error_response("Funders: the scorecard is about workers.", examples.NOT_FOR_FUNDERS),
        },
        examples=examples.SCORECARD_EXAMPLES,
    )
    def list(self, request: Request) -> Response:
        tenancy = tenancy_of(request.user)
        recruiters = Recruiter.objects.select_related("organisation").order_by("organisation__name", "pk")
        if tenancy.staff:
            wanted = request.query_params.get("recruiter")
            if wanted is not None:
                if not (wanted.isascii() and wanted.isdigit()):  # "³".isdigit() is True too
                    raise exceptions.ValidationError({"recruiter": ["Give a recruiter's id, a whole number."]})
                recruiters = recruiters.filter(pk=int(wanted))
        else:
            recruiters = recruiters.filter(organisation_id=tenancy.recruiter)
        cards = recruiter_scorecards(recruiters=list(recruiters))
        return Response([scorecard_data(card, for_recruiter=not tenancy.staff) for card in cards])
