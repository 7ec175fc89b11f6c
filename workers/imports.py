"""Bulk import of workers: up to 10,000 rows, checked in full before anything is written.

``import_workers`` is the many-row twin of ``services.worker_register``: each row it writes gives the
same rows (a worker at stage ``registered``, season 1, and one ``registered`` journey event recorded by
the importing user), but the rows are validated in Python with a fixed number of queries and written
with COPY, never row by row: 10,000 rows in well under 5 s (``benchmarks/import_workers.py``).

Modes:

- ``atomic``: any bad row and nothing is written; every bad row is reported.
- ``partial``: the good rows are written; the bad rows are returned.

An error is ``{"row": n, "field": name or None, "message": text}``, ``n`` counting the data rows from 1
(a CSV header is not a row).
"""

from __future__ import annotations

import datetime
import io
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_countries import countries

from lamp.history import acting_as
from lamp.parsers import nul_message, nul_path
from lamp.tenancy import tenancy_of
from pilots.models import User
from pilots.stages import Stage
from recruitment.models import Recruiter, RecruiterAssignment
from workers.models import (
    DuplicateFlag,
    DuplicateReason,
    Gender,
    IdentityDocumentType,
    JourneyEvent,
    Worker,
    birth_date_hash,
    document_tail_hash_of,
    identity_document_hash,
)
from workers.value_rules import consent_given_check, phone_e164, plausible_birth_date

MAX_ROWS = 10_000
MODES = ("atomic", "partial")
CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")

REQUIRED_FIELDS = ("given_names", "family_names", "date_of_birth", "gender", "nationality", "pilot")
OPTIONAL_FIELDS = (
    "phone",
    "email",
    "identity_document_type",
    "identity_document_country",
    "identity_document_number",
    "language_levels",
    "consent_given_at",
)
#: Every field a row may carry. ``recruiter`` (a recruiter profile's id) is required from staff and
#: ignored from a recruiter, whose own profile is forced.
FIELDS = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS, "recruiter")

Mode = Literal["atomic", "partial"]

_MAX_LENGTHS = {
    name: Worker._meta.get_field(name).max_length
    for name in ("given_names", "family_names", "phone", "email", "identity_document_number")
}
_GENDERS = frozenset(Gender.values)
_DOCUMENT_TYPES = frozenset(IdentityDocumentType.values)
_COUNTRIES = frozenset(code for code, _name in countries)


@dataclass
class ImportResult:
    created_ids: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.created_ids)


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    name_key: tuple[str, str, str, str]


def import_workers(
    *, rows: Iterable[Mapping[str, Any]], mode: Mode, user: User, recruiter: Recruiter | None = None
) -> ImportResult:
    """Validate every row, then write the good ones in bulk (all of them or none in ``atomic`` mode).

    ``recruiter`` is the caller's own profile for a recruiter user (any ``recruiter`` column is then
    ignored); without it the caller must be program staff and every row names its recruiter.
    Raises ``ValidationError`` naming ``rows`` (none, or more than 10,000) or ``mode``.
    """
    check_mode(mode)
    if recruiter is None and not tenancy_of(user).staff:
        raise PermissionDenied("Only program staff may import workers for any recruiter.")
    rows = bounded_rows(rows)

    context = _Context.load(rows=rows, recruiter=recruiter)
    errors: list[dict[str, Any]] = []
    good: list[_Row] = []
    for number, raw in enumerate(rows, start=1):
        row_errors: list[dict[str, Any]] = []
        parsed = _parse(number=number, raw=raw, context=context, errors=row_errors)
        if parsed is not None and not row_errors:
            _check_duplicates(parsed, context=context, errors=row_errors)
        if row_errors:
            errors += row_errors
        else:
            good.append(parsed)

    if not good or (errors and mode == "atomic"):
        return ImportResult(errors=errors)
    return ImportResult(created_ids=_write(good=good, user=user), errors=errors)


class _Context:
    """What validation needs from the database, read once for the whole file (a fixed number of queries)."""

    def __init__(self) -> None:
        self.forced: Recruiter | None = None
        self.recruiters: set[int] = set()
        self.assigned: set[tuple[int, int]] = set()
        self.existing_hashes: dict[tuple[int, str], int] = {}
        self.existing_names: dict[tuple[int, tuple], int] = {}
        self.seen_hashes: dict[str, int] = {}
        self.seen_names: dict[tuple, int] = {}

    @classmethod
    def load(cls, *, rows: list[Mapping[str, Any]], recruiter: Recruiter | None) -> _Context:
        context = cls()
        context.forced = recruiter
        if recruiter is not None:
            recruiter_ids = {recruiter.pk}
        else:
            wanted = {positive_int(row.get("recruiter")) for row in rows if isinstance(row, Mapping)} - {None}
            recruiter_ids = set(Recruiter.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        context.recruiters = recruiter_ids
        context.assigned = set(
            RecruiterAssignment.objects.filter(recruiter_id__in=recruiter_ids).values_list("recruiter_id", "pilot_id")
        )
        # The recruiters' existing workers who might be one of the rows: by document hash, or born on a
        # date some row gives (names and nationality compared below). Cross-recruiter matches are not
        # an import error: as the single-create path does, they are flagged for staff review once the
        # rows are written (``_cross_recruiter_matches``), and the caller is not told.
        hashes, births = set(), set()
        for row in rows:
            if isinstance(row, Mapping):
                births.add(date_or_none(cell_text(row, "date_of_birth")))
                number = str(row.get("identity_document_number") or "").strip()
                country = str(row.get("identity_document_country") or row.get("nationality") or "").strip().upper()
                if number and country:
                    hashes.add(identity_document_hash(country=country, number=number))
        births.discard(None)
        if recruiter_ids and (hashes or births):
            # Arrays rather than ``__in`` lists: one parameter each, whatever the number of rows.
            sql = (
                "SELECT id, recruiter_id, identity_document_hash, given_names, family_names, date_of_birth_hash,"
                f" nationality FROM {Worker._meta.db_table} WHERE recruiter_id = ANY(%s)"
                " AND (identity_document_hash = ANY(%s) OR date_of_birth_hash = ANY(%s)) ORDER BY id"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [sorted(recruiter_ids), sorted(hashes), sorted(map(birth_date_hash, births))])
                existing = cursor.fetchall()
            for pk, recruiter_id, digest, given, family, born, nationality in existing:
                if digest:
                    context.existing_hashes.setdefault((recruiter_id, digest), pk)
                key = _name_key(given, family, born, str(nationality))
                context.existing_names.setdefault((recruiter_id, key), pk)
        return context


def check_mode(mode: str) -> None:
    """``ValidationError`` naming ``mode`` unless it is one of ``MODES``."""
    if mode not in MODES:
        raise ValidationError({"mode": f"'{mode}' is not a mode; use one of: {', '.join(MODES)}."})


def bounded_rows(rows: Iterable[Any]) -> list[Any]:
    """The rows to import, at least one and at most ``MAX_ROWS`` (``ValidationError`` naming ``rows``), never
    materialising more than the limit."""
    rows = list(itertools.islice(rows, MAX_ROWS + 1))
    if len(rows) > MAX_ROWS:
        raise ValidationError({"rows": f"At most {MAX_ROWS:,} rows may be imported at once."})
    if not rows:
        raise ValidationError({"rows": "There are no rows to import."})
    return rows


def date_or_none(text: str) -> datetime.date | None:
    try:
        return parse_date(text) if len(text) == 10 else None
    except ValueError:
        return None


def positive_int(value: Any) -> int | None:
    """An id: a positive integer, given as a number or as ASCII digits ('³' and '٣' are digits to ``isdigit``)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value < 2**63 else None


def _name_key(given: str, family: str, born: datetime.date | str, nationality: str) -> tuple[str, str, str, str]:
    """What the names + date of birth + nationality criterion compares: the date by its keyed hash (a row's
    date is hashed; a stored worker's hash is read as it is: the date itself is encrypted)."""
    birth = born if isinstance(born, str) else birth_date_hash(born)
    return (" ".join(given.split()).casefold(), " ".join(family.split()).casefold(), birth, nationality.upper())


def nul_fields(raw: Mapping[Any, Any]) -> list[str]:
    """The fields of a row whose name or value holds a NUL character, which PostgreSQL cannot store: the row is
    refused, the others go on."""
    return [str(name) for name, value in raw.items() if "\x00" in str(name) or nul_path(value) is not None]


def cell_text(raw: Mapping[str, Any], name: str) -> str:
    """A cell as stripped text: a missing key, ``None`` and an empty string are all ``""``."""
    value = raw.get(name)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def _parse(*, number: int, raw: Any, context: _Context, errors: list[dict[str, Any]]) -> _Row | None:
    def error(name: str | None, message: str) -> None:
        errors.append({"row": number, "field": name, "message": message})

    if not isinstance(raw, Mapping):
        error(None, "A row must be an object of field names and values.")
        return None
    if nul := nul_fields(raw):
        for name in nul:
            error(name, nul_message())
        return None
    for name in sorted(set(raw) - set(FIELDS), key=str):
        error(str(name), f"Unknown field; the fields are: {', '.join(FIELDS)}.")
    for name in REQUIRED_FIELDS:
        if not cell_text(raw, name):
            error(name, "This field is required.")

    values: dict[str, Any] = {
        name: cell_text(raw, name) for name in ("given_names", "family_names", "gender", "phone", "email")
    }
    values["nationality"] = cell_text(raw, "nationality").upper()
    # E.164, a number without "+" read as one of the nationality's; NULL for "none", as encrypted fields keep it.
    values["phone"] = _checked(error, "phone", phone_e164, values["phone"], region=values["nationality"])

    born = None
    if text := cell_text(raw, "date_of_birth"):
        born = date_or_none(text)
        if born is None:
            error("date_of_birth", f"'{text}' is not a date in the form YYYY-MM-DD.")
        else:
            born = _checked(error, "date_of_birth", plausible_birth_date, born, timezone.localdate())
    values["date_of_birth"] = born

    recruiter_id = context.forced.pk if context.forced is not None else positive_int(raw.get("recruiter"))
    if context.forced is None:
        if not cell_text(raw, "recruiter"):
            error("recruiter", "This field is required.")
        elif recruiter_id is None or recruiter_id not in context.recruiters:
            error("recruiter", f"No recruiter with id '{cell_text(raw, 'recruiter')}'.")
            recruiter_id = None
    pilot_id = positive_int(raw.get("pilot"))
    if cell_text(raw, "pilot"):
        if pilot_id is None:
            error("pilot", f"'{cell_text(raw, 'pilot')}' is not a pilot id.")
        elif recruiter_id is not None and (recruiter_id, pilot_id) not in context.assigned:
            # The same message whether the pilot exists or not: a recruiter learns nothing of other pilots.
            error("pilot", f"The recruiter is not assigned to a pilot with id {pilot_id}.")

    values["language_levels"] = _language_levels(raw.get("language_levels"), error)
    values["consent_given_at"] = _consent(cell_text(raw, "consent_given_at"), error)

    values.update(
        recruiter_id=recruiter_id,
        pilot_id=pilot_id,
        identity_document_type=cell_text(raw, "identity_document_type") or IdentityDocumentType.PASSPORT,
        identity_document_country=cell_text(raw, "identity_document_country").upper(),
        identity_document_number=cell_text(raw, "identity_document_number") or None,
        identity_document_hash="",
    )
    if values["identity_document_number"]:
        # As ``worker_register`` and ``Worker.set_identity_document`` do: the document country defaults
        # to the nationality, and the hash is taken of the stripped number with that country.
        values["identity_document_country"] = values["identity_document_country"] or values["nationality"]
        values["identity_document_hash"] = identity_document_hash(
            country=values["identity_document_country"], number=values["identity_document_number"]
        )

    _check_fields(values, error=error, skip={e["field"] for e in errors})
    if errors:
        return None
    return _Row(
        number=number,
        values=values,
        name_key=_name_key(values["given_names"], values["family_names"], born, values["nationality"]),
    )


def _check_fields(values: dict[str, Any], *, error: Any, skip: set[str | None]) -> None:
    """The model's own field checks (lengths, choices, countries, email), as ``full_clean`` makes them.

    Not ``clean_fields`` itself: it queries for every foreign key and rebuilds the 250 country choices
    for every country field of every row, which costs seconds on 10,000 rows.
    """
    for name, limit in _MAX_LENGTHS.items():
        value = values[name] or ""
        if name not in skip and len(value) > limit:
            error(name, f"Ensure this value has at most {limit} characters (it has {len(value)}).")
    for name, allowed in (
        ("gender", _GENDERS),
        ("identity_document_type", _DOCUMENT_TYPES),
        ("nationality", _COUNTRIES),
        ("identity_document_country", _COUNTRIES),
    ):
        if name not in skip and values[name] and values[name] not in allowed:
            error(name, f"Value '{values[name]}' is not a valid choice.")
    email = values["email"]
    if "email" not in skip and email and len(email) <= _MAX_LENGTHS["email"]:
        try:
            validate_email(email)
        except ValidationError:
            error("email", f"'{email}' is not a valid email address.")


def _language_levels(value: Any, error: Any) -> dict[str, str]:
    """CEFR levels by ISO 639-1 code: an object, or in a CSV cell JSON or ``en:B1;de:A2``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    levels = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                levels = json.loads(text)
            except json.JSONDecodeError:
                error("language_levels", "Not valid JSON.")
                return {}
        else:
            levels = {}
            for part in text.replace(",", ";").split(";"):
                code, _, level = part.partition(":")
                if not part.strip() or not level:
                    error("language_levels", f"'{text}' is not in the form en:B1;de:A2.")
                    return {}
                levels[code.strip()] = level.strip()
    if not isinstance(levels, dict):
        error("language_levels", 'Expected CEFR levels by language, e.g. {"en": "B1"} or en:B1;de:A2.')
        return {}
    clean = {}
    for code, level in levels.items():
        if not (isinstance(code, str) and len(code) == 2 and code.isalpha()):
            error("language_levels", f"'{code}' is not an ISO 639-1 language code.")
        elif not (isinstance(level, str) and level.strip().upper() in CEFR_LEVELS):
            error("language_levels", f"'{level}' is not a CEFR level ({', '.join(CEFR_LEVELS)}).")
        else:
            clean[code.lower()] = level.strip().upper()
    return clean


def _checked(error: Any, name: str, check: Any, *args: Any, **kwargs: Any) -> Any:
    """``check(*args, **kwargs)``, a rule of ``workers.value_rules``; its refusal an error naming ``name``, and None."""
    try:
        return check(*args, **kwargs)
    except ValidationError as refused:
        error(name, refused.messages[0])
        return None


def _consent(text: str, error: Any) -> datetime.datetime | None:
    """An ISO 8601 instant (a naive one is taken in the site's time zone) or a date (its midnight); required,
    and not in the future (``workers.value_rules.consent_given_check``)."""
    if not text:
        return _checked(error, "consent_given_at", consent_given_check, None, timezone.now())
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = datetime.datetime.combine(day, datetime.time())
    except ValueError:
        moment = None
    if moment is None:
        error("consent_given_at", f"'{text}' is not a date and time in ISO 8601 (e.g. 2026-03-01T09:30:00Z).")
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return _checked(error, "consent_given_at", consent_given_check, moment, timezone.now())


def _check_duplicates(row: _Row, *, context: _Context, errors: list[dict[str, Any]]) -> None:
    """The same person twice in the file (the later row is refused) or already among the recruiter's workers."""
    recruiter_id, digest = row.values["recruiter_id"], row.values["identity_document_hash"]

    def error(name: str, message: str) -> None:
        errors.append({"row": row.number, "field": name, "message": message})

    if digest and (existing := context.existing_hashes.get((recruiter_id, digest))):
        error("identity_document_number", f"Already registered: worker {existing} has this identity document.")
    elif existing := context.existing_names.get((recruiter_id, row.name_key)):
        error("given_names", f"Already registered: worker {existing} has these names, date of birth and nationality.")
    if digest and (first := context.seen_hashes.get(digest)):
        error("identity_document_number", f"Row {first} has the same identity document.")
    elif first := context.seen_names.get(row.name_key):
        error("given_names", f"Row {first} has the same names, date of birth and nationality.")
    if digest:
        context.seen_hashes.setdefault(digest, row.number)
    context.seen_names.setdefault(row.name_key, row.number)


#: What COPY writes: every concrete field of each model (``tests/workers/test_imports.py`` checks that a
#: field added to a model is added here), the journey event's id left to its identity column.
WORKER_FIELDS = (
    "id", "given_names", "family_names", "date_of_birth", "birth_year", "date_of_birth_hash", "gender", "nationality",
    "phone", "phone_masked", "email",
    "identity_document_type", "identity_document_country", "identity_document_number", "identity_document_hash",
    "identity_document_masked", "identity_document_tail_hash", "language_levels", "consent_given_at", "recruiter",
    "pilot", "current_stage", "season", "stage_changed_on", "created_at", "updated_at", "consent_withdrawn_at",
    "erased_at",
)  # fmt: skip
EVENT_FIELDS = (
    "worker", "pilot", "season", "stage", "occurred_on", "recorded_at", "recorded_by", "evidence", "note",
    "is_override", "override_reason",
)  # fmt: skip


def _write(*, good: list[_Row], user: User) -> list[int]:
    """COPY the workers and their ``registered`` events into their tables, in one transaction.

    COPY rather than ``bulk_create``: the ORM prepares 23 values per worker through each field in
    Python, which took most of the 5 s budget for 10,000 rows on its own. The values here were checked
    above; the encrypted fields are encrypted by their own field (``get_prep_value``), so they read back
    as any other row does. Ids are drawn from the table's sequence first, so the events can name them.
    """
    phone, document, born = (
        Worker._meta.get_field(name) for name in ("phone", "identity_document_number", "date_of_birth")
    )
    phone_masked, document_masked = (
        Worker._meta.get_field(name) for name in ("phone_masked", "identity_document_masked")
    )
    today, now = timezone.localdate().isoformat(), timezone.now().isoformat()
    worker_columns = ", ".join(Worker._meta.get_field(name).column for name in WORKER_FIELDS)
    event_columns = ", ".join(JourneyEvent._meta.get_field(name).column for name in EVENT_FIELDS)
    with transaction.atomic(), acting_as(user), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Worker._meta.db_table, len(good)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        workers, events = io.StringIO(), io.StringIO()
        # Every worker ends the same way: registered, season 1, today; every event likewise, by ``user``.
        worker_tail = f"\t{Stage.REGISTERED.value}\t1\t{today}\t{now}\t{now}\t\\N\t\\N\n"
        event_tail = f"\t1\t{Stage.REGISTERED.value}\t{today}\t{now}\t{user.pk}\t\\N\t\tf\t\n"
        for pk, row in zip(ids, good, strict=True):
            v = row.values
            cells = (
                pk, v["given_names"], v["family_names"], born.get_prep_value(v["date_of_birth"]),
                v["date_of_birth"].year, birth_date_hash(v["date_of_birth"]), v["gender"], v["nationality"],
                phone.get_prep_value(v["phone"]), phone_masked.masked(v["phone"]), v["email"],
                v["identity_document_type"], v["identity_document_country"],
                document.get_prep_value(v["identity_document_number"]), v["identity_document_hash"],
                document_masked.masked(v["identity_document_number"]),
                document_tail_hash_of(v["identity_document_number"]), v["language_levels"], v["consent_given_at"],
                v["recruiter_id"], v["pilot_id"],
            )  # fmt: skip
            workers.write("\t".join(map(_copy_value, cells)) + worker_tail)
            events.write(f"{pk}\t{v['pilot_id']}{event_tail}")
        matches = _cross_recruiter_matches(good=good, cursor=cursor)
        for table, columns, data in (
            (Worker._meta.db_table, worker_columns, workers),
            (JourneyEvent._meta.db_table, event_columns, events),
        ):
            data.seek(0)
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT text)", data)
        worker_of_row = {row.number: pk for pk, row in zip(ids, good, strict=True)}
        DuplicateFlag.objects.bulk_create(
            DuplicateFlag(worker_id=worker_of_row[number], matches_id=match, reason=reason)
            for number, match, reason in matches
        )
    return ids


def _cross_recruiter_matches(*, good: list[_Row], cursor: Any) -> list[tuple[int, int, str]]:
    """``(row number, worker id, DuplicateReason)`` for each other recruiter's worker a row may be, by the
    criteria of ``services.worker_matches`` (the same document hash; or the same names ignoring case, date of
    birth and nationality), one per worker and by document first: the flags single registration records.
    Two queries whatever the number of rows (the rows as arrays, joined on the hashes)."""
    table = Worker._meta.db_table
    numbers = [row.number for row in good]
    recruiters = [row.values["recruiter_id"] for row in good]
    cursor.execute(
        "SELECT t.n, w.id FROM unnest(%s::int[], %s::bigint[], %s::text[]) AS t(n, recruiter, digest)"
        f" JOIN {table} w ON w.identity_document_hash = t.digest"
        " WHERE t.digest <> '' AND w.recruiter_id <> t.recruiter",
        [numbers, recruiters, [row.values["identity_document_hash"] for row in good]],
    )
    found = dict.fromkeys(cursor.fetchall(), DuplicateReason.IDENTITY_DOCUMENT)
    cursor.execute(
        "SELECT t.n, w.id FROM unnest(%s::int[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])"
        " AS t(n, recruiter, birth, nationality, given, family)"
        f" JOIN {table} w ON w.date_of_birth_hash = t.birth AND w.nationality = t.nationality"
        " AND upper(w.given_names) = upper(t.given) AND upper(w.family_names) = upper(t.family)"
        " WHERE w.recruiter_id <> t.recruiter",
        [
            numbers,
            recruiters,
            [birth_date_hash(row.values["date_of_birth"]) for row in good],
            [row.values["nationality"] for row in good],
            [row.values["given_names"] for row in good],
            [row.values["family_names"] for row in good],
        ],
    )
    for pair in cursor.fetchall():
        found.setdefault(pair, DuplicateReason.NAME_AND_BIRTH)
    return sorted((number, match, reason) for (number, match), reason in found.items())


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    """One value in COPY's text format: ``\\N`` for NULL, backslash escapes for the separators."""
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.date):  # and datetimes, aware: isoformat keeps the offset
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)  # language levels
