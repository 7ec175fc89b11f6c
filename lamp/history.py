"""History of changes, kept by PostgreSQL triggers (django-pghistory), with the acting user.

Besides keeping history (``tracked``, ``acting_as``), this module reads it back for people: ``read_changes``
reads the events of several tracked models that make up one object's history (its ``Trail``s) in one
query, newest first, each with the row before it, its context and the name of who acted; ``timeline``
turns a page of them into ``Entry``s through the wording of the app that owns each model (e.g.
``financing/timeline.py``). Nothing here names an app: the apps say what to read and how to word it.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

import pghistory
import pghistory.runtime
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import BigIntegerField, F, IntegerField, OuterRef, Q, Subquery, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from lamp.currencies import format_money
from lamp.fields import MoneyField

M = TypeVar("M", bound=type[models.Model])


def tracked(model: M) -> M:
    """Keep every insert, update and delete of ``model`` in history, with the acting user.

    Triggers rather than signals, so ``update()`` and bulk writes are kept too; statement-level, so
    a bulk write of 100,000 rows costs one trigger call rather than 100,000. The user comes from
    ``pghistory.HistoryMiddleware`` in requests and from ``acting_as`` in services and tasks.
    """
    trackers = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
    return pghistory.track(*trackers, level=pghistory.Statement)(model)


@contextlib.contextmanager
def acting_as(user: models.Model | None, **metadata: object) -> Iterator[object]:
    """Attribute the history written inside the block to ``user`` (``None``: the system itself).

    Requests get this from the middleware; services, commands and tasks that act for someone wrap
    their writes in it: ``with acting_as(request_user): ...``.

    Each block is its own history context, which records when it began (``at``). pghistory merges a
    nested ``pghistory.context`` into the one around it, and that context's single row keeps only the last
    metadata written: a recompute run inside an approval, or the rules run after a staff member's upload
    in the same request, would rename the action and the user of every change made before them. Nested
    here, the block gets a context of its own that starts from the outer one's metadata (the request's
    URL), and the outer one is back after it.
    """
    # "at": when the block began, by the clock. The triggers stamp events with the transaction's start, the
    # same for every write of a transaction: this orders the acts of one transaction, and dates each one.
    values = {"user": user.pk if user is not None else None, "at": timezone.now().isoformat(), **metadata}
    tracker = pghistory.runtime._tracker
    outer = getattr(tracker, "value", None)
    if outer is None:
        with pghistory.context(**values) as current:
            yield current
        return
    tracker.value = pghistory.runtime.Context(id=uuid.uuid4(), metadata={**outer.metadata, **values})
    try:
        yield tracker.value
    finally:
        tracker.value = outer


# --- Reading history back ------------------------------------------------------------------------------

#: Who acted, when no user did: an automatic rule decided, or the system (a job, the schedule) wrote it.
RULES = "rules"
SYSTEM = "system"
USER = "user"


@dataclass(frozen=True)
class Trail:
    """The events of one tracked model that belong to an object's history.

    ``where`` filters the model's event table (``Q(pgh_obj_id=81)``, ``Q(claim_id=81)``,
    ``Q(tranche__contract_id=4)``: the event table keeps the row's foreign keys, so joins work);
    ``lookups`` are values read along with each event (``{"tranche_code": F("tranche__code")}``), any
    expression on the event row; ``actor`` names a column saying who acted (``"approved_by_id"``), used
    when the history context names no user.
    """

    model: type[models.Model]
    where: Q
    lookups: Mapping[str, Any] = field(default_factory=dict)
    actor: str | None = None


@dataclass(frozen=True)
class Change:
    """One event of the history: the row as it was written (``data``) and as it was before (``before``)."""

    model: type[models.Model]
    event_id: int
    obj_id: int
    label: str  # insert, update or delete
    at: datetime.datetime
    data: dict[str, Any]
    before: dict[str, Any] | None
    context: dict[str, Any]
    extra: dict[str, Any]
    actor_id: int | None
    actor_name: str

    @property
    def is_insert(self) -> bool:
        return self.label == "insert"

    @property
    def is_update(self) -> bool:
        return self.label == "update"

    @property
    def is_delete(self) -> bool:
        return self.label == "delete"

    def changed(self, *, ignore: Sequence[str] = ()) -> list[tuple[models.Field, Any, Any]]:
        """The fields an update changed (field, old value, new value), in the model's order."""
        if not self.is_update or self.before is None:
            return []
        before, after = self.before, self.data
        return [
            (f, before.get(f.attname), after.get(f.attname))
            for f in self.model._meta.concrete_fields
            if f.name not in ignore and f.attname not in ignore and before.get(f.attname) != after.get(f.attname)
        ]

    def was(self, name: str) -> Any:
        """The value of ``name`` before this change (``None`` for an insert)."""
        return (self.before or {}).get(name)

    def who(self, *, default: str = SYSTEM) -> str:
        """Who acted, in words: the user's name; otherwise "the rules" or "the system" (``default``)."""
        if self.actor_name:
            return self.actor_name
        return actor_words(default)


def actor_words(kind: str) -> str:
    return _("the rules") if kind == RULES else _("the system")


def _value_expression(f: models.Field) -> Any:
    # JSON numbers would come back as floats: money and rates travel as text and are read back as Decimal.
    if isinstance(f, models.DecimalField):
        return Cast(F(f.attname), TextField())
    return F(f.attname)


def _row_json(model: type[models.Model]) -> JSONObject:
    return JSONObject(**{f.attname: _value_expression(f) for f in model._meta.concrete_fields})


def _typed(model: type[models.Model], raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON values back to Python ones: dates, instants and Decimals (the rest are JSON types already)."""
    if raw is None:
        return None
    row = dict(raw)
    for f in model._meta.concrete_fields:
        value = row.get(f.attname)
        if not isinstance(value, str):
            continue
        if isinstance(f, models.DateTimeField):
            row[f.attname] = parse_datetime(value)
        elif isinstance(f, models.DateField):
            row[f.attname] = parse_date(value)
        elif isinstance(f, models.DecimalField):
            row[f.attname] = Decimal(value)
    return row


COLUMNS = ("ev_id", "ev_obj", "ev_label", "ev_at", "ev_rank", "ev_data", "ev_before", "ev_context", "ev_extra")


def _branch(rank: int, trail: Trail) -> models.QuerySet:
    event_model = trail.model.pgh_event_model
    user_model = get_user_model()
    before = (
        event_model.objects.filter(pgh_obj_id=OuterRef("pgh_obj_id"), pgh_id__lt=OuterRef("pgh_id"))
        .order_by("-pgh_id")
        .values(row=_row_json(trail.model))[:1]
    )
    context_user = Cast(KeyTextTransform("user", "pgh_context__metadata"), BigIntegerField())
    actor = Coalesce(context_user, F(trail.actor), output_field=BigIntegerField()) if trail.actor else context_user
    name = user_model.objects.filter(pk=OuterRef("ev_actor")).values(
        name=JSONObject(first=F("first_name"), last=F("last_name"), username=F(user_model.USERNAME_FIELD))
    )[:1]
    extra = JSONObject(**trail.lookups) if trail.lookups else Value({}, models.JSONField())
    return (
        event_model.objects.filter(trail.where)
        .annotate(
            ev_id=F("pgh_id"),
            ev_obj=F("pgh_obj_id"),
            ev_label=F("pgh_label"),
            ev_at=Coalesce(
                Cast(KeyTextTransform("at", "pgh_context__metadata"), models.DateTimeField()), F("pgh_created_at")
            ),
            ev_rank=Value(rank, IntegerField()),
            ev_data=_row_json(trail.model),
            ev_before=Subquery(before, output_field=models.JSONField()),
            ev_context=F("pgh_context__metadata"),
            ev_extra=extra,
            ev_actor=actor,
            ev_actor_name=Subquery(name, output_field=models.JSONField()),
        )
        .values(*COLUMNS, "ev_actor", "ev_actor_name")
    )


def _name(raw: Mapping[str, Any] | None) -> str:
    if not raw:
        return ""
    return f"{raw.get('first') or ''} {raw.get('last') or ''}".strip() or raw.get("username") or ""


def read_changes(trails: Sequence[Trail], *, limit: int, offset: int = 0) -> list[Change]:
    """The events of ``trails``, newest first (events of one transaction: the later trail, then the later event,
    first), ``limit`` of them from ``offset``: one query whatever the number of trails and events."""
    if not trails:
        return []
    branches = [_branch(rank, trail) for rank, trail in enumerate(trails)]
    query = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    rows = query.order_by("-ev_at", "-ev_rank", "-ev_id")[offset : offset + limit]
    changes = []
    for row in rows:
        model = trails[row["ev_rank"]].model
        changes.append(
            Change(
                model=model,
                event_id=row["ev_id"],
                obj_id=row["ev_obj"],
                label=row["ev_label"],
                at=row["ev_at"],
                data=_typed(model, row["ev_data"]) or {},
                before=_typed(model, row["ev_before"]),
                context=row["ev_context"] or {},
                extra=row["ev_extra"] or {},
                actor_id=row["ev_actor"],
                actor_name=_name(row["ev_actor_name"]),
            )
        )
    return changes


@dataclass(frozen=True)
class Entry:
    """One line of a timeline: when, what happened in words (who included), and a detail such as a reason."""

    at: datetime.datetime
    text: str
    detail: str = ""
    actor: str = USER  # USER, RULES or SYSTEM: who acted, for the page's styling


@dataclass(frozen=True)
class Timeline:
    """A page of an object's history in words, newest first."""

    entries: list[Entry]
    page: int
    has_more: bool

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.has_more else None

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


#: Words for one change of one model, as ``viewer`` may read them; ``None`` when it says nothing to a person
#: (a column the system keeps, a decision another event words).
Describer = Callable[[Change, Any], Entry | None]

#: Events read per page of a timeline.
PER_PAGE = 50
#: The deepest page offered: a history longer than this is the admin's "Events" to search.
MAX_PAGE = 200


def page_number(raw: object) -> int:
    """A timeline page asked for in a query string (``?history=2``): 1 for anything that is not one."""
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def timeline(
    trails: Sequence[Trail],
    describers: Mapping[type[models.Model], Describer],
    *,
    viewer: Any,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Timeline:
    """Page ``page`` of the history made of ``trails``, each change worded by its model's describer."""
    page = min(max(page, 1), MAX_PAGE)
    changes = read_changes(trails, limit=per_page + 1, offset=(page - 1) * per_page)
    entries = []
    for change in changes[:per_page]:
        entry = describers[change.model](change, viewer)
        if entry is None:
            continue
        if entry.actor == USER and not change.actor_name:
            entry = replace(entry, actor=SYSTEM)  # no user acted: the system wrote it
        entries.append(entry)
    return Timeline(entries=entries, page=page, has_more=len(changes) > per_page)


def day_words(value: datetime.date | datetime.datetime | None) -> str:
    """A date as the timelines print it (``3 Feb 2026``, month names in the active language)."""
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_filter(value, "j M Y")


def shown(f: models.Field, value: Any, *, currency: str | None = None) -> str:
    """A stored value of ``f`` in words: a choice's label, a date, money in ``currency``, yes/no, ``—`` for none."""
    if value is None or value == "":
        return "—"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.DateTimeField | models.DateField):
        return day_words(value)
    if isinstance(f, MoneyField) and currency:
        return format_money(Decimal(value), currency)
    if isinstance(f, models.BooleanField):
        return _("yes") if value else _("no")
    if f.is_relation:
        return f"#{value}"
    return str(value)


def changes_words(
    change: Change, *, ignore: Sequence[str] = (), currency: str | None = None, labels: Mapping[str, str] | None = None
) -> str:
    """What an update changed, in words: ``achieved on from 3 Feb 2026 to 5 Feb 2026; unit from 1 to 2``."""
    parts = []
    for f, old, new in change.changed(ignore=ignore):
        label = (labels or {}).get(f.name) or str(f.verbose_name)
        parts.append(
            _("%(field)s from %(old)s to %(new)s")
            % {"field": label, "old": shown(f, old, currency=currency), "new": shown(f, new, currency=currency)}
        )
    return "; ".join(parts)


def reason_words(change: Change) -> str:
    """The reason the person gave for a change, when the history context keeps one."""
    reason = str(change.context.get("reason") or "").strip()
    return _("Reason: %(reason)s") % {"reason": reason} if reason else ""
