"""The REST API: one router under ``/api/v1/``, and one JSON shape for every error.

An error answers ``{"detail": "<summary>", "errors": [{"field": "<path>", "message": "<text>"}]}``;
``field`` names the input at fault (``metrics[1].price``, ``stage``) and is null when no one field is.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from financing.api.views import ClaimViewSet, ContractViewSet, DecisionViewSet
from lamp.api_base import error_body
from lamp.middleware import is_api
from lamp.parsers import RequestBodyTooLarge, body_refusal
from pilots.api.views import JobOpeningViewSet, PilotViewSet
from programme.api.views import ScorecardViewSet
from workers.api.imports import PayrollImportView, WorkerImportView
from workers.api.views import FeeReportViewSet, WorkerViewSet

router = DefaultRouter()
router.register("contracts", ContractViewSet, basename="contract")
router.register("pilots", PilotViewSet, basename="pilot")
router.register("job-openings", JobOpeningViewSet, basename="job-opening")
router.register("claims", ClaimViewSet, basename="claim")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("scorecard", ScorecardViewSet, basename="scorecard")
router.register("workers", WorkerViewSet, basename="worker")
router.register("fee-reports", FeeReportViewSet, basename="fee-report")

# Before the router's URLs, so that "import" is not taken for a worker's id.
urlpatterns = [
    path("workers/import/", WorkerImportView.as_view(), name="worker-import"),
    path("payroll/import/", PayrollImportView.as_view(), name="payroll-import"),
    *router.urls,
]


def field_errors(detail: Any, prefix: str = "") -> list[dict[str, str | None]]:
    """Flatten DRF's nested error detail into ``[{"field": path, "message": text}]``."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            if key == "non_field_errors":
                errors += field_errors(value, prefix)
            else:
                errors += field_errors(value, f"{prefix}.{key}" if prefix else str(key))
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            errors += field_errors(value, f"{prefix}[{index}]" if nested else prefix)
        return errors
    return [{"field": prefix or None, "message": str(detail)}]


#: ``get_object_or_404``'s message, which Django leaves untranslated.
_NO_MATCH = re.compile(r"No (?P<model>\w+) matches the given query\.")


def _not_found_message(message: str) -> str:
    """An ``Http404``'s message in the request's language, where it is Django's own."""
    match = _NO_MATCH.fullmatch(message)
    return _("No %(model)s matches the given query.") % match.groupdict() if match else message


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's own exceptions become DRF's here, not only inside DRF's handler, so that their message
    # (or DRF's default, "Not found.", for a bare ``Http404``) is the one given below.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*[_not_found_message(str(arg)) for arg in exc.args[:1]])
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    else:  # Django's refusal of a body too large or a form with too many fields: a 413 or a 400 here too
        exc = body_refusal(exc, context.get("request"))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        count = len(errors)
        summary = (
            errors[0]["message"]
            if count == 1
            else ngettext("%(count)d field is invalid.", "%(count)d fields are invalid.", count) % {"count": count}
        )
    else:
        detail = getattr(exc, "detail", str(exc))
        errors = [{"field": getattr(exc, "field", None), "message": str(detail)}]
        summary = str(detail)
    response.data = {"detail": summary, "errors": errors}
    if isinstance(exc, RequestBodyTooLarge):
        response.data["max_bytes"] = exc.max_bytes
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 page (``handler404``): under ``/api/`` a URL that no route matches answers in the
    API's error shape too, not with an HTML page a client cannot read."""
    if is_api(request):
        message = _("No API endpoint at this URL; the endpoints are listed at /api/docs/.")
        return JsonResponse(error_body(message), status=404)
    return defaults.page_not_found(request, exception)
