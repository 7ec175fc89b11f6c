from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from financing.api import examples
from financing.api.filtersets import ClaimFilterSet, ContractFilterSet, DecisionFilterSet
from financing.api.serializers import (
    ApproveSerializer,
    ClaimConflictSerializer,
    ClaimCreateSerializer,
    ClaimSerializer,
    ContractScheduleSerializer,
    ContractSerializer,
    DecisionSerializer,
    PaymentCreateSerializer,
    RefundSerializer,
    RefundSettleSerializer,
    TranchePaymentsSerializer,
    schedule_data,
    tranche_state,
)
from financing.models import (
    Disbursement,
    OutcomeClaim,
    OutcomeMetric,
    PaymentLine,
    ProviderRefund,
    RbfContract,
    Tranche,
    Verification,
)
from financing.querysets import sees_workers_of
from financing.scenario import ScenarioError, simulate
from financing.selectors import automatic_decisions
from financing.services import (
    DuplicateClaim,
    claim_create,
    disbursement_record,
    refund_settle,
    tranche_approve,
    tranche_total,
)
from lamp.api_base import (
    KeysetPagination,
    ReadOnlyViewSet,
    bad_input,
    error_body,
    error_response,
    money,
    not_found,
)
from lamp.tenancy import tenancy_of
from lamp.throttling import ClientRateThrottle
from workers.models import Worker


class SimulateThrottle(ClientRateThrottle):
    """The simulator's own budget per token (or per user), besides the API's: each request may compute a
    schedule of up to 50,000 claims over ten years (rate ``simulate``, ``API_SIMULATE_THROTTLE_RATE``)."""

    scope = "simulate"


@extend_schema_view(
    list=extend_schema(
        summary="Contracts: the caller's as provider or payer, with their metrics",
        examples=examples.CONTRACT_EXAMPLES,
    ),
    retrieve=extend_schema(
        summary="A contract with its metrics",
        responses={200: ContractSerializer, 404: not_found("contract", "RbfContract")},
        examples=examples.CONTRACT_EXAMPLES,
    ),
)
class ContractViewSet(ReadOnlyViewSet):
    """Contracts with their metrics and schedules: a recruiter's where it is the provider, a funder's where it pays."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    search_fields = ["reference", "name"]
    ordering_fields = ["reference", "start_date", "status"]
    ordering = ["reference"]

    def get_queryset(self) -> QuerySet[RbfContract]:
        contracts = RbfContract.objects.visible_to(self.request.user)
        if self.action in ("schedule", "approve_tranche", "record_payment", "settle_refund"):
            return contracts
        metrics = OutcomeMetric.objects.select_related("denominator_metric").order_by("position", "code")
        return contracts.select_related("pilot", "payer", "provider").prefetch_related(Prefetch("metrics", metrics))

    @extend_schema(
        summary="Simulate a contract's payment schedule",
        description="The payment rules of docs/rbf-scenario.md, which describes every field, run on a scenario; "
        "nothing is stored. Amounts and rates are decimal strings, dates YYYY-MM-DD between 2000-01-01 and "
        "2100-12-31; unknown fields are refused. The period is at most 10 years, the claims at most 50,000, each "
        "achieved within the period and verified no earlier than achieved. Rate-limited apart from the rest of "
        "the API (`API_SIMULATE_THROTTLE_RATE`, 30 a minute).",
        request={
            "application/json": {
                "type": "object",
                "required": ["currency", "start", "end", "tranches", "metrics", "claims"],
                "properties": {
                    "currency": {"type": "string", "description": "ISO 4217"},
                    "start": {"type": "string", "format": "date"},
                    "end": {"type": "string", "format": "date"},
                    "cap_total": {"type": "string", "nullable": True},
                    "tranches": {"description": "{period: monthly|quarterly, due_days} or [{code, start, end, due}]"},
                    "metrics": {"type": "array", "items": {"type": "object", "required": ["code"]}},
                    "claims": {
                        "type": "array",
                        "items": {"type": "object", "required": ["id", "metric", "worker", "achieved_on", "status"]},
                    },
                },
            }
        },
        responses={
            200: {
                "type": "object",
                "properties": {
                    "currency": {"type": "string"},
                    "tranches": {"type": "array", "items": {"type": "object"}},
                    "lapsed": {"type": "array", "items": {"type": "object"}},
                    "not_payable": {"type": "array", "items": {"type": "object"}},
                    "total": {"type": "string"},
                },
            },
            400: error_response(
                "The scenario is not valid: the error names the field, as `metrics[0].price`.",
                *examples.BAD_SCENARIO,
            ),
            429: error_response("Over the simulator's own rate.", *examples.THROTTLED_SIMULATION),
        },
        examples=[
            OpenApiExample(
                "Worked example",
                request_only=True,
                value={
                    "currency": "USD",
                    "start": "2026-01-01",
                    "end": "2026-12-31",
                    "tranches": {"period": "quarterly", "due_days": 30},
                    "metrics": [{"code": "PLACED", "price": "500.00", "cap_units": 3}],
                    "claims": [
                        {
                            "id": "c1",
                            "metric": "PLACED",
                            "worker": "w1",
                            "achieved_on": "2026-01-02",
                            "verified_on": "2026-01-05",
                            "status": "verified",
                        }
                    ],
                },
            ),
            OpenApiExample(
                "Schedule",
                response_only=True,
                status_codes=["200"],
                value={
                    "currency": "USD",
                    "tranches": [
                        {
                            "code": "2026-Q1",
                            "start": "2026-01-01",
                            "end": "2026-03-31",
                            "due": "2026-04-30",
                            "lines": [
                                {
                                    "claim": "c1",
                                    "metric": "PLACED",
                                    "worker": "w1",
                                    "amount": "500.00",
                                    "capped": "0.00",
                                    "reason": None,
                                }
                            ],
                            "total": "500.00",
                        }
                    ],
                    "lapsed": [],
                    "not_payable": [],
                    "total": "500.00",
                },
            ),
        ],
    )
    @action(detail=False, methods=["post"], throttle_classes=[*api_settings.DEFAULT_THROTTLE_CLASSES, SimulateThrottle])
    def simulate(self, request: Request) -> Response:
        """Run the payment rules on a contract scenario (docs/rbf-scenario.md) and return its schedule."""
        try:
            return Response(simulate(request.data))
        except ScenarioError as error:
            raise exceptions.ValidationError({error.field: [error.message]}) from error

    @extend_schema(
        summary="A contract's payment schedule",
        description="Tranches in order with their lines (payments, then adjustments of frozen tranches) and "
        "totals. A line names the worker only for program staff and the contract's provider.",
        responses={200: ContractScheduleSerializer, 404: not_found("contract", "RbfContract")},
        examples=examples.SCHEDULE_EXAMPLES,
    )
    @action(detail=True, methods=["get"])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        contract = self.get_object()
        tranches = list(_with_payments(Tranche.objects.filter(contract=contract).with_totals()).order_by("start_date"))
        lines = PaymentLine.objects.filter(tranche__contract=contract).schedule_rows()
        show_workers = sees_workers_of(request.user, provider_id=contract.provider_id)
        return Response(schedule_data(contract=contract, tranches=tranches, lines=lines, show_workers=show_workers))

    # --- Approving and paying a tranche, settling a refund (program staff): the services' rules ----------

    def _tranche(self, code: str) -> Tranche:
        contract = self.get_object()
        tranche = Tranche.objects.filter(contract=contract, code=code).select_related("contract").first()
        if tranche is None:
            raise exceptions.NotFound(f"Contract {contract.reference} has no tranche {code}.")
        return tranche

    def _tranche_state(self, tranche: Tranche) -> dict[str, object]:
        tranche = _with_payments(Tranche.objects.select_related("contract")).get(pk=tranche.pk)
        total = tranche_total(tranche=tranche)
        return tranche_state(tranche=tranche, total=total, currency=tranche.contract.currency)

    @extend_schema(
        summary="Approve a tranche for payment",
        description="Program staff only. Tranches are approved in order, after their period, by someone who "
        "verified none of their claims; `expected_total` refuses the approval if the total changed since it was "
        "reviewed. A tranche totalling below zero carries its balance into the next open tranche (a "
        "`carried_forward` line on each); with none after it, the provider owes the balance back (`refund`). "
        "A tranche totalling zero once approved is settled (`paid`) at once.",
        request=ApproveSerializer,
        responses={
            200: TranchePaymentsSerializer,
            400: bad_input(*examples.BAD_APPROVAL),
            403: error_response("Anyone but program staff, or the maker-checker rule.", *examples.NOT_APPROVER),
        },
        examples=examples.APPROVE_EXAMPLES,
    )
    @action(detail=True, methods=["post"], url_path=r"tranches/(?P<code>[^/]+)/approve")
    def approve_tranche(self, request: Request, pk: str | None = None, code: str = "") -> Response:
        _require_staff(request)
        tranche = self._tranche(code)
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            tranche = tranche_approve(tranche=tranche, user=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(_validation_detail(error)) from error
        except DjangoPermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        return Response(self._tranche_state(tranche))

    @extend_schema(
        summary="Record a payment of an approved tranche",
        description="Program staff only. The payer's payment of all that is left to pay of an approved tranche, "
        "or of a part: each payment is more than zero, in whole minor units, and all of them together never "
        "exceed the tranche's total. The tranche is `paid` once they reach it; until then it stays `approved` "
        "with `left_to_pay`. A reference already recorded for the tranche is refused; send `Idempotency-Key` to "
        "retry safely.",
        request=PaymentCreateSerializer,
        responses={
            201: TranchePaymentsSerializer,
            400: bad_input(*examples.BAD_PAYMENT),
            403: error_response("Anyone but program staff.", examples.NOT_STAFF_PAYMENT),
        },
        examples=examples.PAYMENT_EXAMPLES,
    )
    @action(detail=True, methods=["post"], url_path=r"tranches/(?P<code>[^/]+)/payments")
    def record_payment(self, request: Request, pk: str | None = None, code: str = "") -> Response:
        _require_staff(request)
        tranche = self._tranche(code)
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            disbursement_record(tranche=tranche, user=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(_validation_detail(error)) from error
        return Response(self._tranche_state(tranche), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the provider's repayment of a refund",
        description="Program staff only. What a provider owes back (a tranche approved below zero with no later "
        "open tranche: the schedule's `refund`) is repaid whole, in one payment of exactly its `amount`; the "
        "tranche is then settled (`paid`).",
        request=RefundSettleSerializer,
        responses={
            200: RefundSerializer,
            400: bad_input(*examples.BAD_REFUND),
            403: error_response("Anyone but program staff.", examples.NOT_STAFF_PAYMENT),
        },
        examples=examples.REFUND_EXAMPLES,
    )
    @action(detail=True, methods=["post"], url_path=r"refunds/(?P<refund_id>[0-9]+)/settle")
    def settle_refund(self, request: Request, pk: str | None = None, refund_id: str = "") -> Response:
        _require_staff(request)
        contract = self.get_object()
        refund = (
            ProviderRefund.objects.filter(tranche__contract=contract, pk=int(refund_id))
            .select_related("tranche")
            .first()
        )
        if refund is None:
            raise exceptions.NotFound(f"Contract {contract.reference} has no refund {refund_id}.")
        serializer = RefundSettleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            refund = refund_settle(refund=refund, user=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(_validation_detail(error)) from error
        return Response(
            {
                "id": refund.pk,
                "tranche": refund.tranche.code,
                "amount": money(refund.amount, refund.currency),
                "due": refund.due,
                "settled_on": refund.settled_on,
                "reference": refund.reference,
            }
        )


def _with_payments(tranches: QuerySet[Tranche]) -> QuerySet[Tranche]:
    """``tranches`` with their payments (oldest first) and their refund, in one more query."""
    payments = Disbursement.objects.order_by("paid_on", "id")
    return tranches.select_related("refund").prefetch_related(Prefetch("disbursements", payments))


def _require_staff(request: Request) -> None:
    if not tenancy_of(request.user).staff:
        raise exceptions.PermissionDenied("Only program staff approve tranches and record payments.")


class MayClaim(permissions.BasePermission):
    """Claims are made by providers (recruiters) and by staff on their behalf; a funder only reads."""

    message = "Only the contract's provider, or program staff, may claim outcomes."

    def has_permission(self, request: Request, view: object) -> bool:
        if getattr(view, "action", None) != "create":
            return True
        tenancy = tenancy_of(request.user)
        return tenancy.staff or tenancy.recruiter is not None


class ClaimCursorPagination(KeysetPagination):
    """Claims by cursor (``lamp.api_base.KeysetPagination``), in the ``?ordering=`` chosen, by id at the end."""

    example_path = "/api/v1/claims/"


@extend_schema_view(
    list=extend_schema(
        summary="Outcome claims about the caller's workers under its contracts",
        description="Cursor pages: follow `next`; `?ordering=` among `id`, `achieved_on`, `verified_on` and "
        "`status` (by id by default), always ending on the id.",
        examples=examples.CLAIM_EXAMPLES,
    ),
    retrieve=extend_schema(
        summary="An outcome claim",
        responses={200: ClaimSerializer, 404: not_found("claim", "OutcomeClaim")},
        examples=examples.CLAIM_EXAMPLES,
    ),
)
class ClaimViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    """Outcome claims about the recruiter's own workers under its contracts; never a funder's (personal data).

    A recruiter claims; it never verifies, rejects or approves: no endpoint here does, and a claim's
    ``status`` is read-only. There is no update or delete: a wrong claim is rejected by staff.
    """

    permission_classes = [permissions.IsAuthenticated, MayClaim]
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilterSet
    pagination_class = ClaimCursorPagination
    ordering_fields = ["id", "achieved_on", "verified_on", "status"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[OutcomeClaim]:
        return OutcomeClaim.objects.visible_to(self.request.user).select_related("metric")

    @extend_schema(
        summary="Claim an outcome",
        description="Claim that one of your workers achieved a metric of one of your active contracts. "
        "A metric or worker outside your scope is `unknown`, as one that does not exist. A second claim for "
        "the same metric, worker and unit is a 409 naming the first (`existing_id`). The claim starts "
        "`claimed`; staff or an automatic rule verify it. Send `Idempotency-Key` to retry safely.",
        request=ClaimCreateSerializer,
        responses={
            201: ClaimSerializer,
            400: bad_input(*examples.BAD_CLAIM),
            403: error_response("A funder: only providers and staff claim.", examples.NOT_A_PROVIDER),
            409: error_response(
                "The worker already has a claim for this metric and unit: `existing_id` names it.",
                examples.DUPLICATE_CLAIM,
                serializer=ClaimConflictSerializer,
            ),
        },
        examples=examples.CLAIM_CREATE_EXAMPLES,
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        user = request.user
        serializer = ClaimCreateSerializer(
            data=request.data,
            context={
                "metrics": OutcomeMetric.objects.visible_to(user),
                "workers": Worker.objects.visible_to(user),
            },
        )
        serializer.is_valid(raise_exception=True)
        try:
            claim = claim_create(**serializer.validated_data, claimed_by=user)
        except DuplicateClaim as duplicate:
            body = error_body(str(duplicate), existing_id=duplicate.existing_id)
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(_validation_detail(error)) from error
        claim = OutcomeClaim.objects.select_related("metric").get(pk=claim.pk)
        return Response(ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)


def _validation_detail(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {"non_field_errors" if k == "__all__" else k: v for k, v in error.message_dict.items()}
    return {"non_field_errors": error.messages}


class StaffOnly(permissions.BasePermission):
    message = "Only program staff read what the automatic rules decided."

    def has_permission(self, request: Request, view: object) -> bool:
        return tenancy_of(request.user).staff


class DecisionCursorPagination(KeysetPagination):
    """Decisions by cursor (``lamp.api_base.KeysetPagination``), newest first."""

    ordering = ("-decided_at", "-id")
    example_path = "/api/v1/decisions/"


@extend_schema_view(
    list=extend_schema(
        summary="What the automatic rules decided",
        description="Program staff only. Every claim an automatic rule verified, sent to review or reversed, "
        "newest first, with the reason and the facts for and against it weighed. Cursor pages: follow `next`.",
        responses={
            200: DecisionSerializer(many=True),
            403: error_response("Anyone but program staff.", examples.NOT_STAFF),
        },
        examples=examples.DECISION_EXAMPLES,
    ),
    retrieve=extend_schema(
        summary="One automatic decision",
        responses={
            200: DecisionSerializer,
            403: error_response("Anyone but program staff.", examples.NOT_STAFF),
            404: not_found("decision", "Verification"),
        },
        examples=examples.DECISION_EXAMPLES,
    ),
)
class DecisionViewSet(ReadOnlyViewSet):
    """The automatic rules' decisions, for staff to see what happened without anyone asking."""

    permission_classes = [permissions.IsAuthenticated, StaffOnly]
    serializer_class = DecisionSerializer
    filterset_class = DecisionFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = DecisionCursorPagination

    def get_queryset(self) -> QuerySet[Verification]:
        return automatic_decisions(user=self.request.user)
