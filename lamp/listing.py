"""What the dashboard's lists share: sorting by a column (``?sort=col`` / ``?sort=-col``), and the list as
a streamed CSV file.

Each list names the columns it may be sorted by (a whitelist: anything else in ``sort`` is refused with a
message naming the parameter, never passed to the database) and the expressions each sorts on. The row's
id always follows, in the same direction, so an order is total and stable: pages never overlap or skip
rows, and a keyset cursor can compare ``(value, id)`` as one row value.

The CSV file is written while it is read from the database (a server-side cursor, ``.iterator()``), so a
list of 100,000 rows costs the memory of one chunk.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Expression, F, OrderBy
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

#: The query parameter of a list's order.
SORT_PARAMETER = "sort"


@dataclass(frozen=True)
class Column:
    """One column a list may be sorted by: its ``key`` in the URL and what it orders on, ascending."""

    key: str
    order: tuple[str | Expression, ...]
    #: Rows without a value (``NULL``) last, whichever way: for the offset-paged lists only (a keyset order
    #: compares row values, which a ``NULL`` would break).
    nulls_last: bool = False


@dataclass(frozen=True)
class Sort:
    """A list's order: a column, which way, and the expressions it sorts on (the id last)."""

    column: Column
    descending: bool

    @property
    def key(self) -> str:
        return self.column.key

    def __str__(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """What the rows are ordered by, the id included, before any direction: for a keyset comparison."""
        return (*(F(e) if isinstance(e, str) else e for e in self.column.order), F("pk"))

    def order_by(self) -> tuple[OrderBy, ...]:
        """The ``order_by`` arguments: every expression in the same direction, the id last."""
        nulls_last = True if self.column.nulls_last else None
        *columns, pk = self.expressions
        return (
            *(OrderBy(e, descending=self.descending, nulls_last=nulls_last) for e in columns),
            OrderBy(pk, descending=self.descending),
        )

    def reversed(self) -> Sort:
        return Sort(column=self.column, descending=not self.descending)


class SortRefused(ValueError):
    """A ``sort`` value that is not one of the list's columns: its message names the parameter."""


class Sorting:
    """The columns one list may be sorted by, and its default order (``"-claimed"``: newest claim first)."""

    def __init__(self, columns: Sequence[Column], *, default: str) -> None:
        self.columns = {column.key: column for column in columns}
        self.default = self.parse(default)

    def parse(self, value: str | None) -> Sort:
        """``"name"`` / ``"-name"`` as a ``Sort``; empty is the default; anything else ``SortRefused``."""
        value = (value or "").strip()
        if not value:
            return self.default
        descending = value.startswith("-")
        column = self.columns.get(value[1:] if descending else value)
        if column is None or len(value) > 40:
            keys = ", ".join(sorted(self.columns))
            raise SortRefused(
                _("Sort: “%(value)s” is not a column of this list (one of %(keys)s, or “-” before it for the reverse).")
                % {"value": value[:40], "keys": keys}
            )
        return Sort(column=column, descending=descending)

    def from_request(self, params: Any) -> tuple[Sort, str]:
        """The order a query string asks for, and the refusal's message ("" when it is fine): a refused
        order falls back to the default, so the page can still say what went wrong."""
        try:
            return self.parse(params.get(SORT_PARAMETER)), ""
        except SortRefused as refused:
            return self.default, str(refused)


# --- CSV ---------------------------------------------------------------------------------------------------

#: A cell a spreadsheet would read as a formula starts with one of these: such a text is written after a
#: quote mark, so a name like ``=HYPERLINK(…)`` stays a name.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: dates in ISO 8601, ``None`` empty, and text never read as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date | Decimal | int):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose ``write`` hands back what it was given: ``csv.writer`` then yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_response(*, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A streamed CSV download: ``header`` then every row, each written as it is read."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
