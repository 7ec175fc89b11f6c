"""Erasure on request: a worker's personal data erased, their row kept as a pseudonym for the money.

``worker_erase`` is the one writer, called alike by the dashboard, the admin, the API and the retention job.
What it erases, in one transaction, the worker locked:

- the worker's names (the pseudonym ``Erased worker #<id>`` instead), e-mail, phone, identity document
  (number, country, masked copy and both keyed hashes), date of birth (the encrypted date and its keyed hash)
  and language levels;
- the free text of every fact about them: notes of journey events (and the reasons of staff overrides),
  employments, fee reports (with who was paid) and fee declarations; evidence references, descriptions and
  the text of its ``facts``; the free-text answers of their check-ins; the error text of their messages;
- uploaded evidence files, deleted from storage (after the transaction commits);
- the same columns in the history (the pghistory event rows of every tracked model among these), and any
  occurrence of the erased values (names, e-mail, phone, document number) in text that others wrote about
  the worker: access-log reasons, admin log entries, claims' and verifications' reasons and their history.

What it keeps, untouched: the row and its id, gender, nationality and birth year (the dimensions reports
count by, none identifying alone), the pilot, the recruiter, the journey's stages and dates, employments'
dates, fee amounts and categories, the structured answers of check-ins and the booleans, numbers, dates and
codes of evidence facts (what the outcome rules read), the consent record, and every claim, verification,
tranche, payment line and disbursement: the money and every figure made of it stay exactly as they were.

Refused while a case about the worker is open (``open_cases``); the erasure itself is recorded
(``WorkerErasure``: who, when, why, how many rows) without any erased value.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from lamp.history import acting_as
from pilots.models import User
from pilots.stages import CheckInMoment
from workers.checkins import CONCERN_WORDS
from workers.consent import check_ins_stop
from workers.models import (
    CheckInAnswer,
    DuplicateFlag,
    Employment,
    ErasureTrigger,
    Evidence,
    EvidenceKind,
    FeeCategory,
    FeeDeclaration,
    FeeReport,
    JourneyEvent,
    OutboxMessage,
    PersonalDataAccess,
    Source,
    Worker,
    WorkerErasure,
)
from workers.value_rules import cleaned_reason

#: What replaces free text that may not be empty (an override's reason, a reference without a file).
ERASED = "[erased]"
#: The check-in questions a worker answers in their own words (the others are choices, numbers or yes/no).
FREE_TEXT_ANSWERS = ("fee_paid_to", "deductions", "anything_else")
#: The shortest and longest reason an erasure is recorded with.
REASON_MIN, REASON_MAX = 10, 1000
#: The word staff type to confirm an erasure on the dashboard.
CONFIRMATION = "ERASE"

#: Codes that evidence facts hold as text and the outcome rules may read: kept, with dates and amounts.
_CODES = frozenset([*FeeCategory.values, *CheckInMoment.values, *Source.values, *EvidenceKind.values, *CONCERN_WORDS])
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AMOUNT = re.compile(r"^-?\d{1,12}(\.\d{1,4})?$")

#: Text others wrote about a worker in the layers above (named by string, as a foreign key names a higher
#: model): the model, the lookup from it to the worker's id, and its free-text columns. The erased values
#: are replaced in them by the pseudonym; the rest of each row (money, statuses, dates) is not touched.
TEXT_ABOUT_WORKER: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("financing.OutcomeClaim", "worker_id", ("rejection_reason", "reversal_reason", "pending_reason")),
    ("financing.Verification", "claim__worker_id", ("reason",)),
)


class ErasureRefused(Exception):  # noqa: N818 - named for what it is, like Django's DoesNotExist
    """The worker cannot be erased now: ``field`` names what refuses it, ``message`` says why in words."""

    def __init__(self, message: str, *, field: str = "worker") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- Open cases: what an erasure waits for ---------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    """A case about a worker still open: its kind (``claim_review``, ``duplicate_flag``…) and words for it."""

    kind: str
    description: str


CaseSource = Callable[[Worker], Iterable[OpenCase]]
_CASE_SOURCES: list[CaseSource] = []


def register_case_source(source: CaseSource) -> CaseSource:
    """Add a kind of case that keeps a worker from being erased while open (a later app's grievances register
    theirs in ``AppConfig.ready``): ``source(worker)`` yields the worker's open ones."""
    if source not in _CASE_SOURCES:
        _CASE_SOURCES.append(source)
    return source


def open_cases(worker: Worker) -> list[OpenCase]:
    """Every case about ``worker`` still open, of every registered kind: an erasure is refused while any is."""
    return [case for source in _CASE_SOURCES for case in source(worker)]


@register_case_source
def _open_duplicate_flags(worker: Worker) -> Iterable[OpenCase]:
    flags = DuplicateFlag.objects.filter(Q(worker=worker) | Q(matches=worker), resolved_at__isnull=True)
    for pk, one, other in flags.order_by("pk").values_list("pk", "worker_id", "matches_id"):
        yield OpenCase(
            kind="duplicate_flag",
            description=gettext("Duplicate flag %(id)s (workers %(one)s and %(other)s) is not resolved.")
            % {"id": pk, "one": one, "other": other},
        )


@register_case_source
def _claims_in_review(worker: Worker) -> Iterable[OpenCase]:
    # The claims of the financing app, read through the relation it declares on the worker ("claims"): an
    # automatic rule found evidence for and against, and staff have not decided yet.
    for pk in worker.claims.filter(in_review=True).order_by("pk").values_list("pk", flat=True):
        yield OpenCase(
            kind="claim_review",
            description=gettext("Claim %(id)s waits for staff review.") % {"id": pk},
        )


# --- The erasure -------------------------------------------------------------------------------------------


def pseudonym(worker_id: int) -> tuple[str, str]:
    """The names an erased worker keeps: ``("Erased worker", "#123")``, read together as one pseudonym."""
    return "Erased worker", f"#{worker_id}"


def erasure_check(*, worker: Worker, reason: str) -> str:
    """The reason, cleaned, if ``worker`` may be erased now; ``ErasureRefused`` otherwise (already erased, a
    case open) and ``ValidationError`` naming ``reason`` for a missing, short or long one."""
    too_short = gettext("Say why the data is erased, in at least %(n)d characters.")
    reason, refused = cleaned_reason(reason, shortest=REASON_MIN, longest=REASON_MAX, too_short=too_short)
    if refused is None and "\x00" in reason:
        refused = gettext("Keep the reason to %(n)d characters at most.") % {"n": REASON_MAX}
    if refused is not None:
        raise ValidationError({"reason": refused})
    if worker.erased_at is not None:
        raise ErasureRefused(gettext("This worker's personal data was already erased."))
    cases = open_cases(worker)
    if cases:
        raise ErasureRefused(
            gettext("A case about this worker is open: %(cases)s Close it first.")
            % {"cases": " ".join(case.description for case in cases)}
        )
    return reason


@transaction.atomic
def worker_erase(
    *, worker: Worker, user: User | None, reason: str, trigger: str = ErasureTrigger.REQUEST
) -> WorkerErasure:
    """Erase ``worker``'s personal data (see the module's words for what goes and what stays) and record it.

    ``user`` is who erased (``None``: the retention job). Refused, with nothing written, by ``erasure_check``.
    """
    locked = Worker.objects.select_for_update().get(pk=worker.pk)
    reason = erasure_check(worker=locked, reason=reason)
    needles = _erased_values(locked)
    given, family = pseudonym(locked.pk)
    counts: dict[str, int] = {}
    with acting_as(user, action="worker_erase", worker=locked.pk):
        counts.update(_erase_facts(locked))
        files = list(Evidence.objects.filter(worker=locked).exclude(file="").values_list("file", flat=True))
        counts.update(_erase_evidence(locked))
        counts["files"] = len(files)
        counts.update(_close_check_ins(locked))
        now = timezone.now()
        Worker.objects.filter(pk=locked.pk).update(
            given_names=given,
            family_names=family,
            email="",
            phone=None,
            phone_masked="",
            identity_document_number=None,
            identity_document_hash="",
            identity_document_masked="",
            identity_document_tail_hash="",
            identity_document_country="",
            date_of_birth=None,
            date_of_birth_hash="",
            language_levels={},
            erased_at=now,
            updated_at=now,
        )
        _scrub_history(Worker, [locked.pk], _WORKER_HISTORY_UPDATES(given, family))
        counts["text_mentions"] = _replace_mentions(locked, needles, f"{given} {family}")
        record = WorkerErasure.objects.create(
            worker=locked, erased_by=user, erased_at=now, trigger=trigger, reason=reason, counts=counts
        )
    storage = Evidence._meta.get_field("file").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in files])
    worker.refresh_from_db()
    return record


def _WORKER_HISTORY_UPDATES(given: str, family: str) -> dict[str, Any]:  # noqa: N802 - a table of values
    """The worker's personal columns as an erased row holds them, for a history of the worker's own rows."""
    return {
        "given_names": given,
        "family_names": family,
        "email": "",
        "phone": None,
        "phone_masked": "",
        "identity_document_number": None,
        "identity_document_hash": "",
        "identity_document_masked": "",
        "identity_document_tail_hash": "",
        "identity_document_country": "",
        "date_of_birth": None,
        "date_of_birth_hash": "",
        "language_levels": {},
    }


def _erased_values(worker: Worker) -> list[str]:
    """The values whose every occurrence goes (longest first, so a full name goes before a part of it)."""
    values = {
        f"{worker.given_names} {worker.family_names}",
        worker.given_names,
        worker.family_names,
        worker.email,
        worker.phone or "",
        worker.identity_document_number or "",
    }
    return sorted((value.strip() for value in values if value and len(value.strip()) >= 3), key=len, reverse=True)


def _append_only(*models_: type[models.Model]) -> list[str]:
    """The URIs of the append-only triggers of ``models_`` (and of their history tables), for ``pgtrigger.ignore``:
    an erasure is the one write those rows allow."""
    uris = []
    for model in models_:
        for trigger in pgtrigger.registered():
            registered_model, found = trigger
            if registered_model is model and isinstance(found, pgtrigger.Protect):
                uris.append(f"{model._meta.label}:{found.name}")
    return uris


def _scrub_history(model: type[models.Model], ids: list[int], updates: dict[str, Any]) -> int:
    """Give the history rows of ``model``'s rows ``ids`` the erased values: the person leaves no trace there."""
    event_model = getattr(model, "pgh_event_model", None)
    if event_model is None or not ids or not updates:
        return 0
    columns = {f.name for f in event_model._meta.concrete_fields}
    updates = {name: value for name, value in updates.items() if name in columns}
    with pgtrigger.ignore(*_append_only(event_model)):
        return event_model.objects.filter(pgh_obj_id__in=ids).update(**updates)


def _erase(queryset: models.QuerySet, updates: dict[str, Any]) -> int:
    """Erase ``updates`` in the rows of ``queryset`` and in their history; how many rows."""
    model = queryset.model
    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        return 0
    with pgtrigger.ignore(*_append_only(model)):
        model.objects.filter(pk__in=ids).update(**updates)
    _scrub_history(model, ids, updates)
    return len(ids)


def _erase_facts(worker: Worker) -> dict[str, int]:
    counts = {
        "journey_events": _erase(JourneyEvent.objects.filter(worker=worker).exclude(note=""), {"note": ""}),
        "employments": _erase(Employment.objects.filter(worker=worker).exclude(note=""), {"note": ""}),
        "fee_reports": _erase(
            FeeReport.objects.filter(worker=worker).exclude(note="", paid_to=""), {"note": "", "paid_to": ""}
        ),
        "fee_declarations": _erase(FeeDeclaration.objects.filter(worker=worker).exclude(note=""), {"note": ""}),
    }
    counts["journey_overrides"] = _erase(
        JourneyEvent.objects.filter(worker=worker, is_override=True), {"override_reason": ERASED}
    )
    answers = CheckInAnswer.objects.filter(check_in__worker=worker, question__in=FREE_TEXT_ANSWERS)
    counts["check_in_answers"] = _erase(answers, {"value": ""})
    return counts


def _erase_evidence(worker: Worker) -> dict[str, int]:
    erased = 0
    documents = list(Evidence.objects.filter(worker=worker).only("pk", "facts", "file"))
    for document in documents:
        updates = {
            "file": "",
            "sha256": "",
            "reference": ERASED,
            "description": "",
            "facts": _erased_facts(document.facts),
        }
        erased += _erase(Evidence.objects.filter(pk=document.pk), updates)
    return {"evidence": erased}


def _erased_facts(value: Any) -> Any:
    """``facts`` with the text that may be a person's words erased: booleans, numbers, dates, amounts and the
    platform's own codes are kept (what the outcome rules read), every other string becomes ``[erased]``."""
    if isinstance(value, dict):
        return {key: _erased_facts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_erased_facts(item) for item in value]
    if isinstance(value, str):
        if value in _CODES or _AMOUNT.match(value) or (_ISO_DAY.match(value) and _is_day(value)):
            return value
        return ERASED
    return value


def _is_day(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _close_check_ins(worker: Worker) -> dict[str, int]:
    """Open links close and messages waiting to go are cancelled (``workers.consent.check_ins_stop``); the
    gateways' error text of the worker's messages, which may name an address, goes too."""
    counts = check_ins_stop(worker=worker)
    OutboxMessage.objects.filter(check_in__worker=worker).exclude(error="").update(error="")
    return counts


def _replace_mentions(worker: Worker, needles: list[str], replacement: str) -> int:
    """Replace every occurrence of ``needles`` in text others wrote about ``worker`` (and in its history) by
    the pseudonym; how many rows changed."""
    changed = _replace_in(PersonalDataAccess.objects.filter(worker=worker), ("reason",), needles, replacement)
    for label, lookup, fields in TEXT_ABOUT_WORKER:
        model = apps.get_model(label)
        changed += _replace_in(model.objects.filter(**{lookup: worker.pk}), fields, needles, replacement)
    changed += _replace_in_admin_log(worker, needles, replacement)
    return changed


def _replace_in(queryset: models.QuerySet, fields: tuple[str, ...], needles: list[str], replacement: str) -> int:
    """``Replace`` of each needle in each of ``fields``, in the rows of ``queryset`` that hold one, and in
    their history rows."""
    if not needles:
        return 0
    model = queryset.model
    patterns = [_whole_words(needle) for needle in needles]
    holds = Q()
    for name in fields:
        for pattern in patterns:
            holds |= Q(**{f"{name}__iregex": pattern})
    ids = list(queryset.filter(holds).values_list("pk", flat=True))
    if not ids:
        return 0
    updates: dict[str, Any] = {}
    for name in fields:
        expression: Any = models.F(name)
        for pattern in patterns:
            expression = models.Func(
                expression,
                models.Value(pattern),
                models.Value(replacement),
                models.Value("gi"),
                function="regexp_replace",
                output_field=models.TextField(),
            )
        updates[name] = expression
    model.objects.filter(pk__in=ids).update(**updates)
    event_model = getattr(model, "pgh_event_model", None)
    if event_model is not None:
        with pgtrigger.ignore(*_append_only(event_model)):
            event_model.objects.filter(pgh_obj_id__in=ids).update(**updates)
    return len(ids)


def _whole_words(needle: str) -> str:
    """A PostgreSQL pattern of ``needle`` as whole words (``Ana`` but not the ``Ana`` of ``Analysis``)."""
    pattern = re.escape(needle)
    if re.match(r"\w", needle):
        pattern = r"\m" + pattern
    if re.search(r"\w$", needle):
        pattern += r"\M"
    return pattern


def _replace_in_admin_log(worker: Worker, needles: list[str], replacement: str) -> int:
    """The admin's log names what it changed by its words (``Ana López``, ``Visa for Ana López``): the entries
    about the worker and about their facts lose the names too."""
    if not needles:
        return 0
    related = [Worker, Evidence, Employment, FeeReport, FeeDeclaration, JourneyEvent]
    entries = LogEntry.objects.none()
    for model in related:
        ids = [worker.pk] if model is Worker else list(model.objects.filter(worker=worker).values_list("pk", flat=True))
        if ids:
            kind = ContentType.objects.get_for_model(model)
            entries |= LogEntry.objects.filter(content_type=kind, object_id__in=[str(pk) for pk in ids])
    ids = list(entries.values_list("pk", flat=True))
    changed = 0
    for entry in LogEntry.objects.filter(pk__in=ids):
        text, message = entry.object_repr, entry.change_message
        for needle in needles:
            words = re.compile(_whole_words(needle).replace(r"\m", r"\b").replace(r"\M", r"\b"), re.IGNORECASE)
            text = words.sub(replacement, text)
            message = words.sub(json.dumps(replacement)[1:-1], message)
        if (text, message) != (entry.object_repr, entry.change_message):
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=text[:200], change_message=message)
            changed += 1
    return changed
