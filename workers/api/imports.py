"""``POST /api/v1/workers/import/``: register up to 10,000 workers from a CSV file or JSON rows; and
``POST /api/v1/payroll/import/``: an employer's pay slips of its employees, the same way."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lamp.api_base import ApiSchema, error_example, error_response
from lamp.parsers import ImportJSONParser, MultiPartParser, RequestBodyTooLarge, body_limit
from lamp.tenancy import tenancy_of
from recruitment.models import Recruiter
from workers.imports import FIELDS, MAX_ROWS, MODES, REQUIRED_FIELDS, ImportResult, check_mode, import_workers
from workers.payroll import FIELDS as PAYROLL_FIELDS
from workers.payroll import PURPOSES as PAYROLL_PURPOSES
from workers.payroll import REQUIRED_FIELDS as PAYROLL_REQUIRED
from workers.payroll import import_payroll

#: A 10,000-row file is about 2 MB; anything much larger is not a worker list. The endpoint's body limit
#: (``REQUEST_BODY_MAX_BYTES_BY_URL``, 16 MiB) comes first.
MAX_CSV_BYTES = 20 * 1024 * 1024


class CSVParser(BaseParser):
    """A raw ``text/csv`` body, handed to the view as bytes (decoded and parsed there, to report errors)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> bytes:
        request = (parser_context or {}).get("request")
        limit = body_limit(request) if request is not None else MAX_CSV_BYTES
        data = stream.read(max(limit, MAX_CSV_BYTES) + 1) if stream is not None else b""
        if len(data) > limit:
            raise RequestBodyTooLarge(limit)
        if len(data) > MAX_CSV_BYTES:
            raise exceptions.ValidationError({"file": f"The CSV is larger than {MAX_CSV_BYTES // 2**20} MiB."})
        return data


class CanImportWorkers(permissions.BasePermission):
    """Program staff, or a user acting for a recruiter organisation with a recruiter profile; funders never."""

    message = "Only program staff and recruiters may import workers."

    def has_permission(self, request: Request, view: APIView) -> bool:
        tenancy = tenancy_of(request.user)
        return tenancy.staff or tenancy.recruiter is not None


_ERROR = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "row": {"type": "integer", "description": "The data row, from 1 (a CSV header is not a row)."},
        "field": {"type": "string", "nullable": True, "example": "rows[12].date_of_birth"},
        "message": {"type": "string"},
    },
}
_ROW = {
    "type": "object",
    "required": list(REQUIRED_FIELDS),
    "properties": {
        "given_names": {"type": "string"},
        "family_names": {"type": "string"},
        "date_of_birth": {"type": "string", "format": "date"},
        "gender": {"type": "string", "enum": ["female", "male", "non_binary", "undisclosed"]},
        "nationality": {"type": "string", "description": "ISO 3166 alpha-2"},
        "pilot": {"type": "integer", "description": "A pilot the recruiter is assigned to."},
        "recruiter": {
            "type": "integer",
            "description": "A recruiter profile's id: required from staff, ignored from a recruiter (its own).",
        },
        "phone": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "identity_document_type": {
            "type": "string",
            "enum": ["passport", "national_id", "seafarer_book", "other"],
        },
        "identity_document_country": {"type": "string", "description": "ISO 3166 alpha-2; the nationality if blank"},
        "identity_document_number": {"type": "string"},
        "language_levels": {
            "description": 'CEFR levels by ISO 639-1 code: {"en": "B1"}, or in CSV `en:B1;de:A2`',
            "oneOf": [{"type": "object", "additionalProperties": {"type": "string"}}, {"type": "string"}],
        },
        "consent_given_at": {"type": "string", "format": "date-time"},
    },
}
_RESULT = {
    "type": "object",
    "required": ["created", "ids", "errors"],
    "properties": {
        "created": {"type": "integer"},
        "ids": {"type": "array", "items": {"type": "integer"}},
        "errors": {"type": "array", "items": _ERROR},
    },
}
_FAILURE = {
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "created": {"type": "integer"},
        "ids": {"type": "array", "items": {"type": "integer"}},
        "errors": {"type": "array", "items": _ERROR},
    },
}
_CSV_EXAMPLE = (
    "given_names,family_names,date_of_birth,gender,nationality,pilot,identity_document_number\n"
    "Ana,López,1995-06-01,female,GT,3,P01234567\n"
)


MODE_PARAMETER = OpenApiParameter(
    "mode",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(MODES),
    default="atomic",
    description="atomic: all rows or none; partial: the good rows, the bad ones returned.",
)


def import_request_schema(row: dict[str, Any]) -> dict[str, Any]:
    """The request body of an import: JSON rows (``{"rows": [...]}`` or a list), a CSV body, or a CSV file."""
    return {
        "application/json": {
            "oneOf": [
                {"type": "object", "required": ["rows"], "properties": {"rows": {"type": "array", "items": row}}},
                {"type": "array", "items": row},
            ]
        },
        "text/csv": {"type": "string", "description": "UTF-8 CSV with a header row of field names."},
        "multipart/form-data": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        },
    }


class WorkerImportView(APIView):
    """Register many workers at once, as ``POST /api/v1/workers/`` would one by one.

    The body is CSV (a ``text/csv`` body, or the ``file`` part of a multipart form), UTF-8, with a
    header naming the columns, or JSON (``{"rows": [...]}`` or a bare list of rows). At most 10,000 rows.

    ``?mode=atomic`` (the default): any bad row and nothing is written; the answer is a 400 listing every
    bad row. ``?mode=partial``: the good rows are written, a 201 lists what was created and, in
    ``errors``, the rows refused (a 400 if no row was good). A 201 therefore may carry errors: check
    ``errors`` rather than the status alone.

    A row error names the row twice, for people and for programs: ``field`` is ``rows[N].<field>``
    (or ``rows[N]`` for the whole row) and ``row`` is ``N``, counting data rows from 1 (a CSV header is
    not a row, blank lines are skipped). A file that cannot be read (not UTF-8, bad quoting, no header,
    an unknown or missing column, a line with the wrong number of cells) is a 400 naming ``file``.

    A recruiter imports for itself: any ``recruiter`` column is ignored, and a pilot it is not assigned
    to is a row error. Staff name each row's ``recruiter`` (a recruiter profile's id).
    """

    permission_classes = [permissions.IsAuthenticated, CanImportWorkers]
    parser_classes = [ImportJSONParser, MultiPartParser, CSVParser]
    schema = ApiSchema()

    @extend_schema(
        operation_id="workers_import",
        tags=["workers"],
        summary="Import workers from CSV or JSON",
        parameters=[MODE_PARAMETER],
        request=import_request_schema(_ROW),
        responses={
            201: OpenApiResponse(_RESULT, description="Rows written; in partial mode, `errors` lists rows refused."),
            400: OpenApiResponse(_FAILURE, description="Nothing written: bad rows, a bad file, mode or row count."),
            403: error_response(
                "Neither staff nor a recruiter.",
                error_example("A funder", "Only program staff and recruiters may import workers."),
            ),
        },
        examples=[
            OpenApiExample(
                "JSON rows",
                request_only=True,
                media_type="application/json",
                value={
                    "rows": [
                        {
                            "given_names": "Ana",
                            "family_names": "López",
                            "date_of_birth": "1995-06-01",
                            "gender": "female",
                            "nationality": "GT",
                            "pilot": 3,
                            "identity_document_number": "P01234567",
                            "language_levels": {"es": "C2", "en": "A2"},
                        }
                    ]
                },
            ),
            OpenApiExample("CSV", request_only=True, media_type="text/csv", value=_CSV_EXAMPLE),
            OpenApiExample(
                "Partial import",
                response_only=True,
                status_codes=["201"],
                value={
                    "created": 2,
                    "ids": [101, 102],
                    "errors": [
                        {
                            "row": 3,
                            "field": "rows[3].date_of_birth",
                            "message": "'01/06/1995' is not a date in the form YYYY-MM-DD.",
                        }
                    ],
                },
            ),
            OpenApiExample(
                "Atomic import refused",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": "1 row is invalid; nothing was written.",
                    "created": 0,
                    "ids": [],
                    "errors": [
                        {
                            "row": 3,
                            "field": "rows[3].pilot",
                            "message": "The recruiter is not assigned to a pilot with id 9.",
                        }
                    ],
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        mode = _mode(request)
        recruiter = None
        if not tenancy_of(request.user).staff:
            recruiter = Recruiter.objects.filter(organisation_id=request.user.organisation_id).first()
            if recruiter is None:
                raise exceptions.PermissionDenied("Your organisation has no recruiter profile.")
        rows = self._rows(request, staff=recruiter is None)
        return _import_answer(lambda: import_workers(rows=rows, mode=mode, user=request.user, recruiter=recruiter))

    def _rows(self, request: Request, *, staff: bool) -> list[Any]:
        required = [*REQUIRED_FIELDS, "recruiter"] if staff else list(REQUIRED_FIELDS)
        return import_rows(request, fields=FIELDS, required=required)


def import_rows(request: Request, *, fields: tuple[str, ...], required: list[str]) -> list[Any]:
    """The rows of an import request, whatever its form: a ``text/csv`` body, a ``file`` part, or JSON
    (``{"rows": [...]}`` or a list). A file that cannot be read is a 400 naming ``file``."""
    data = request.data
    if isinstance(data, bytes) or request.content_type.startswith("text/csv"):  # an empty body is not parsed
        return csv_rows(data if isinstance(data, bytes) else b"", fields=fields, required=required)
    if "file" in request.FILES:
        upload = request.FILES["file"]
        if upload.size > MAX_CSV_BYTES:
            raise exceptions.ValidationError({"file": f"The CSV is larger than {MAX_CSV_BYTES // 2**20} MiB."})
        return csv_rows(upload.read(), fields=fields, required=required)
    if request.content_type.startswith("multipart/"):
        raise exceptions.ValidationError({"file": "Send the CSV in a part named 'file'."})
    if isinstance(data, dict) and set(data) == {"rows"}:
        data = data["rows"]
    if not isinstance(data, list):
        raise exceptions.ValidationError({"rows": 'Expected {"rows": [...]} or a list of rows.'})
    return data


def _mode(request: Request) -> str:
    """``?mode=``, checked before the body is read: a bad mode is a 400 naming ``mode``."""
    mode = request.query_params.get("mode", "atomic")
    try:
        check_mode(mode)
    except DjangoValidationError as invalid:
        raise exceptions.ValidationError(invalid.message_dict) from invalid
    return mode


def _import_answer(run: Callable[[], ImportResult]) -> Response:
    """Run an import, its refusals as the API's errors; a 201 listing what was written (and, in partial mode,
    the rows refused), or a 400 when nothing was."""
    try:
        result = run()
    except DjangoValidationError as invalid:
        raise exceptions.ValidationError(invalid.message_dict) from invalid
    except DjangoPermissionDenied as refused:
        raise exceptions.PermissionDenied(str(refused)) from refused
    errors = [
        {
            "row": e["row"],
            "field": f"rows[{e['row']}].{e['field']}" if e["field"] else f"rows[{e['row']}]",
            "message": e["message"],
        }
        for e in result.errors
    ]
    body: dict[str, Any] = {"created": result.count, "ids": result.created_ids, "errors": errors}
    if result.count:
        return Response(body, status=status.HTTP_201_CREATED)
    bad = len({e["row"] for e in errors})
    summary = f"{bad} row{'s are' if bad != 1 else ' is'} invalid; nothing was written."
    return Response({"detail": summary, **body}, status=status.HTTP_400_BAD_REQUEST)


def csv_rows(data: bytes, *, fields: tuple[str, ...], required: list[str]) -> list[dict[str, str]]:
    """The rows of a UTF-8 CSV with a header naming ``fields`` (``required`` among them); a file that cannot be
    read is a 400 naming ``file``, more than ``MAX_ROWS`` rows a 400 naming ``rows``."""

    def refuse(message: str) -> exceptions.ValidationError:
        return exceptions.ValidationError({"file": message})

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise refuse(f"The CSV is not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start}.") from error
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise refuse(f"The CSV holds a NUL character, on line {line}.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        lines = [line for line in reader if any(cell.strip() for cell in line)]
    except csv.Error as error:
        raise refuse(f"The CSV cannot be read at line {reader.line_num}: {error}.") from error
    if not lines:
        raise refuse("The CSV is empty: the first line must be a header naming the columns.")
    header = [cell.strip() for cell in lines[0]]
    unknown = [name for name in header if name not in fields]
    if unknown:
        raise refuse(
            f"Unknown column(s) {', '.join(repr(n) for n in unknown)}: the first line must be a header "
            f"naming columns among {', '.join(fields)}."
        )
    if len(set(header)) != len(header):
        raise refuse("A column is named twice in the header.")
    if missing := [name for name in required if name not in header]:
        raise refuse(f"Missing column(s): {', '.join(missing)}.")
    if len(lines) - 1 > MAX_ROWS:
        raise exceptions.ValidationError({"rows": f"At most {MAX_ROWS:,} rows may be imported at once."})
    rows = []
    for number, line in enumerate(lines[1:], start=1):
        if len(line) != len(header):
            raise refuse(f"Row {number} has {len(line)} cells; the header has {len(header)}.")
        rows.append(dict(zip(header, line, strict=True)))
    return rows


# --- Payroll from the employer -------------------------------------------------------------------------


class CanImportPayroll(permissions.BasePermission):
    """An employer's users (their own employees) and program staff."""

    message = "Only employers and program staff import payroll."

    def has_permission(self, request: Request, view: APIView) -> bool:
        tenancy = tenancy_of(request.user)
        return tenancy.staff or tenancy.employer is not None


_PAYROLL_ROW = {
    "type": "object",
    "required": list(PAYROLL_REQUIRED),
    "properties": {
        "worker": {"type": "integer", "description": "A worker employed in one of your job openings."},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date", "description": "At most 62 days after the start."},
        "currency": {"type": "string", "example": "USD"},
        "gross": {"type": "string", "example": "1840.00"},
        "net": {"type": "string", "example": "1512.40", "description": "The gross less the deductions, exactly."},
        "deductions": {
            "description": "Each deduction with its purpose: a tax, housing… or an ILO fee category (a finding). "
            "In CSV: `tax:248.60;housing:79.00`.",
            "oneOf": [
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["purpose", "amount"],
                        "properties": {
                            "purpose": {"type": "string", "enum": list(PAYROLL_PURPOSES)},
                            "amount": {"type": "string"},
                        },
                    },
                },
                {"type": "string"},
            ],
        },
        "reference": {"type": "string", "description": "The pay slip's number in your payroll system."},
    },
}
_PAYROLL_CSV = (
    "worker,period_start,period_end,currency,gross,deductions,net\n"
    "4812,2026-06-15,2026-06-28,USD,1840.00,tax:248.60;housing:79.00,1512.40\n"
)


class PayrollImportView(APIView):
    """Import pay slips of your employees: the pay period, gross, each deduction with its purpose, net.

    The same forms and modes as the import of workers: a UTF-8 CSV with a header (a ``text/csv`` body or a
    ``file`` part), or JSON (``{"rows": [...]}`` or a list); ``?mode=atomic`` (all or nothing, the default) or
    ``partial``. Each good row is a payroll record of the worker, supplied by you; a deduction whose purpose
    is a recruitment fee or related cost (an ILO category: ``recruitment_fee``, ``medical``, ``travel_lodging``…)
    is also reported as a fee finding. ``ids`` are the payroll records written.
    """

    permission_classes = [permissions.IsAuthenticated, CanImportPayroll]
    parser_classes = [ImportJSONParser, MultiPartParser, CSVParser]
    schema = ApiSchema()

    @extend_schema(
        operation_id="payroll_import",
        tags=["payroll"],
        summary="Import payroll from CSV or JSON",
        parameters=[MODE_PARAMETER],
        request=import_request_schema(_PAYROLL_ROW),
        responses={
            201: OpenApiResponse(_RESULT, description="Rows written; in partial mode, `errors` lists rows refused."),
            400: OpenApiResponse(_FAILURE, description="Nothing written: bad rows, a bad file, mode or row count."),
            403: error_response(
                "Neither staff nor an employer.",
                error_example("A recruiter", "Only employers and program staff import payroll."),
            ),
        },
        examples=[
            OpenApiExample(
                "JSON rows",
                request_only=True,
                media_type="application/json",
                value={
                    "rows": [
                        {
                            "worker": 4812,
                            "period_start": "2026-06-15",
                            "period_end": "2026-06-28",
                            "currency": "USD",
                            "gross": "1840.00",
                            "deductions": [
                                {"purpose": "tax", "amount": "248.60"},
                                {"purpose": "housing", "amount": "79.00"},
                            ],
                            "net": "1512.40",
                        }
                    ]
                },
            ),
            OpenApiExample("CSV", request_only=True, media_type="text/csv", value=_PAYROLL_CSV),
            OpenApiExample(
                "Imported",
                response_only=True,
                status_codes=["201"],
                value={"created": 1, "ids": [9412], "errors": []},
            ),
            OpenApiExample(
                "Atomic import refused",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": "1 row is invalid; nothing was written.",
                    "created": 0,
                    "ids": [],
                    "errors": [
                        {
                            "row": 2,
                            "field": "rows[2].net",
                            "message": "The net pay is not the gross pay less the deductions.",
                        }
                    ],
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        mode = _mode(request)
        rows = import_rows(request, fields=PAYROLL_FIELDS, required=list(PAYROLL_REQUIRED))
        return _import_answer(lambda: import_payroll(rows=rows, mode=mode, user=request.user))
