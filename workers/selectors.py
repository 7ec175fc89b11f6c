"""Reads about workers for the staff dashboard: the filtered list, a page of it, and one worker in full.

Every read starts from ``Worker.objects.visible_to(user)``, the tenancy the API uses, and costs a fixed
number of queries whatever the number of workers, events or evidence. A worker's page adds the claims
made for them in the layer above, which reads both apps.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    DateField,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django_countries import countries

from lamp.listing import Column, Sort, Sorting
from lamp.masking import MASK
from pilots.stages import Stage
from workers.consent import latest_consent_annotations
from workers.models import (
    DOCUMENT_SHOWN,
    DOCUMENT_TAIL,
    STAGE_ORDER,
    DuplicateFlag,
    Employment,
    Evidence,
    FeeReport,
    Gender,
    JourneyEvent,
    TrainingEnrollment,
    Worker,
    identity_document_hash,
    identity_document_tail_hash,
)

#: Workers on one page of the list.
PAGE_SIZE = 50
#: The list counts its matches up to this many and then says "more than": a bounded count never reads
#: more than this many rows past the filters, so it stays cheap on 100,000 workers (an exact COUNT(*)
#: of a large result would read them all on every page load).
COUNT_LIMIT = 1000

# "GT:P12345678": a document number with the country that issued it (the admin's search accepts the same).
_COUNTRY_PREFIXED_NUMBER = re.compile(r"^\s*([A-Za-z]{2})\s*:\s*(\S.*)$")


def identity_document_hashes(term: str) -> list[str]:
    """The keyed hashes (``identity_document_hash``) a search term could be the document number of.

    The issuing country is part of the hash's key. ``GT:P12345678`` names it: one hash. A bare number
    is hashed with every ISO 3166 country (and with none, for rows saved without one): about 250 HMACs,
    well under a millisecond and no query, then one indexed ``IN`` lookup. Nothing is ever decrypted.
    """
    term = term.strip()
    if not term:
        return []
    prefixed = _COUNTRY_PREFIXED_NUMBER.match(term)
    if prefixed:
        country, number = prefixed.groups()
        return [identity_document_hash(country=country, number=number)]
    return [identity_document_hash(country=code, number=term) for code in ("", *countries.countries)]


def identity_document_tail(term: str) -> str:
    """The last characters of a document number a search term is, as the lists show them (``181U``, or
    ``•••••181U`` copied from a list); "" when the term is not that (too long, too short, or a name)."""
    tail = re.sub(r"[\s\-.]", "", term.replace(MASK, "").replace("*", ""))
    if len(tail) != DOCUMENT_TAIL or not tail.isalnum() or not any(c.isdigit() for c in tail):
        return ""
    return tail


@dataclass(frozen=True)
class WorkerFilters:
    """What the worker list is narrowed to; empty values filter nothing."""

    pilot: int | None = None
    recruiter: int | None = None
    stage: str = ""
    nationality: str = ""
    gender: str = ""
    fee_reported: bool | None = None
    q: str = ""

    @property
    def any(self) -> bool:
        return any(value not in (None, "") for value in vars(self).values())

    @property
    def matches_names(self) -> bool:
        """Whether ``q`` is matched against names: a term without digits. Names have no digits, so a
        term with one is only a document number, found through its index without reading every name."""
        term = self.q.strip()
        return bool(term) and not any(character.isdigit() for character in term)


#: A cursor's sort values, each typed: ``["s", "López"]``, ``["i", 2]``, ``["d", "2026-01-15"]``.
_CURSOR_TYPES: dict[str, Any] = {"s": str, "i": int, "d": datetime.date.fromisoformat}


def _typed(value: Any) -> list[Any]:
    if isinstance(value, bool) or value is None:
        raise ValueError(value)  # the sort expressions are never NULL nor boolean
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, datetime.date):
        return ["d", value.isoformat()]
    return ["s", str(value)]


@dataclass(frozen=True)
class Cursor:
    """Where a page of the list starts: just past worker ``after`` going ``older`` (further down the list),
    or just before worker ``after`` going back up. ``key`` holds that worker's values of the list's sort
    columns (none for the default order, by id). Written in a URL as ``o123`` / ``n123``, or with the key
    after a dot (``o123.WyJzIiwiTMOzcGV6Il0``: the values as JSON, base64url)."""

    after: int
    older: bool = True
    key: tuple[Any, ...] = ()

    def __str__(self) -> str:
        text = f"{'o' if self.older else 'n'}{self.after}"
        if self.key:
            encoded = json.dumps([_typed(v) for v in self.key], ensure_ascii=False, separators=(",", ":"))
            text += "." + base64.urlsafe_b64encode(encoded.encode()).decode().rstrip("=")
        return text

    @classmethod
    def parse(cls, value: str) -> Cursor:
        """``"o123"`` -> ``Cursor(123, older=True)``; a ``ValueError`` for anything else."""
        match = re.fullmatch(r"([on])(\d{1,18})(?:\.([A-Za-z0-9_-]{1,800}))?", value.strip())
        if match is None:
            raise ValueError(value)
        key: tuple[Any, ...] = ()
        if match.group(3):
            try:
                raw = base64.urlsafe_b64decode(match.group(3) + "=" * (-len(match.group(3)) % 4))
                items = json.loads(raw.decode())
                key = tuple(_CURSOR_TYPES[kind](item) for kind, item in items)
            except (ValueError, TypeError, KeyError, UnicodeDecodeError) as damaged:
                raise ValueError(value) from damaged
            if any("\x00" in v for v in key if isinstance(v, str)):
                raise ValueError(value)
        return cls(after=int(match.group(2)), older=match.group(1) == "o", key=key)


@dataclass(frozen=True)
class WorkerPage:
    """One page of the worker list, newest first, with the cursors of its neighbours."""

    workers: list[Worker]
    older: Cursor | None
    newer: Cursor | None
    #: How many workers match the filters, counted up to ``COUNT_LIMIT`` (see ``matches_more``); ``None``
    #: when a search by name runs over more than one page (counting it would read every worker's names).
    matches: int | None
    #: True when more than ``COUNT_LIMIT`` match (``matches`` is then ``COUNT_LIMIT``).
    matches_more: bool


def _fee_reported() -> Exists:
    """Whether the worker reported any fee above zero (the pilots are zero-fee: any is a finding)."""
    return Exists(FeeReport.objects.filter(worker=OuterRef("pk"), amount__gt=0))


def worker_filter(*, queryset: QuerySet[Worker], filters: WorkerFilters) -> QuerySet[Worker]:
    """``queryset`` narrowed by ``filters``. ``q`` is an exact identity document number, found through
    its keyed hash; a term without digits may also be a name, each word matching given or family names.
    A search runs its document lookup at once (one query); the rest stays lazy."""
    conditions: dict[str, Any] = {}
    if filters.pilot is not None:
        conditions["pilot_id"] = filters.pilot
    if filters.recruiter is not None:
        conditions["recruiter_id"] = filters.recruiter
    if filters.stage:
        conditions["current_stage"] = filters.stage
    if filters.nationality:
        conditions["nationality"] = filters.nationality.upper()
    if filters.gender:
        conditions["gender"] = filters.gender
    queryset = queryset.filter(**conditions)
    if filters.fee_reported is not None:
        queryset = queryset.filter(_fee_reported() if filters.fee_reported else ~_fee_reported())
    term = filters.q.strip()
    if term:
        # One indexed lookup of the ~250 candidate hashes, run here: the few ids it finds make a cheap
        # filter. Left inside the page's query, PostgreSQL would rather walk the id index backwards and
        # compare every row against the 250 hashes (80 ms on 100,000 workers instead of 1). A term that
        # is the last characters a list shows (``181U``) is looked up by their hash in the same query.
        by_hash = Q(identity_document_hash__in=identity_document_hashes(term))
        tail = identity_document_tail(term)
        if tail:
            by_hash |= Q(identity_document_tail_hash=identity_document_tail_hash(tail))
        document_ids = list(Worker.objects.filter(by_hash).order_by().values_list("pk", flat=True)[: COUNT_LIMIT + 1])
        by_document = Q(pk__in=document_ids)
        if filters.matches_names:
            by_name = Q()
            for word in term.split():
                by_name &= Q(given_names__icontains=word) | Q(family_names__icontains=word)
            queryset = queryset.filter(by_name | by_document)
        else:
            queryset = queryset.filter(by_document)
    return queryset


#: The columns the list shows; the rest of a worker (phone, email, languages…) is not read, and the
#: document number is shown by its stored masked copy: no row is decrypted.
LIST_FIELDS = (
    "id",
    "given_names",
    "family_names",
    "gender",
    "nationality",
    "identity_document_masked",
    "current_stage",
    "season",
    "created_at",
    "pilot__id",
    "pilot__name",
    "recruiter__id",
    "recruiter__organisation__id",
    "recruiter__organisation__name",
)


class _RowCompare(Func):
    """``ROW(a, b, id) > ROW(x, y, z)`` (``<`` going down a descending order): the rows after a keyset
    cursor in a multi-column order, which PostgreSQL reads from an index on ``(a, b, id)``."""

    output_field = BooleanField()

    def __init__(self, columns: Sequence[Expression], values: Sequence[Expression], *, after: bool) -> None:
        self.count = len(columns)
        self.after = after
        super().__init__(*columns, *values)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        parts, params = [], []
        for expression in self.source_expressions:
            sql, p = compiler.compile(expression)
            parts.append(sql)
            params.extend(p)
        columns, values = ", ".join(parts[: self.count]), ", ".join(parts[self.count :])
        return f"ROW({columns}) {'>' if self.after else '<'} ROW({values})", params


def _registration() -> Subquery:
    """The day of the worker's first registration (their first season's ``registered`` event)."""
    first = JourneyEvent.objects.filter(worker=OuterRef("pk"), stage=Stage.REGISTERED).order_by(
        "season", "recorded_at", "id"
    )
    return Subquery(first.values("occurred_on")[:1], output_field=DateField())


#: The columns the staff list may be sorted by; every sort ends with the id in the same direction. The
#: name, nationality, gender and season sorts read an index of ``(column, id)``; stage, pilot, recruiter,
#: document and registration sort what the filters leave (a top-N sort: about 60 ms on 100,000 workers).
WORKER_SORTING = Sorting(
    [
        Column("id", ()),
        Column("name", ("family_names", "given_names")),
        Column("nationality", ("nationality",)),
        Column("gender", ("gender",)),
        Column("pilot", ("pilot__name",)),
        Column("recruiter", ("recruiter__organisation__name",)),
        Column("stage", (STAGE_ORDER,)),
        Column("season", ("season",)),
        Column("document", (DOCUMENT_SHOWN,)),
        Column("registered", (Coalesce(_registration(), TruncDate("created_at"), output_field=DateField()),)),
    ],
    default="-id",
)

#: The names the sort expressions are read back under, to write a cursor from a page's last row.
_SORT_VALUE = "sort_value_{}"


def _sorted_rows(rows: QuerySet[Worker], *, sort: Sort) -> QuerySet[Worker]:
    """``rows`` annotated with their sort values (``sort_value_0``…), for the cursor of a page's edge."""
    columns = sort.expressions[:-1]
    return rows.annotate(**{_SORT_VALUE.format(i): e for i, e in enumerate(columns)}) if columns else rows


def _past(rows: QuerySet[Worker], *, sort: Sort, cursor: Cursor, forward: bool) -> QuerySet[Worker]:
    """The rows after ``cursor`` in ``sort`` (``forward``), or before it; ``ValueError`` for a cursor that
    was not written for this order."""
    columns = sort.expressions[:-1]
    if len(cursor.key) != len(columns):
        raise ValueError("The page link does not belong to this order.")
    after = forward != sort.descending
    if not columns:
        return rows.filter(pk__gt=cursor.after) if after else rows.filter(pk__lt=cursor.after)
    names = [F(_SORT_VALUE.format(i)) for i in range(len(columns))]
    values = [Value(v) for v in (*cursor.key, cursor.after)]
    return rows.filter(_RowCompare([*names, F("pk")], values, after=after))


def _edge(worker: Worker, *, sort: Sort, older: bool) -> Cursor:
    count = len(sort.expressions) - 1
    key = tuple(getattr(worker, _SORT_VALUE.format(i)) for i in range(count))
    return Cursor(after=worker.pk, older=older, key=key)


def worker_list_page(
    *, user: Any, filters: WorkerFilters, cursor: Cursor | None = None, size: int = PAGE_SIZE, sort: Sort | None = None
) -> WorkerPage:
    """A page of the workers ``user`` may see in ``sort`` (default newest, highest id, first): the page and
    a bounded count, and the document lookup of a search; three queries at most.

    Keyset pagination on the sort's columns and the primary key: a page is ``(columns, id) > cursor`` (or
    ``<``, going back or down a descending order) ``LIMIT size + 1``, so a deep page costs what the first
    does and new registrations never shift a page. ``ValueError`` for a cursor of another order.
    Each worker carries ``fee_reported`` and ``registered_on`` (the day of their first registration).
    """
    sort = sort or WORKER_SORTING.default
    matching = worker_filter(queryset=Worker.objects.visible_to(user), filters=filters)
    rows = _sorted_rows(
        matching.select_related("pilot", "recruiter__organisation")
        .only(*LIST_FIELDS)
        .annotate(fee_reported=_fee_reported(), registered_on=_registration()),
        sort=sort,
    )
    if cursor is None:
        workers = list(rows.order_by(*sort.order_by())[: size + 1])
        older_exists, newer_exists = len(workers) > size, False
        workers = workers[:size]
    elif cursor.older:
        workers = list(_past(rows, sort=sort, cursor=cursor, forward=True).order_by(*sort.order_by())[: size + 1])
        older_exists, newer_exists = len(workers) > size, True
        workers = workers[:size]
    else:
        back = sort.reversed().order_by()
        workers = list(_past(rows, sort=sort, cursor=cursor, forward=False).order_by(*back)[: size + 1])
        newer_exists, older_exists = len(workers) > size, True
        workers = workers[:size][::-1]
    if not workers:
        older_exists = newer_exists = False
    matches: int | None
    if cursor is None and not older_exists:
        matches = len(workers)  # everything fits on the first page: the count is free
    elif filters.matches_names:
        matches = None  # a name search has no index: counting it would read all the names again
    else:
        matches = matching.order_by()[: COUNT_LIMIT + 1].count()
    return WorkerPage(
        workers=workers,
        older=_edge(workers[-1], sort=sort, older=True) if older_exists else None,
        newer=_edge(workers[0], sort=sort, older=False) if newer_exists else None,
        matches=None if matches is None else min(matches, COUNT_LIMIT),
        matches_more=matches is not None and matches > COUNT_LIMIT,
    )


#: The CSV export's columns: what the list shows, and nothing more of a worker.
CSV_HEADER = (
    "id",
    "given names",
    "family names",
    "nationality",
    "gender",
    "pilot",
    "recruiter",
    "stage",
    "season",
    "identity document (masked)",
    "registered on",
    "fee reported",
)


def worker_list_rows(*, user: Any, filters: WorkerFilters, sort: Sort | None = None) -> Iterator[tuple[Any, ...]]:
    """Every worker of the list as filtered and sorted, as CSV rows (``CSV_HEADER``): read through a
    server-side cursor 2,000 at a time, so 100,000 workers cost the memory of 2,000."""
    sort = sort or WORKER_SORTING.default
    matching = worker_filter(queryset=Worker.objects.visible_to(user), filters=filters)
    rows = (
        _sorted_rows(matching, sort=sort)
        .annotate(
            fee_reported=_fee_reported(),
            registered_on=Coalesce(_registration(), TruncDate("created_at"), output_field=DateField()),
        )
        .order_by(*sort.order_by())
        .values_list(
            "pk",
            "given_names",
            "family_names",
            "nationality",
            "gender",
            "pilot__name",
            "recruiter__organisation__name",
            "current_stage",
            "season",
            "identity_document_masked",
            "registered_on",
            "fee_reported",
        )
    )
    genders, stages = dict(Gender.choices), dict(Stage.choices)
    for (
        pk,
        given,
        family,
        nationality,
        gender,
        pilot,
        recruiter,
        stage,
        season,
        masked,
        registered,
        fee,
    ) in rows.iterator(chunk_size=2000):
        yield (
            pk,
            given,
            family,
            nationality,
            str(genders.get(gender, gender)),
            pilot,
            recruiter,
            str(stages.get(stage, stage)),
            season,
            masked,
            registered,
            "yes" if fee else "no",
        )


@dataclass
class WorkerDetail:
    """A worker and everything recorded about them, each list in the order the page shows it."""

    worker: Worker
    events: list[JourneyEvent] = field(default_factory=list)
    employments: list[Employment] = field(default_factory=list)
    trainings: list[TrainingEnrollment] = field(default_factory=list)
    #: Each with ``file_basename``, the uploaded file's name without its storage folder ("" when none).
    evidence: list[Evidence] = field(default_factory=list)
    fee_reports: list[FeeReport] = field(default_factory=list)
    duplicate_flags: list[DuplicateFlag] = field(default_factory=list)


_NAME_FIELDS = ("id", "given_names", "family_names")


def worker_detail(*, user: Any, pk: int) -> WorkerDetail:
    """Worker ``pk`` as ``user`` may see them, with their journey, employment, training, evidence, fee
    reports and the open duplicate flags that name them (either way round): seven queries whatever
    their number. ``Worker.DoesNotExist`` when ``user`` does not see the worker, or there is none.
    """
    worker = (
        Worker.objects.visible_to(user)
        .select_related("pilot", "recruiter__organisation")
        .annotate(**latest_consent_annotations())
        .get(pk=pk)
    )
    evidence = list(
        Evidence.objects.filter(worker=worker)
        .select_related("uploaded_by", "source_organisation")
        .order_by("-uploaded_at", "-id")
    )
    for item in evidence:
        item.file_basename = item.file.name.rsplit("/", 1)[-1] if item.file else ""
    return WorkerDetail(
        worker=worker,
        events=list(
            JourneyEvent.objects.filter(worker=worker)
            .select_related("recorded_by", "evidence", "pilot")
            .order_by("recorded_at", "id")
        ),
        employments=list(
            Employment.objects.filter(worker=worker)
            .select_related("job_opening__employer")
            .order_by("-start_date", "-id")
        ),
        trainings=list(
            TrainingEnrollment.objects.filter(worker=worker)
            .select_related("provider", "certificate")
            .order_by("-enrolled_on", "-id")
        ),
        evidence=evidence,
        fee_reports=list(
            FeeReport.objects.filter(worker=worker)
            .select_related("recruiter__organisation", "reported_by")
            .order_by("-reported_at", "-id")
        ),
        duplicate_flags=list(
            DuplicateFlag.objects.filter(Q(worker=worker) | Q(matches=worker), resolved_at__isnull=True)
            .select_related("worker", "matches")
            .only(*(f"{side}__{name}" for side in ("worker", "matches") for name in _NAME_FIELDS), "reason")
            .order_by("created_at", "id")
        ),
    )
