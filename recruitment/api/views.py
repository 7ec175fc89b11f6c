"""Fee reports: the fees the recruiter's own workers paid, recorded through ``fee_report_record``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from lamp.api_base import KeysetPagination, ReadOnlyViewSet, bad_input, error_response, not_found
from pilots.querysets import tenancy_of
from recruitment.api import examples
from recruitment.api.filtersets import FeeReportFilterSet
from recruitment.api.serializers import FeeReportSerializer
from recruitment.models import FeeReport, FeeSource
from recruitment.services import fee_report_record
from workers.api.views import validation_error
from workers.models import Worker


class FeeReportCursorPagination(KeysetPagination):
    """Fee reports by cursor (``lamp.api_base.KeysetPagination``), newest first unless ``?ordering=`` says
    otherwise, by id at the end."""

    example_path = "/api/v1/fee-reports/"


@extend_schema_view(
    list=extend_schema(
        summary="Fee reports about the caller's workers",
        description="Cursor pages: follow `next`. Newest reported first; `?ordering=` among `id`, `reported_at`, "
        "`paid_on`, `amount` and `category`, always ending on the id.",
        examples=examples.FEE_REPORT_EXAMPLES,
    ),
    retrieve=extend_schema(
        summary="A fee report",
        responses={200: FeeReportSerializer, 404: not_found("fee report", "FeeReport")},
        examples=examples.FEE_REPORT_EXAMPLES,
    ),
    create=extend_schema(
        summary="Report a fee a worker paid",
        description="A fee in one of the ILO categories of recruitment fees and related costs; a wage deduction "
        "that recovers one counts too. The pilots are zero-fee: any amount above 0 is a finding, and reverses "
        "a verified `ZERO_FEE` outcome of the worker. A recruiter's report has `source` `recruiter`. Send "
        "`Idempotency-Key` to retry safely.",
        responses={
            201: FeeReportSerializer,
            400: bad_input(*examples.BAD_FEE_REPORT),
            403: error_response("Funders report no fees.", examples.NOT_A_REPORTER),
        },
        examples=examples.FEE_REPORT_CREATE_EXAMPLES,
    ),
)
class FeeReportViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    """Never a funder's: fee reports are about people."""

    serializer_class = FeeReportSerializer
    filterset_class = FeeReportFilterSet
    search_fields = ["paid_to", "note"]
    ordering_fields = ["id", "reported_at", "paid_on", "amount", "category"]
    ordering = ["-reported_at", "-id"]
    pagination_class = FeeReportCursorPagination

    def get_queryset(self) -> QuerySet[FeeReport]:
        return FeeReport.objects.visible_to(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tenancy = tenancy_of(request.user)
        if not tenancy.staff and tenancy.recruiter is None:
            raise exceptions.PermissionDenied("Only recruiters and program staff report fees.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        worker_id = data.pop("worker_id")
        # An id outside the caller's workers gets the same words as one that does not exist.
        worker = Worker.objects.visible_to(request.user).filter(pk=worker_id).first()
        if worker is None:
            raise exceptions.ValidationError({"worker": f"No worker with id {worker_id} among yours."})
        if tenancy.staff:
            data.setdefault("source", FeeSource.STAFF)
        else:
            data["source"] = FeeSource.RECRUITER
        try:
            report = fee_report_record(worker=worker, reported_by=request.user, **data)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)
