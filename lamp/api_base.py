"""What every API resource shares: the read-only viewset base, pagination, ordering, money fields, the error
shape and the OpenAPI description of what every endpoint may answer.

A resource's viewset names its serializer, its FilterSet and its scoped queryset
(``Model.objects.visible_to(user)``: another organisation's row is absent, so its detail is a 404).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import json
import operator
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils.translation import gettext, gettext_noop
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_examples_list
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import exceptions, filters, permissions, serializers, viewsets
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from lamp.currencies import quantize
from lamp.idempotency import HEADER as IDEMPOTENCY_HEADER
from lamp.idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER, IdempotentMixin

#: The host the schema's examples use for links (the next page and the like).
EXAMPLE_HOST = "https://lamp.example.org"


class Pagination(PageNumberPagination):
    """``?page=N``, ``?page_size=`` up to 200 (50 by default)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        properties = paged["properties"]
        properties["count"]["example"] = 1
        properties["next"]["example"] = None
        properties["previous"]["example"] = None
        return paged


class KeysetPagination(CursorPagination):
    """``?cursor=…`` pages, ``?page_size=`` up to 200 (50 by default), in the list's order, which always ends on
    the id: each page starts right after the last row of the page before (a keyset, ``WHERE (a, id) > (…)``),
    never at an offset. So a deep page costs what the first does, no count is taken, and rows added or
    removed meanwhile never make a page repeat or skip a row.

    The order is the view's ``?ordering=`` when it has an ordering filter (``StableOrderingFilter``), else
    ``ordering``; nullable fields sort as PostgreSQL does by default (nulls last ascending, first descending).
    A cursor names the order it was made for: one sent with another ``?ordering=``, or altered, is a 400
    naming ``cursor``.

    DRF's own ``CursorPagination`` pages by its first ordering field only, with an offset among equal values:
    a deep page in an order with many ties (a date, a status) would cost more and more.
    """

    ordering: Sequence[str] = ("id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    #: The list's path, for the schema's example of a ``next`` link.
    example_path = "/api/v1/"
    example_cursor = "eyJvIjoiaWQiLCJwIjpbNDgxMl19"
    #: In English for the schema; the answer gives it in the request's language.
    invalid_cursor_message = gettext_noop(
        "This cursor does not belong to this list and order; follow the `next` and `previous` links as given, "
        "or start again without a cursor."
    )

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> list[Any]:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        ordering = [name for name in self.get_ordering(request, queryset, view) if name]
        if not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("id")
        self.ordering = tuple(ordering)
        self.fields = [_order_field(queryset.model, name) for name in self.ordering]
        self.position, self.reverse = self._decode(request)

        # Paging backwards walks the order the other way round, then turns the page over.
        descending = [name.startswith("-") != self.reverse for name in self.ordering]
        order: list[OrderBy] = [
            F(field.attname).desc(nulls_first=True) if desc else F(field.attname).asc(nulls_last=True)
            for field, desc in zip(self.fields, descending, strict=True)
        ]
        rows = queryset.order_by(*order)
        if self.position is not None:
            rows = rows.filter(_after(self.fields, self.position, descending))
        page = list(rows[: self.page_size + 1])
        more = len(page) > self.page_size
        self.page = page[: self.page_size]
        if self.reverse:
            self.page.reverse()
            self.has_next, self.has_previous = self.position is not None, more
        else:
            self.has_next, self.has_previous = more, self.position is not None
        self.display_page_controls = (self.has_next or self.has_previous) and self.template is not None
        return self.page

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if not self.page:  # walked back past the start: the first page
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(self.page[-1], reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.page:  # nothing after the cursor any more (rows removed): back from where it pointed
            return self._encode(self.position, reverse=True)
        return self._link(self.page[0], reverse=True)

    def _link(self, row: models.Model, *, reverse: bool) -> str:
        return self._encode([field.value_from_object(row) for field in self.fields], reverse=reverse)

    def _encode(self, position: Sequence[Any] | None, *, reverse: bool) -> str:
        payload: dict[str, Any] = {"o": ",".join(self.ordering), "p": [_to_json(value) for value in position or []]}
        if reverse:
            payload["r"] = 1
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
        cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def _decode(self, request: Request) -> tuple[list[Any] | None, bool]:
        cursor = request.query_params.get(self.cursor_query_param)
        if not cursor:
            return None, False
        try:
            payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            values = payload["p"]
            if payload["o"] != ",".join(self.ordering) or len(values) != len(self.fields):
                raise ValueError("another order")
            position = [
                None if value is None else field.to_python(value)
                for field, value in zip(self.fields, values, strict=True)
            ]
            if any(value is None and not field.null for field, value in zip(self.fields, position, strict=True)):
                raise ValueError("a null where there is none")
            if any(isinstance(value, str) and "\x00" in value for value in position):
                raise ValueError("a NUL character, which PostgreSQL refuses")
            return position, bool(payload.get("r"))
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError, ValidationError) as error:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [gettext(self.invalid_cursor_message)]}
            ) from error

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["next", "previous", "results"]
        paged["properties"]["next"]["example"] = f"{EXAMPLE_HOST}{self.example_path}?cursor={self.example_cursor}"
        paged["properties"]["previous"]["example"] = None
        return paged


def _order_field(model: type[models.Model], name: str) -> models.Field:
    name = name.lstrip("-")
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not getattr(field, "concrete", False) or field.is_relation:
        raise ImproperlyConfigured(f"Keyset pages order by the model's own columns, not {name!r}.")
    return field  # type: ignore[return-value]


def _beyond(field: models.Field, value: Any, descending: bool) -> Q | None:
    """Rows whose ``field`` comes after ``value`` in the order (nulls last ascending, first descending)."""
    name = field.attname
    if value is None:
        return Q(**{f"{name}__isnull": False}) if descending else None
    beyond = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
    if field.null and not descending:
        beyond |= Q(**{f"{name}__isnull": True})
    return beyond


def _after(fields: Sequence[models.Field], position: Sequence[Any], descending: Sequence[bool]) -> Q:
    """Rows strictly after ``position`` in the order: ``(a > x) OR (a = x AND b > y) OR …``."""
    terms: list[Q] = []
    same = Q()
    for field, value, desc in zip(fields, position, descending, strict=True):
        beyond = _beyond(field, value, desc)
        if beyond is not None:
            terms.append(same & beyond)
        same &= Q(**{f"{field.attname}__isnull": True}) if value is None else Q(**{field.attname: value})
    after = functools.reduce(operator.or_, terms)  # never empty: the order ends on the id
    first, value = fields[0], position[0]
    if len(fields) > 1 and value is not None and not first.null:
        # Implied by the terms; stated so that an index on the first field can start at the cursor.
        after &= Q(**{f"{first.attname}__{'lte' if descending[0] else 'gte'}": value})
    return after


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class StableOrderingFilter(filters.OrderingFilter):
    """``?ordering=field,-other`` among the view's ``ordering_fields``, always ending on the id, so that a
    page never shows a row twice or skips one when the chosen fields tie."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("id")
        return ordering


# --- The error shape, and what every operation may answer --------------------------------------------


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input at fault, e.g. `metric`; null: none.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The API's one error shape (``lamp.api``), for the schema."""

    detail = serializers.CharField()
    errors = ErrorItemSerializer(many=True)


def error_body(message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """An error answer as ``lamp.api.exception_handler`` gives it: one error, ``field`` at fault (or none)."""
    return {"detail": message, "errors": [{"field": field, "message": message}], **extra}


def error_example(name: str, message: str, field: str | None = None, **extra: Any) -> OpenApiExample:
    """An example of an error answer, to put in an ``OpenApiResponse`` (whose status code it takes)."""
    return OpenApiExample(name, value=error_body(message, field, **extra), response_only=True)


def error_response(description: str, *examples: OpenApiExample, serializer: Any = ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description, examples=list(examples))


def bad_input(*examples: OpenApiExample) -> OpenApiResponse:
    """A 400: bad input, each error naming its field."""
    return error_response("Bad input: each error names its field; nothing was written.", *examples)


def not_found(what: str, model: str) -> OpenApiResponse:
    """A 404 for a record the caller does not see: another organisation's is absent, exactly as a missing one."""
    return error_response(
        f"No such {what} among those the caller may see.",
        error_example("Not found", f"No {model} matches the given query."),
    )


UNAUTHENTICATED = error_response(
    "No credentials, or a token that is unknown, expired or revoked: the message says which. "
    "Answered with `WWW-Authenticate: Bearer`.",
    error_example("No token", "Authentication credentials were not provided."),
    error_example("Expired token", "This token expired at 2026-03-31 00:00 UTC; ask the platform staff for a new one."),
)
class TooLargeErrorSerializer(ErrorSerializer):
    """A 413: the body is larger than the endpoint accepts."""

    max_bytes = serializers.IntegerField(help_text="The most bytes this endpoint's body may hold.")


TOO_LARGE = error_response(
    "The body is larger than this endpoint accepts (by `Content-Length`, or as it is read): 1 MiB, or 16 MiB "
    "for the imports and the simulator and 11 MiB for an evidence upload. Nothing was read or written.",
    error_example(
        "Too large",
        "The request body is larger than this endpoint accepts: at most 1.0\xa0MB.",
        "body",
        max_bytes=1048576,
    ),
    serializer=TooLargeErrorSerializer,
)
THROTTLED = error_response(
    "Too many requests from this token (or session, or address): `Retry-After` gives the seconds to wait.",
    error_example("Throttled", "Request was throttled. Expected available in 12 seconds."),
)
KEY_INVALID = error_example(
    "Bad key", f"Send a key of 1 to {MAX_KEY_LENGTH} characters, e.g. a UUID.", IDEMPOTENCY_HEADER
)
KEY_IN_PROGRESS = error_example(
    "Key in progress",
    "A request with this key is still in progress; retry once it has finished.",
    IDEMPOTENCY_HEADER,
)
KEY_REUSED = error_response(
    f"The `{IDEMPOTENCY_HEADER}` was used before with a different request (body or endpoint).",
    error_example(
        "Key reused",
        "This key was already used with a different request; send a new key for a new request.",
        IDEMPOTENCY_HEADER,
    ),
)
FORBIDDEN = error_example("Forbidden", "You do not have permission to perform this action.")

IDEMPOTENCY_PARAMETERS = [
    OpenApiParameter(
        IDEMPOTENCY_HEADER,
        {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        OpenApiParameter.HEADER,
        required=False,
        description=f"Up to {MAX_KEY_LENGTH} characters made up once per intended write (a UUID): a retry with "
        "the same key and body gets the first answer again instead of writing twice. Keys last 24 hours.",
        examples=[OpenApiExample("A UUID", value="3f1c9a52-7b0e-4c8e-9d61-2a5e0f4b8c17")],
    ),
    OpenApiParameter(
        REPLAYED_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="`true` when the answer is the kept answer to an earlier request with the same key.",
    ),
]
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before the next request.",
)


class ApiSchema(AutoSchema):
    """The OpenAPI description of an API operation, with what every endpoint may answer besides its own:

    - 401 (no or a bad token) and 429 (throttled, with ``Retry-After``) everywhere;
    - 404 wherever the path names a record (another organisation's is absent, as a missing one);
    - 400 on lists (a bad filter value or cursor) and on writes, and 413 on writes (a body over the
      endpoint's limit, ``lamp.parsers``);
    - on every POST, the ``Idempotency-Key`` header and its answers (``lamp.idempotency``): a 400 for a bad
      key, a 409 while the first request with the key is running, a 422 for a key reused with another body.

    An error answer a view declares without an example gets a generic one. The views' own ``extend_schema``
    declarations come first: a code the view documents is kept as the view describes it.
    """

    def get_override_parameters(self) -> list[Any]:
        parameters = [*super().get_override_parameters(), RETRY_AFTER]
        if self.method == "POST":
            parameters += IDEMPOTENCY_PARAMETERS
        return parameters

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict[str, Any]:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if self.method == "POST" and not status_code.startswith("2"):
            headers.pop(REPLAYED_HEADER, None)  # kept answers are replayed too, but say so on success
        return headers

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        common: dict[str, OpenApiResponse] = {"401": UNAUTHENTICATED, "429": THROTTLED}
        if "{" in self.path:
            common["404"] = not_found("record", self._model_name())
        if self.method in ("POST", "PUT", "PATCH"):
            common["400"] = bad_input(KEY_INVALID) if self.method == "POST" else bad_input()
            common["413"] = TOO_LARGE
        elif getattr(self.view, "action", None) == "list":
            common["400"] = bad_input(*self._list_errors())
        if self.method == "POST":
            common["409"] = error_response(
                f"A request with the same `{IDEMPOTENCY_HEADER}` is still in progress; retry once it has finished.",
                KEY_IN_PROGRESS,
            )
            common["422"] = KEY_REUSED
        for code, response in common.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
                continue
            if not self._has_examples(responses[code]):
                self._add_examples(responses[code], response.examples)
            if self.method == "POST" and code in ("400", "409"):
                # The view's own 400 or 409 (a duplicate): the Idempotency-Key may answer so too.
                self._add_examples(responses[code], [KEY_INVALID if code == "400" else KEY_IN_PROGRESS])
        if "403" in responses and not self._has_examples(responses["403"]):
            self._add_examples(responses["403"], [FORBIDDEN])
        return dict(sorted(responses.items()))

    @staticmethod
    def _has_examples(response: dict[str, Any]) -> bool:
        return any(media.get("examples") for media in response.get("content", {}).values())

    @staticmethod
    def _add_examples(response: dict[str, Any], examples: Sequence[OpenApiExample]) -> None:
        media = response.get("content", {}).get("application/json")
        if media is not None and examples:
            merged = media.setdefault("examples", {})  # the view's own first: Swagger UI shows the first
            for name, example in build_examples_list(list(examples)).items():
                merged.setdefault(name, example)

    def _model_name(self) -> str:
        queryset = getattr(self.view, "queryset", None)
        if queryset is None:
            try:
                queryset = self.view.get_queryset()
            except Exception:  # noqa: BLE001 - describing, not serving: fall back to a neutral word
                return "record"
        return queryset.model._meta.object_name

    def _list_errors(self) -> list[OpenApiExample]:
        examples = []
        filterset = getattr(self.view, "filterset_class", None)
        for name, declared in filterset.base_filters.items() if filterset is not None else []:
            choices = getattr(declared, "extra", {}).get("choices")
            if choices:
                message = "Select a valid choice. pending is not one of the available choices."
                examples.append(error_example(f"Bad {name}", message, name))
                break
        paginator = getattr(self.view, "pagination_class", None)
        if paginator is not None and issubclass(paginator, KeysetPagination):
            examples.append(error_example("Bad cursor", KeysetPagination.invalid_cursor_message, "cursor"))
        if not examples:
            examples.append(error_example("Bad filter", "Enter a number.", "pilot"))
        return examples


class ReadOnlyViewSet(IdempotentMixin, viewsets.ReadOnlyModelViewSet):
    """List and detail, paginated, filtered by the resource's FilterSet, searchable and ordered; writes are 405
    unless a resource adds them. Every POST (a create or an action) honours ``Idempotency-Key``
    (``lamp.idempotency``); a viewset not built on this base adds ``IdempotentMixin`` first among its bases.
    """

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, StableOrderingFilter]
    schema = ApiSchema()


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
