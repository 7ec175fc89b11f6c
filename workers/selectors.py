"""Reads about workers for the staff dashboard: the filtered list, a page of it, and one worker in full.

Every read starts from ``Worker.objects.visible_to(user)``, the tenancy the API uses, and costs a fixed
number of queries whatever the number of workers, events or evidence. A worker's page adds the claims
made for them in the layer above, which reads both apps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django_countries import countries

from pilots.stages import Stage
from workers.models import (
    DuplicateFlag,
    Employment,
    Evidence,
    FeeReport,
    JourneyEvent,
    TrainingEnrollment,
    Worker,
    identity_document_hash,
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


@dataclass(frozen=True)
class Cursor:
    """Where a page of the list starts: just past worker ``after`` going ``older`` (lower ids), or just
    before worker ``after`` going newer. Written in a URL as ``o123`` / ``n123``."""

    after: int
    older: bool = True

    def __str__(self) -> str:
        return f"{'o' if self.older else 'n'}{self.after}"

    @classmethod
    def parse(cls, value: str) -> Cursor:
        """``"o123"`` -> ``Cursor(123, older=True)``; a ``ValueError`` for anything else."""
        match = re.fullmatch(r"([on])(\d{1,18})", value.strip())
        if match is None:
            raise ValueError(value)
        return cls(after=int(match.group(2)), older=match.group(1) == "o")


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
        # compare every row against the 250 hashes (80 ms on 100,000 workers instead of 1).
        document_ids = list(
            Worker.objects.filter(identity_document_hash__in=identity_document_hashes(term))
            .order_by()
            .values_list("pk", flat=True)[: COUNT_LIMIT + 1]
        )
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


def worker_list_page(
    *, user: Any, filters: WorkerFilters, cursor: Cursor | None = None, size: int = PAGE_SIZE
) -> WorkerPage:
    """A page of the workers ``user`` may see, newest (highest id) first: the page and a bounded count,
    and the document lookup of a search; three queries at most.

    Keyset pagination on the primary key: a page is ``id < cursor`` (or ``>`` going back) ``LIMIT
    size + 1``, so a deep page costs what the first does and new registrations never shift a page.
    Each worker carries ``fee_reported`` and ``registered_on`` (the day of their first registration).
    """
    matching = worker_filter(queryset=Worker.objects.visible_to(user), filters=filters)
    registration = JourneyEvent.objects.filter(worker=OuterRef("pk"), stage=Stage.REGISTERED).order_by(
        "season", "recorded_at", "id"
    )
    rows = (
        matching.select_related("pilot", "recruiter__organisation")
        .only(*LIST_FIELDS)
        .annotate(fee_reported=_fee_reported(), registered_on=Subquery(registration.values("occurred_on")[:1]))
    )
    if cursor is None:
        workers = list(rows.order_by("-id")[: size + 1])
        older_exists, newer_exists = len(workers) > size, False
        workers = workers[:size]
    elif cursor.older:
        workers = list(rows.filter(pk__lt=cursor.after).order_by("-id")[: size + 1])
        older_exists, newer_exists = len(workers) > size, True
        workers = workers[:size]
    else:
        workers = list(rows.filter(pk__gt=cursor.after).order_by("id")[: size + 1])
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
        older=Cursor(after=workers[-1].pk, older=True) if older_exists else None,
        newer=Cursor(after=workers[0].pk, older=False) if newer_exists else None,
        matches=None if matches is None else min(matches, COUNT_LIMIT),
        matches_more=matches is not None and matches > COUNT_LIMIT,
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
    worker = Worker.objects.visible_to(user).select_related("pilot", "recruiter__organisation").get(pk=pk)
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
