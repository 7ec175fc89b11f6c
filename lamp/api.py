"""The REST API: one router under ``/api/v1/``, and one JSON shape for every error.

An error answers ``{"detail": "<summary>", "errors": [{"field": "<path>", "message": "<text>"}]}``;
``field`` names the input at fault (``metrics[1].price``, ``stage``) and is null when no one field is.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from financing.api.views import ContractViewSet

router = DefaultRouter()
router.register("contracts", ContractViewSet, basename="contract")

urlpatterns = router.urls


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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        summary = errors[0]["message"] if len(errors) == 1 else f"{len(errors)} fields are invalid."
    else:
        detail = getattr(exc, "detail", str(exc))
        errors = [{"field": None, "message": str(detail)}]
        summary = str(detail)
    response.data = {"detail": summary, "errors": errors}
    return response
