"""What the API accepts as a request body before any view reads it, whatever the endpoint.

- **Size**: no more bytes than the endpoint accepts (``body_limit``: ``REQUEST_BODY_MAX_BYTES``, or the larger
  limit ``REQUEST_BODY_MAX_BYTES_BY_URL`` names for the imports, the simulator and evidence uploads), counted
  from ``Content-Length`` (``lamp.middleware``) and again as the body is read: a 413.
- **Depth**: JSON nested deeper than ``MAX_JSON_DEPTH`` is a 400 naming the top-level key it was in (or
  ``body``), found by a scan of the brackets before the JSON is decoded, so that Python's recursion never fails.
- **NUL**: a NUL character in any string or key of a JSON body, form field or file name is a 400 naming the
  field (PostgreSQL stores no NUL in text). The imports take theirs with ``ImportJSONParser`` and refuse such a
  row alone.

``json_limits_error`` bounds a JSON value kept in a ``JSONField`` (evidence ``facts``): its depth and size.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers
from rest_framework.request import Request
from rest_framework.utils.json import strict_constant

#: The deepest JSON a request body may hold: ``{"rows": [{"deductions": [{…}]}]}`` is 4.
MAX_JSON_DEPTH = 32
#: What the field of an error about the body as a whole is called.
BODY = "body"

_STRING = re.compile(rb'"[^"]*"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = {ord("["): 1, ord("]"): -1}
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:,]', re.DOTALL)


class RequestBodyTooLarge(exceptions.APIException):
    """A 413: the body is larger than the endpoint accepts; ``max_bytes`` says how large it may be."""

    status_code = 413
    default_code = "request_too_large"
    field = BODY

    def __init__(self, limit: int) -> None:
        self.max_bytes = limit
        super().__init__(too_large_message(limit))


def too_large_message(limit: int) -> str:
    return _("The request body is larger than this endpoint accepts: at most %(limit)s.") % {
        "limit": filesizeformat(limit)
    }


def too_deep_message(limit: int = MAX_JSON_DEPTH) -> str:
    return _("JSON nested deeper than %(limit)d levels is not accepted.") % {"limit": limit}


def nul_message() -> str:
    return _("Null characters are not allowed.")


def body_limit(request: HttpRequest | Request) -> int:
    """The most bytes the body of ``request`` may hold: its endpoint's limit (by URL name), else the default."""
    match = getattr(request, "resolver_match", None)
    by_url: dict[str, int] = getattr(settings, "REQUEST_BODY_MAX_BYTES_BY_URL", {})
    default: int = getattr(settings, "REQUEST_BODY_MAX_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**20)
    return by_url.get(match.view_name, default) if match is not None else default


# --- Depth ---------------------------------------------------------------------------------------------------


def json_depth_exceeds(text: str | bytes, limit: int) -> bool:
    """Whether the brackets of JSON ``text`` nest deeper than ``limit``, strings aside (``[]`` is 1,
    ``{"a": [1]}`` 2).

    Each step runs in C over bytes: escapes and then strings are taken away, then everything but brackets
    (objects counted as lists), then empty pairs ``limit`` times over: nothing is left of a body no deeper
    than the limit. Else (deeper, or brackets that do not pair) the running depth is summed
    (``itertools.accumulate``). A flat body of megabytes costs milliseconds; Python's recursion is not used.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    # In UTF-8 no byte of a multi-byte character is a quote or a backslash: escapes pair left to right.
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", data).translate(_BRACKETS, _NOT_A_BRACKET)
    left = brackets
    for _level in range(limit):
        if not left:
            return False
        left = left.replace(b"[]", b"")
    if not left:
        return False
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def too_deep_field(text: str, limit: int = MAX_JSON_DEPTH) -> str | None:
    """``None`` when the JSON ``text`` nests at most ``limit`` deep; else where it nests deeper: the top-level
    key it is in (``rows``), or ``body`` when the top level is not an object."""
    if not json_depth_exceeds(text, limit):
        return None
    depth, key, last_string = 0, None, None
    in_object = text.lstrip().startswith("{")
    for token in _TOKEN.finditer(text):
        value = token.group()
        if value in "[{":
            depth += 1
            if depth > limit:
                return key if key is not None else BODY
        elif value in "]}":
            depth -= 1
            if depth <= 1:
                key = None
        elif value == ":":
            if depth == 1 and in_object and last_string is not None:
                key = last_string
        elif value.startswith('"'):
            last_string = _string_value(value) if depth == 1 else None
            continue
        last_string = None
    return BODY


def _string_value(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token[1:-1]


def loads(text: str, *, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` with NaN and Infinity refused, as DRF does, and never deeper than ``limit``: ``ValueError``
    (``JsonTooDeep``) rather than a ``RecursionError``."""
    if too_deep_field(text, limit) is not None:
        raise JsonTooDeep(too_deep_message(limit))
    return json.loads(text, parse_constant=strict_constant)


class JsonTooDeep(ValueError):
    """JSON nested deeper than the limit."""


def json_limits_error(value: Any, *, max_depth: int, max_bytes: int) -> str | None:
    """Why a JSON value (already decoded) may not be kept, or ``None``: deeper than ``max_depth`` levels (an
    object or a list is a level), more than ``max_bytes`` once serialized, or a NUL character anywhere."""
    depth = 0
    level: list[Any] = [value]
    while level:  # breadth first: no recursion, however deep the value
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            break
        depth += 1
        if depth > max_depth:
            return too_deep_message(max_depth)
        level = [child for item in containers for child in (item.values() if isinstance(item, dict) else item)]
    try:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError) as error:
        return str(error)
    if size > max_bytes:
        return _("At most %(limit)s of data once serialized; this is %(size)s.") % {
            "limit": filesizeformat(max_bytes),
            "size": filesizeformat(size),
        }
    if nul_path(value) is not None:
        return nul_message()
    return None


# --- NUL -----------------------------------------------------------------------------------------------------


def nul_path(value: Any, prefix: str = "") -> str | None:
    """The path of the first string or key holding a NUL character in a decoded JSON value (``rows[3].note``,
    ``""`` for the value itself), or ``None``. Iterative: a value of any depth is walked."""
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    return child_path
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(item))))
    return None


def _refuse_nul(path: str | None) -> None:
    if path is not None:
        raise exceptions.ValidationError({path or BODY: [nul_message()]})


def form_nul_key(data: QueryDict, *, values: bool = True) -> str | None:
    """The first field of ``data`` whose name (or, with ``values``, a value) holds a NUL character."""
    for key, items in data.lists():
        if "\x00" in key or (values and any(isinstance(item, str) and "\x00" in item for item in items)):
            return key
    return None


# --- Parsers -------------------------------------------------------------------------------------------------


def _read_bounded(stream: IO[bytes] | None, limit: int) -> bytes:
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise RequestBodyTooLarge(limit)
    return data


def _limit(parser_context: dict[str, Any] | None) -> int:
    request = (parser_context or {}).get("request")
    return body_limit(request) if request is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded: size, depth and NUL (see the module's docstring)."""

    #: Whether a NUL character may pass, for the caller to refuse where it is (an import's row).
    allow_nul = False

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        data = _read_bounded(stream, _limit(parser_context))
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise exceptions.ParseError(f"JSON parse error - the body is not {encoding}: {error}.") from error
        if (field := too_deep_field(text)) is not None:
            raise exceptions.ValidationError({field: [too_deep_message()]})
        try:
            value = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        if not self.allow_nul:
            _refuse_nul(nul_path(value))
        return value


class ImportJSONParser(JSONParser):
    """For the bulk imports: a NUL character refuses its row only (``workers.imports``), not the whole body."""

    allow_nul = True


class FormParser(parsers.FormParser):
    """DRF's form parser, bounded in size, with no NUL character in a field's name or value."""

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: dict | None = None
    ) -> QueryDict:
        data = _read_bounded(stream, _limit(parser_context))
        encoding = parsers.get_encoding(parser_context or {})
        try:
            form = QueryDict(data, encoding=encoding)
        except TooManyFieldsSent as error:
            raise too_many_fields() from error
        _refuse_nul(form_nul_key(form))
        return form


class _BoundedStream:
    """A request's stream that refuses to yield more than ``limit`` bytes (a 413)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.limit, self.read_so_far = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size) if size is not None and size >= 0 else self.stream.read()
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise RequestBodyTooLarge(self.limit)
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(64 * 1024):
            yield chunk


class _NulNames(DjangoMultiPartParser):
    """Django's multipart parser, which drops unprintable characters from file names; this one notes the file
    names that held a NUL, so that the upload is refused rather than kept under another name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nul_names: set[str] = set()

    def sanitize_file_name(self, file_name: str) -> str | None:
        clean = super().sanitize_file_name(file_name)
        if clean is not None and "\x00" in html.unescape(file_name):
            self.nul_names.add(clean)
        return clean

    IE_sanitize = sanitize_file_name


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, bounded in size, with no NUL character in a field's name or value, nor in the
    name of a file."""

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        parser = _NulNames(
            meta,
            _BoundedStream(stream, _limit(parser_context)),
            request.upload_handlers,
            parsers.get_encoding(parser_context),
        )
        try:
            data, files = parser.parse()
        except MultiPartParserError as error:
            raise exceptions.ParseError(f"Multipart form parse error - {error}") from error
        except RequestDataTooBig as error:
            raise RequestBodyTooLarge(_limit(parser_context)) from error
        except (TooManyFieldsSent, TooManyFilesSent) as error:
            raise too_many_fields() from error
        _refuse_nul(form_nul_key(data))
        for key, uploads in files.lists():
            if any(upload.name in parser.nul_names for upload in uploads):
                raise exceptions.ValidationError({key: [_("The file's name holds a null character.")]})
        return parsers.DataAndFiles(data, files)


def too_many_fields() -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {
            BODY: [
                _("The form holds more than %(fields)d fields or %(files)d files.")
                % {"fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS, "files": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
            ]
        }
    )


def body_refusal(exc: Exception, request: HttpRequest | Request | None) -> Exception:
    """Django's refusal of a body (``RequestDataTooBig``, ``TooManyFieldsSent``, ``TooManyFilesSent``) as the
    API's own (a 413, a 400 naming ``body``); any other exception as it is."""
    if isinstance(exc, RequestDataTooBig):
        return RequestBodyTooLarge(body_limit(request) if request is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return too_many_fields()
    return exc
