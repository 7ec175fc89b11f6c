"""Requests refused before any view runs, in the API's error shape under ``/api/`` and as a page elsewhere.

- A body larger than its endpoint accepts (``lamp.parsers.body_limit``), by its ``Content-Length``: a 413.
  The parsers count again as the body is read, so a body longer than it says is refused too.
- A form of the dashboard or the admin that Django will not read (over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, or more
  than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields or ``DATA_UPLOAD_MAX_NUMBER_FILES`` files): a 413 or a 400 page,
  rather than Django's bare "Bad Request (400)".
- A NUL character in the path or in a query parameter of the API (a 400 naming the parameter), and in the
  *name* of a query parameter or form field anywhere. A NUL in the value of a dashboard field is left to the
  page's form, which names the field it is in.

Placed before ``CsrfViewMiddleware``, which would read a form first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from lamp.api_base import error_body
from lamp.parsers import BODY, body_limit, form_nul_key, nul_message, too_large_message, too_many_fields

#: Methods whose body is read.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def refusal(request: HttpRequest, *, status: int, message: str, field: str | None, **extra: Any) -> HttpResponse:
    """The answer to a request refused here: the API's error shape under ``/api/``, else a page."""
    if is_api(request):
        return JsonResponse(error_body(message, field, **extra), status=status)
    return render(request, "request_refused.html", {"message": message, "status": status}, status=status)


class RequestLimitsMiddleware:
    """Body size, unreadable forms and NUL characters, checked once the URL is resolved (each endpoint has its
    limit) and before any view or other middleware reads the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        limit = body_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return refusal(request, status=413, message=too_large_message(limit), field=BODY, max_bytes=limit)
        if "\x00" in request.path:
            return refusal(request, status=400, message=nul_message(), field="path")
        api = is_api(request)
        if (name := form_nul_key(request.GET, values=api)) is not None:
            return refusal(request, status=400, message=nul_message(), field=name)
        if api or request.method not in WRITES:
            return None  # the API's parsers read its bodies (lamp.parsers)
        try:
            form = request.POST
            request.FILES  # noqa: B018 - read now, so that what Django refuses is answered here
        except RequestDataTooBig:
            return refusal(request, status=413, message=too_large_message(limit), field=BODY, max_bytes=limit)
        except (TooManyFieldsSent, TooManyFilesSent):
            message = str(too_many_fields().detail[BODY][0])  # type: ignore[index]
            return refusal(request, status=400, message=message, field=BODY)
        if (name := form_nul_key(form, values=False)) is not None:
            return refusal(request, status=400, message=nul_message(), field=name)
        return None
