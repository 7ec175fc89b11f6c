"""What every API resource shares: the read-only viewset base, pagination, ordering and money fields.

A resource's viewset names its serializer, its FilterSet and its scoped queryset
(``Model.objects.visible_to(user)``: another organisation's row is absent, so its detail is a 404).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters, permissions, serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from lamp.currencies import quantize
from lamp.idempotency import IdempotentMixin


class Pagination(PageNumberPagination):
    """``?page=N``, ``?page_size=`` up to 200 (50 by default)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class StableOrderingFilter(filters.OrderingFilter):
    """``?ordering=field,-other`` among the view's ``ordering_fields``, always ending on the id, so that a
    page never shows a row twice or skips one when the chosen fields tie."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("id")
        return ordering


class ReadOnlyViewSet(IdempotentMixin, viewsets.ReadOnlyModelViewSet):
    """List and detail, paginated, filtered by the resource's FilterSet, searchable and ordered; writes are 405
    unless a resource adds them. Every POST (a create or an action) honours ``Idempotency-Key``
    (``lamp.idempotency``); a viewset not built on this base adds ``IdempotentMixin`` first among its bases.
    """

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, StableOrderingFilter]


def money(amount: Decimal | None, currency: str) -> str | None:
    """An amount as the API gives it: a string with the currency's decimals (``"1500.00"``, JPY ``"1500"``)."""
    return None if amount is None else str(quantize(amount, currency))


def _attribute(instance: Any, path: str) -> Any:
    for name in path.split("."):
        instance = getattr(instance, name)
    return instance


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """A read-only amount of money as a string with its currency's decimals.

    ``MoneyField(amount="cap_total", currency="currency")``; ``currency`` may be a dotted path, e.g.
    ``"contract.currency"`` for a metric whose contract is already loaded.
    """

    def __init__(self, *, amount: str, currency: str, **kwargs: Any) -> None:
        self.amount_path = amount
        self.currency_path = currency
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, instance: Any) -> str | None:
        return money(_attribute(instance, self.amount_path), _attribute(instance, self.currency_path))


class NamedSerializer(serializers.Serializer):
    """A related organisation, pilot or the like, shown as ``{"id": …, "name": …}``."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
