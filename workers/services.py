"""Writes about workers: registration, every move of the journey, evidence and the fees they paid.

Each function is one transaction, locks the worker it changes, validates with ``full_clean`` and
the journey rules, and is the only writer of ``Worker.current_stage``. A write that changes what the
outcome rules read (the journey, evidence, a fee) announces it after commit (``workers.signals``): the
layers above decide what follows, this module names none of them.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from sms import send_sms

from lamp.currencies import quantize
from lamp.history import acting_as
from lamp.masking import mask_documents_in_text
from lamp.parsers import json_limits_error
from lamp.tenancy import tenancy_of
from pilots.models import Pilot, User
from pilots.stages import CHECK_IN_DAY, NEW_SEASON_FROM, Stage
from recruitment.models import Recruiter
from workers.checkins import home_language
from workers.consent import contactable, may_contact
from workers.journey import JourneyError, check_date, check_move
from workers.models import (
    CheckIn,
    CheckInAnswer,
    CheckInLanguage,
    CheckInMoment,
    Consent,
    ConsentChannel,
    DuplicateFlag,
    DuplicateReason,
    Employment,
    Evidence,
    EvidenceKind,
    FeeDeclaration,
    FeeReport,
    FeeSource,
    JourneyEvent,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PersonalDataAccess,
    RevealableField,
    Source,
    TrainingEnrollment,
    Worker,
    birth_date_hash,
    identity_document_hash,
    source_of,
)
from workers.signals import worker_facts_changed_on_commit
from workers.value_rules import cleaned_reason

#: The channels a fact reaches the platform through: a signed-in account (staff, a partner organisation's
#: user or token), or the worker's own link.
ACCOUNT = "account"
WORKER_LINK = "worker_link"
#: No pilot's fact is dated before this year: an earlier date is a typing error.
EARLIEST_YEAR = 2000


@transaction.atomic
def worker_register(
    *,
    recruiter: Recruiter,
    pilot: Pilot,
    registered_on: datetime.date,
    recorded_by: User | None,
    identity_document_number: str = "",
    identity_document_country: str = "",
    consent_channel: str = ConsentChannel.UNRECORDED,
    **fields: Any,
) -> Worker:
    """Create a worker and the first event of their journey (``registered``), and their consent (``Consent``,
    through ``consent_channel``) when they gave it."""
    worker = Worker(recruiter=recruiter, pilot=pilot, current_stage=Stage.REGISTERED, season=1, **fields)
    if identity_document_number:
        worker.set_identity_document(
            number=identity_document_number, country=identity_document_country or str(worker.nationality)
        )
    worker.stage_changed_on = registered_on
    worker.full_clean()
    worker.save()
    if worker.consent_given_at is not None:  # the consent the registration records, with the current text's version
        Consent.objects.create(
            worker=worker,
            text_version=settings.CONSENT_TEXT_VERSION,
            channel=consent_channel,
            given_at=worker.consent_given_at,
            recorded_by=recorded_by,
        )
    _record(worker=worker, stage=Stage.REGISTERED, occurred_on=registered_on, recorded_by=recorded_by)
    return worker


@transaction.atomic
def journey_move(
    *,
    worker: Worker,
    stage: str,
    occurred_on: datetime.date,
    recorded_by: User | None,
    evidence: Evidence | None = None,
    note: str = "",
    override_reason: str = "",
) -> JourneyEvent:
    """Move ``worker`` to ``stage``; refused with a ``JourneyError`` naming both stages if not allowed.

    With ``override_reason`` a program staff member may record any stage, even a skip or a step back;
    the event is marked as an override and keeps the reason.
    """
    locked = Worker.objects.select_for_update().select_related("pilot").get(pk=worker.pk)
    current = locked.current_stage
    if override_reason.strip():
        if recorded_by is None or not recorded_by.is_program_staff:
            raise PermissionDenied("Only program staff may override the journey.")
        if stage not in Stage.values:
            raise JourneyError(current=current, requested=stage, message=f"'{stage}' is not a stage.")
        # An override passes over the order of the stages, never over the calendar.
        if occurred_on > timezone.localdate():
            raise JourneyError(
                current=current, requested=stage, message=f"{occurred_on} is in the future.", field="occurred_on"
            )
        if occurred_on.year < EARLIEST_YEAR:
            raise JourneyError(
                current=current,
                requested=stage,
                message=f"{occurred_on} is before 2000: check the year.",
                field="occurred_on",
            )
    else:
        check_move(current=current, requested=stage, required=locked.pilot.required_stages)
        _check_date(worker=locked, stage=stage, occurred_on=occurred_on)
    if evidence is not None and evidence.worker_id != locked.pk:
        raise ValidationError({"evidence": "This evidence is about another worker."})
    event = _record(
        worker=locked,
        stage=stage,
        occurred_on=occurred_on,
        recorded_by=recorded_by,
        evidence=evidence,
        note=note,
        override_reason=override_reason.strip(),
    )
    _sync(worker, locked)
    worker_facts_changed_on_commit(sender=JourneyEvent, worker_ids=[locked.pk])
    return event


@transaction.atomic
def worker_start_new_season(
    *,
    worker: Worker,
    occurred_on: datetime.date,
    recorded_by: User | None,
    pilot: Pilot | None = None,
    note: str = "",
) -> JourneyEvent:
    """Circular migration: a returned worker registers for another season, in the same or another pilot."""
    locked = Worker.objects.select_for_update().get(pk=worker.pk)
    if locked.current_stage not in NEW_SEASON_FROM:
        raise JourneyError(
            current=locked.current_stage,
            requested=Stage.REGISTERED,
            message=f"Cannot start a new season from '{locked.current_stage}': the worker must have 'returned'.",
        )
    _check_date(worker=locked, stage=Stage.REGISTERED, occurred_on=occurred_on)
    locked.season += 1
    if pilot is not None:
        locked.pilot = pilot
    event = _record(worker=locked, stage=Stage.REGISTERED, occurred_on=occurred_on, recorded_by=recorded_by, note=note)
    _sync(worker, locked)
    worker_facts_changed_on_commit(sender=JourneyEvent, worker_ids=[locked.pk])
    return event


def _check_date(*, worker: Worker, stage: str, occurred_on: datetime.date) -> None:
    check_date(
        current=worker.current_stage,
        requested=stage,
        occurred_on=occurred_on,
        stage_changed_on=worker.stage_changed_on,
        today=timezone.localdate(),
    )


def _record(
    *,
    worker: Worker,
    stage: str,
    occurred_on: datetime.date,
    recorded_by: User | None,
    evidence: Evidence | None = None,
    note: str = "",
    override_reason: str = "",
) -> JourneyEvent:
    event = JourneyEvent(
        worker=worker,
        pilot_id=worker.pilot_id,
        season=worker.season,
        stage=stage,
        occurred_on=occurred_on,
        recorded_by=recorded_by,
        evidence=evidence,
        note=mask_documents_in_text(note),
        is_override=bool(override_reason),
        override_reason=mask_documents_in_text(override_reason),
    )
    event.full_clean()
    event.save()
    worker.current_stage = stage
    worker.stage_changed_on = occurred_on
    worker.save(update_fields=["current_stage", "stage_changed_on", "season", "pilot", "updated_at"])
    return event


def _sync(target: Worker, source: Worker) -> None:
    """Reflect the locked copy's journey fields on the caller's instance."""
    for field in ("current_stage", "stage_changed_on", "season", "pilot_id"):
        setattr(target, field, getattr(source, field))


#: Largest evidence file accepted, in bytes (10 MiB).
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
#: How deep and how large (serialized, in bytes) a piece of evidence's ``facts`` may be, from any channel.
MAX_FACTS_DEPTH = 16
MAX_FACTS_BYTES = 64 * 1024

#: Accepted evidence types, by declared content type, with the bytes such a file starts with.
EVIDENCE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),  # and "WEBP" at offset 8, checked below
}


def evidence_file_check(file: UploadedFile) -> UploadedFile:
    """The checks an evidence file passes before ``evidence_add`` keeps it, wherever it is uploaded (the API,
    the dashboard): at most ``MAX_EVIDENCE_BYTES``, a PDF, PNG, JPEG or WebP whose first bytes are what its
    declared type says. Raises ``ValidationError`` naming ``file``; returns the file with its type normalised."""
    if file.size is not None and file.size > MAX_EVIDENCE_BYTES:
        raise ValidationError({"file": f"The file is {file.size} bytes; at most {MAX_EVIDENCE_BYTES} are accepted."})
    declared = (getattr(file, "content_type", "") or "").split(";")[0].strip().lower()
    if declared not in EVIDENCE_SIGNATURES:
        raise ValidationError(
            {"file": f"'{declared or 'unknown'}' files are not accepted: only {', '.join(EVIDENCE_SIGNATURES)}."}
        )
    head = file.read(12)
    file.seek(0)
    matches = head.startswith(EVIDENCE_SIGNATURES[declared]) and (declared != "image/webp" or head[8:12] == b"WEBP")
    if not matches:
        raise ValidationError({"file": f"The file's content is not {declared}, as it was declared."})
    file.content_type = declared
    return file


@transaction.atomic
def evidence_add(
    *,
    worker: Worker,
    kind: str,
    uploaded_by: User | None,
    file: UploadedFile | None = None,
    reference: str = "",
    description: str = "",
    facts: dict[str, Any] | None = None,
    channel: str = ACCOUNT,
    mask_numbers: bool = True,
) -> Evidence:
    """Keep a piece of evidence about a worker (a file, or where it is kept), with the SHA-256 of the file.

    Who supplied it (``source``, ``source_organisation``) is derived from ``uploaded_by``'s organisation
    and the ``channel`` (``ACCOUNT``, or ``WORKER_LINK`` for the worker's own link), never from the caller's
    say. New evidence may settle a pending outcome claim: it is announced once this commits, and the
    financing layer re-runs automatic verification for the worker's contracts.

    Document-number-shaped runs in ``reference`` and ``description`` are masked on the way in
    (``lamp.masking.mask_documents_in_text``); a caller composing them from a record's id (a confirmation, a
    check-in) masks what people wrote itself and passes ``mask_numbers=False``.
    """
    if (refused := json_limits_error(facts or {}, max_depth=MAX_FACTS_DEPTH, max_bytes=MAX_FACTS_BYTES)) is not None:
        raise ValidationError({"facts": refused})
    if mask_numbers:
        reference, description = mask_documents_in_text(reference), mask_documents_in_text(description)
    source, organisation_id = (Source.WORKER, None) if channel == WORKER_LINK else source_of(uploaded_by)
    evidence = Evidence(
        worker=worker,
        kind=kind,
        reference=reference,
        description=description,
        facts=facts or {},
        uploaded_by=uploaded_by,
        source=source,
        source_organisation_id=organisation_id,
    )
    if file is not None:
        digest = hashlib.sha256()
        for chunk in file.chunks():
            digest.update(chunk)
        file.seek(0)
        evidence.file = file
        evidence.sha256 = digest.hexdigest()
        evidence.size = file.size
        evidence.content_type = getattr(file, "content_type", "") or ""
    evidence.full_clean()
    evidence.save()
    worker_facts_changed_on_commit(sender=Evidence, worker_ids=[worker.pk])
    return evidence


#: The key of a staff confirmation's ``facts`` naming the evidence it confirms.
CONFIRMS = "confirms_evidence"


def evidence_confirmed_ids(evidence: Iterable[Evidence]) -> set[int]:
    """The ids of the documents among ``evidence`` that a staff confirmation (also among it) confirms."""
    return {
        item.facts[CONFIRMS]
        for item in evidence
        if item.source == Source.STAFF and isinstance(item.facts, dict) and isinstance(item.facts.get(CONFIRMS), int)
    }


@transaction.atomic
def evidence_confirm(*, evidence: Evidence, confirmed_by: User | None, note: str = "") -> Evidence:
    """Program staff confirm a document someone else supplied (the recruiter's copy of an attestation, a
    payroll record, a certificate): they checked it against its origin and vouch for what it states.

    The outcome rules weigh a fact by who supplied it, so a confirmation is a fact of its own: new evidence of
    the same kind and the same facts, whose source is staff, naming the document it confirms
    (``facts["confirms_evidence"]``). The document itself is never changed. Staff only; once a document;
    never a confirmation of staff's own evidence. Announced after commit, as any evidence is.
    """
    if confirmed_by is None or not confirmed_by.is_program_staff:
        raise PermissionDenied("Only program staff may confirm a document.")
    document = Evidence.objects.select_for_update().select_related("worker").get(pk=evidence.pk)
    if document.source == Source.STAFF:
        raise ValidationError({"evidence": "This document was supplied by program staff: there is nothing to confirm."})
    if document.kind == EvidenceKind.WORKER_SURVEY:
        raise ValidationError({"evidence": "A worker's own answers are their voice: staff do not confirm them."})
    already = Evidence.objects.filter(
        worker_id=document.worker_id, source=Source.STAFF, **{f"facts__{CONFIRMS}": document.pk}
    )
    if already.exists():
        raise ValidationError({"evidence": "Program staff already confirmed this document."})
    if len(note) > 300:
        raise ValidationError({"note": "Ensure this field has no more than 300 characters."})
    name = mask_documents_in_text(document.file.name.rsplit("/", 1)[-1] if document.file else document.reference)
    with translation.override(settings.LANGUAGE_CODE):  # a stored description, in the platform's language
        kind = str(document.get_kind_display()).lower()
    return evidence_add(
        worker=document.worker,
        kind=document.kind,
        uploaded_by=confirmed_by,
        reference=f"Confirms evidence {document.pk}: {name}"[:300],
        description=(mask_documents_in_text(note.strip()) or f"Program staff confirmed the {kind}")[:300],
        facts={**(document.facts if isinstance(document.facts, dict) else {}), CONFIRMS: document.pk},
        mask_numbers=False,
    )


# --- Employment and training results, with who recorded them ------------------------------------------


@transaction.atomic
def employment_save(*, employment: Employment, recorded_by: User | None) -> Employment:
    """Record an employment, or a change to it (its end and separation too), as ``recorded_by``: who records
    it is its source (the employer, staff…), which the outcome rules weigh. Announced after commit."""
    today = timezone.localdate()
    for name in ("start_date", "end_date"):
        day = getattr(employment, name)
        if day is not None and day > today:
            raise ValidationError({name: "Record an employment as it happened: this date is in the future."})
        if day is not None and day.year < EARLIEST_YEAR:
            raise ValidationError({name: "No pilot employment started before 2000: check the year."})
    if employment.end_date is not None and employment.end_date < employment.start_date:
        raise ValidationError({"end_date": "An employment cannot end before it started."})
    if employment.separation_reason and employment.end_date is None:
        raise ValidationError({"end_date": "A separation needs the day the employment ended."})
    with acting_as(recorded_by, action="employment_save"):
        employment.source, employment.source_organisation_id = source_of(recorded_by)
        employment.recorded_by = recorded_by
        employment.note = mask_documents_in_text(employment.note)
        employment.full_clean()
        employment.save()
    worker_facts_changed_on_commit(sender=Employment, worker_ids=[employment.worker_id])
    return employment


@transaction.atomic
def training_enrollment_save(*, enrollment: TrainingEnrollment, recorded_by: User | None) -> TrainingEnrollment:
    """Record a training enrolment; once it has a result (passed or not), ``recorded_by`` is the result's
    source: the assessor, staff, or the provider itself. Announced after commit."""
    if enrollment.passed is not None:
        enrollment.result_source, enrollment.result_organisation_id = source_of(recorded_by)
    enrollment.full_clean()
    enrollment.save()
    worker_facts_changed_on_commit(sender=TrainingEnrollment, worker_ids=[enrollment.worker_id])
    return enrollment


# --- Fees the worker paid in recruitment ---------------------------------------------------------------


@transaction.atomic
def fee_report_record(
    *,
    worker: Worker,
    category: str,
    amount: Decimal,
    currency: str,
    source: str,
    reported_by: User | None,
    paid_to: str = "",
    paid_on: datetime.date | None = None,
    recovered_by_wage_deduction: bool = False,
    note: str = "",
    mask_numbers: bool = True,
) -> FeeReport:
    """Record a fee the worker paid to be recruited.

    The pilots are zero-fee, so a fee above zero is a finding, announced once this commits: the financing
    layer reverses a verified ``ZERO_FEE`` outcome of this worker, and what it was paid comes back through
    the schedule (a clawback). Document-number-shaped runs in ``note`` and ``paid_to`` are masked on the way
    in, as ``evidence_add`` masks them.
    """
    if mask_numbers:
        note, paid_to = mask_documents_in_text(note), mask_documents_in_text(paid_to)
    with acting_as(reported_by, action="fee_report_record"):
        report = FeeReport(
            worker=worker,
            recruiter_id=worker.recruiter_id,
            category=category,
            amount=amount,
            currency=currency,
            source=source,
            reported_by=reported_by,
            paid_to=paid_to,
            paid_on=paid_on,
            recovered_by_wage_deduction=recovered_by_wage_deduction,
            note=note,
            source_organisation_id=source_of(reported_by)[1],
        )
        report.full_clean()
        report.save()
    if amount > 0:
        # A finding: the financing layer reverses a verified ``ZERO_FEE`` outcome of this worker.
        worker_facts_changed_on_commit(sender=FeeReport, worker_ids=[worker.pk])
    return report


@transaction.atomic
def fee_declaration_record(*, worker: Worker, declared_by: User | None, note: str = "") -> FeeDeclaration:
    """The worker's recruiter declares that it charged the worker no fee or related cost; once per recruiter.

    A second declaration answers with the first. Announced after commit: a ``ZERO_FEE`` outcome counts the
    declaration beside the worker's own answer and the employer's payroll.
    """
    with acting_as(declared_by, action="fee_declaration_record"):
        declaration, created = FeeDeclaration.objects.get_or_create(
            worker=worker,
            recruiter_id=worker.recruiter_id,
            defaults={"declared_by": declared_by, "note": mask_documents_in_text(note)},
        )
    if created:
        worker_facts_changed_on_commit(sender=FeeDeclaration, worker_ids=[worker.pk])
    return declaration


# --- Registration with duplicate detection, and edits of a worker's personal data ------------------

#: What ``worker_update`` never changes: the journey moves through events, and a worker stays with the
#: recruiter and pilot they were registered for.
NOT_EDITABLE = frozenset(
    {"recruiter", "recruiter_id", "pilot", "pilot_id", "current_stage", "season", "stage_changed_on"}
)


class DuplicateWorker(Exception):
    """The recruiter already registered this person: ``existing_id`` is their worker, ``reason`` how they match."""

    def __init__(self, *, existing_id: int, reason: str) -> None:
        self.existing_id = existing_id
        self.reason = reason
        super().__init__(f"This worker is already registered (worker {existing_id}).")


def worker_matches(
    *,
    given_names: str,
    family_names: str,
    date_of_birth: datetime.date,
    nationality: str,
    identity_document_country: str = "",
    identity_document_number: str = "",
    exclude_id: int | None = None,
) -> list[tuple[Worker, str]]:
    """Workers who may be the same person: the same identity document (by its keyed hash), or the same
    names (ignoring case), date of birth and nationality. Each with the ``DuplicateReason``, oldest first."""
    by_document = Q(pk__in=[])
    document_hash = ""
    if identity_document_number.strip():
        document_hash = identity_document_hash(
            country=identity_document_country or nationality, number=identity_document_number.strip()
        )
        by_document = Q(identity_document_hash=document_hash)
    by_name = Q(
        given_names__iexact=given_names.strip(),
        family_names__iexact=family_names.strip(),
        # The date is encrypted: its keyed hash is compared, and no row is decrypted to find a match.
        date_of_birth_hash=birth_date_hash(date_of_birth) or "-",
        nationality=nationality,
    )
    candidates = Worker.objects.filter(by_document | by_name).order_by("id")
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    return [
        (
            worker,
            DuplicateReason.IDENTITY_DOCUMENT
            if document_hash and worker.identity_document_hash == document_hash
            else DuplicateReason.NAME_AND_BIRTH,
        )
        for worker in candidates
    ]


def _lock_person(*keys: str) -> None:
    """Serialise registrations of one person (a transaction-scoped advisory lock per key), so that two
    requests registering the same worker at once cannot both miss the other."""
    ids = sorted({int(hashlib.sha256(key.encode()).hexdigest()[:15], 16) for key in keys if key})
    with connection.cursor() as cursor:
        for lock_id in ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


@transaction.atomic
def worker_register_unique(
    *,
    recruiter: Recruiter,
    pilot: Pilot,
    registered_on: datetime.date,
    recorded_by: User | None,
    identity_document_number: str = "",
    identity_document_country: str = "",
    **fields: Any,
) -> Worker:
    """Register a worker unless the recruiter already has them.

    A match among the recruiter's own workers raises ``DuplicateWorker`` and writes nothing. A match
    among another recruiter's workers registers the worker all the same and records a ``DuplicateFlag``
    per match for staff to review.
    """
    person = {
        "given_names": fields.get("given_names", ""),
        "family_names": fields.get("family_names", ""),
        "date_of_birth": fields.get("date_of_birth"),
        "nationality": str(fields.get("nationality", "")),
    }
    document_country = identity_document_country or person["nationality"]
    _lock_person(
        "|".join(str(value).strip().lower() for value in person.values()),
        f"doc|{identity_document_hash(country=document_country, number=identity_document_number.strip())}"
        if identity_document_number.strip()
        else "",
    )
    matches = worker_matches(
        **person,
        identity_document_country=document_country,
        identity_document_number=identity_document_number,
    )
    for match, reason in matches:
        if match.recruiter_id == recruiter.pk:
            raise DuplicateWorker(existing_id=match.pk, reason=reason)
    worker = worker_register(
        recruiter=recruiter,
        pilot=pilot,
        registered_on=registered_on,
        recorded_by=recorded_by,
        identity_document_number=identity_document_number,
        identity_document_country=identity_document_country,
        **fields,
    )
    DuplicateFlag.objects.bulk_create(
        [DuplicateFlag(worker=worker, matches=match, reason=reason) for match, reason in matches]
    )
    return worker


@transaction.atomic
def worker_update(
    *,
    worker: Worker,
    updated_by: User | None,
    identity_document_number: str | None = None,
    identity_document_country: str | None = None,
    **fields: Any,
) -> Worker:
    """Change a worker's personal data; never their recruiter, pilot or stage (see ``NOT_EDITABLE``).

    An edit that changes who the worker is (the identity document, or the names, date of birth or
    nationality) is checked for duplicates as a registration is: a match among the same recruiter's other
    workers raises ``DuplicateWorker`` and nothing is changed; a match among another recruiter's workers
    lets the edit through and records a ``DuplicateFlag`` per match for staff to review. Only the changed
    criterion is checked, so that fixing a typo in the name of a worker whose document already matched
    someone is not refused for it.
    """
    refused = NOT_EDITABLE & set(fields)
    if refused:
        raise ValueError(f"worker_update does not change {', '.join(sorted(refused))}.")
    locked = Worker.objects.select_for_update().get(pk=worker.pk)
    before_person, before_document = _person_key(locked), locked.identity_document_hash
    for name, value in fields.items():
        setattr(locked, name, value)
    if identity_document_number is not None or identity_document_country is not None:
        number = identity_document_number if identity_document_number is not None else locked.identity_document_number
        country = identity_document_country if identity_document_country is not None else ""
        locked.set_identity_document(
            number=number or "", country=country or str(locked.identity_document_country or locked.nationality)
        )
    locked.full_clean()
    matches = _edit_matches(
        worker=locked,
        person_changed=_person_key(locked) != before_person,
        document_changed=bool(locked.identity_document_hash) and locked.identity_document_hash != before_document,
    )
    _refuse_own_duplicate(worker=locked, matches=matches)
    locked.save()
    _flag_duplicates(worker=locked, matches=matches)
    return locked


def worker_edit_check(*, worker: Worker) -> list[tuple[Worker, str]]:
    """Check an edited, not yet saved ``worker`` (the admin's form) as ``worker_update`` checks an edit.

    Raises ``DuplicateWorker`` if the edit makes them match another of their recruiter's workers; returns
    the other recruiters' workers they now match, for ``worker_edit_flag`` once the edit is saved.
    """
    before = Worker.objects.only(
        "given_names", "family_names", "date_of_birth", "nationality", "identity_document_hash"
    ).get(pk=worker.pk)
    matches = _edit_matches(
        worker=worker,
        person_changed=_person_key(worker) != _person_key(before),
        document_changed=bool(worker.identity_document_hash)
        and worker.identity_document_hash != before.identity_document_hash,
    )
    _refuse_own_duplicate(worker=worker, matches=matches)
    return matches


def worker_edit_flag(*, worker: Worker, matches: list[tuple[Worker, str]]) -> None:
    """Flag, for staff review, the other recruiters' workers an edit made ``worker`` match."""
    _flag_duplicates(worker=worker, matches=matches)


def _refuse_own_duplicate(*, worker: Worker, matches: list[tuple[Worker, str]]) -> None:
    for match, reason in matches:
        if match.recruiter_id == worker.recruiter_id:
            raise DuplicateWorker(existing_id=match.pk, reason=reason)


def _flag_duplicates(*, worker: Worker, matches: list[tuple[Worker, str]]) -> None:
    DuplicateFlag.objects.bulk_create(
        [DuplicateFlag(worker=worker, matches=match, reason=reason) for match, reason in matches],
        ignore_conflicts=True,  # an edit back and forth does not flag the same pair twice
    )


def _person_key(worker: Worker) -> tuple[str, str, Any, str]:
    """What the names + date of birth + nationality criterion compares (names ignoring case and edges)."""
    return (
        worker.given_names.strip().lower(),
        worker.family_names.strip().lower(),
        worker.date_of_birth,
        str(worker.nationality),
    )


def _edit_matches(*, worker: Worker, person_changed: bool, document_changed: bool) -> list[tuple[Worker, str]]:
    """Other workers who may be the same person as ``worker`` by a criterion the edit changed."""
    if not (person_changed or document_changed):
        return []
    given, family, born, nationality = _person_key(worker)
    _lock_person(
        # The keys of ``worker_register_unique``'s lock: an edit and a registration of one person take turns.
        "|".join(str(value).strip().lower() for value in (given, family, born, nationality)) if person_changed else "",
        f"doc|{worker.identity_document_hash}" if document_changed else "",
    )
    matches = worker_matches(
        given_names=worker.given_names,
        family_names=worker.family_names,
        date_of_birth=worker.date_of_birth,
        nationality=nationality,
        identity_document_country=str(worker.identity_document_country or nationality),
        identity_document_number=(worker.identity_document_number or "") if document_changed else "",
        exclude_id=worker.pk,
    )
    if not person_changed:
        matches = [(match, reason) for match, reason in matches if reason == DuplicateReason.IDENTITY_DOCUMENT]
    return matches


@transaction.atomic
def duplicate_flags_resolve(*, flag_ids: list[int], user: User) -> int:
    """Mark the open flags among ``flag_ids`` as resolved by ``user``; how many were open."""
    return DuplicateFlag.objects.filter(pk__in=flag_ids, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=user
    )


# --- Check-ins: the worker's own voice, by signed link ---------------------------------------------------

#: How long a check-in link works unless it is answered first.
CHECK_IN_DAYS = 21


class CheckInRefused(Exception):  # noqa: N818 - named for what it is, like Django's DoesNotExist
    """A link that opens no check-in: ``reason`` is ``unknown`` (no such link), ``expired`` or ``answered``."""

    def __init__(self, reason: str, check_in: CheckIn | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.check_in = check_in


def check_in_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def check_in_create(
    *, worker: Worker, moment: str, created_by: User | None, days: int = CHECK_IN_DAYS
) -> tuple[CheckIn, str]:
    """A check-in for ``worker`` at ``moment``, and the secret of its link, which is never available again.

    The secret is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is stored. The link
    opens in the worker's home language until they choose another.
    """
    if days < 1 or days > 90:
        raise ValidationError({"days": "A check-in link lasts from 1 to 90 days."})
    if not Worker.objects.filter(contactable(), pk=worker.pk).exists():
        raise ValidationError({"worker": gettext("This worker withdrew their consent: no check-in is sent to them.")})
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    check_in = CheckIn(
        worker=worker,
        moment=moment,
        season=worker.season,
        token_hash=check_in_secret_hash(secret),
        language=home_language(worker),
        created_by=created_by,
        created_at=now,
        expires_at=now + datetime.timedelta(days=days),
    )
    check_in.full_clean()
    check_in.save()
    return check_in, secret


def check_in_open(*, secret: str) -> CheckIn:
    """The check-in a link's secret opens; ``CheckInRefused`` for a link that is forged, expired or answered."""
    check_in = (
        CheckIn.objects.select_related("worker").filter(token_hash=check_in_secret_hash(secret)).first()
        if 20 <= len(secret) <= 100
        else None
    )
    if check_in is None:
        raise CheckInRefused("unknown")
    if not may_contact(check_in.worker):  # consent withdrawn, or data erased: the link opens nothing, as a forged one
        raise CheckInRefused("unknown")
    if check_in.answered_at is not None:
        raise CheckInRefused("answered", check_in)
    if check_in.expires_at <= timezone.now():
        raise CheckInRefused("expired", check_in)
    return check_in


def check_in_language(*, check_in: CheckIn, language: str) -> CheckIn:
    """The worker chose the language of their check-in: it opens in it from now on."""
    if language not in CheckInLanguage.values:
        raise ValidationError({"language": f"'{language}' is not a language of the check-ins."})
    if (check_in.language, check_in.language_chosen) != (language, True):
        check_in.language, check_in.language_chosen = language, True
        check_in.save(update_fields=["language", "language_chosen"])
    return check_in


@transaction.atomic
def check_in_answer(*, check_in: CheckIn, answers: dict[str, Any]) -> CheckIn:
    """Keep a worker's answers (append-only) and make them facts: a fee paid is a ``FeeReport`` from the
    worker; what they say of fees and their job is a survey (``Evidence``, source ``worker``), which the
    outcome rules read. Refused (``CheckInRefused``) when the link was answered meanwhile or expired."""
    locked = CheckIn.objects.select_for_update().select_related("worker").get(pk=check_in.pk)
    if locked.answered_at is not None:
        raise CheckInRefused("answered", locked)
    if locked.expires_at <= timezone.now():
        raise CheckInRefused("expired", locked)
    now = timezone.now()
    if isinstance(answers.get("concern"), str):  # the worker's own words: a document number in them is masked
        answers = {**answers, "concern": mask_documents_in_text(answers["concern"])}
    CheckInAnswer.objects.bulk_create(
        CheckInAnswer(check_in=locked, question=question, value=value, answered_at=now)
        for question, value in answers.items()
    )
    worker = locked.worker
    facts: dict[str, Any] = {"check_in": locked.pk, "moment": locked.moment, "fee_paid": answers["fee_paid"] == "yes"}
    for question, fact in (
        ("still_working", "working"),
        ("passport_own", "passport_in_own_hands"),
        ("documents_held", "documents_held_by_someone_else"),
        ("contract_in_language", "contract_in_own_language"),
    ):
        if question in answers:
            facts[fact] = answers[question] == "yes"
    for question in ("wage_promised", "wage_received", "hours_per_week", "concern"):
        if question in answers:
            facts[question] = answers[question]
    evidence_add(
        worker=worker,
        kind=EvidenceKind.WORKER_SURVEY,
        uploaded_by=None,
        reference=f"Check-in {locked.pk} ({locked.moment})",
        description="The worker's own answers, through their link",
        facts=facts,
        channel=WORKER_LINK,
        mask_numbers=False,
    )
    if facts["fee_paid"]:
        fee_report_record(
            worker=worker,
            category=answers["fee_category"],
            # The worker's rough figure, at the currency's minor unit (their answer itself is kept as given).
            amount=quantize(Decimal(answers["fee_amount"]), answers["fee_currency"]),
            currency=answers["fee_currency"],
            source=FeeSource.WORKER,
            reported_by=None,
            paid_to=mask_documents_in_text(answers.get("fee_paid_to", "")),
            note=f"From the worker's check-in {locked.pk}.",
            mask_numbers=False,
        )
    locked.answered_at = now
    locked.save(update_fields=["answered_at"])
    return locked


# --- Sending check-ins: when they are due, and the outbox that carries their links ------------------------

#: Days after which an unanswered check-in is sent once more (the same link), and the most tries to send.
REMINDER_AFTER_DAYS = 7
MAX_SEND_ATTEMPTS = 5
#: How many days after its day N an after-arrival check-in is still worth sending.
DUE_WINDOW_DAYS = 14


def check_in_link(secret: str) -> str:
    """The address a worker opens: ``LAMP_PUBLIC_URL`` and the check-in's path."""
    return settings.LAMP_PUBLIC_URL.rstrip("/") + reverse("check-in", args=[secret])


def check_in_channels(worker: Worker) -> list[str]:
    """How a worker's check-in reaches them: email and SMS where the worker has them, else the field team."""
    channels = [OutboxChannel.EMAIL] if worker.email else []
    if worker.phone:
        channels.append(OutboxChannel.SMS)
    return channels or [OutboxChannel.FIELD]


@transaction.atomic
def check_in_invite(*, check_in: CheckIn, secret: str, send: bool = True) -> list[OutboxMessage]:
    """Put a check-in's link in the outbox, one message a channel the worker can be reached by; the outbox
    job sends them once this commits (``send=False``: a caller that makes many sends once, at its end)."""
    messages = _to_outbox(check_in=check_in, link=check_in_link(secret), reminder=False)
    if send:
        transaction.on_commit(_send_outbox)
    return messages


def _to_outbox(*, check_in: CheckIn, link: str, reminder: bool) -> list[OutboxMessage]:
    """One message of ``link`` a channel the check-in's worker can be reached by."""
    return OutboxMessage.objects.bulk_create(
        OutboxMessage(check_in=check_in, channel=channel, reminder=reminder, link=link)
        for channel in check_in_channels(check_in.worker)
    )


def _send_outbox() -> None:
    from workers.tasks import outbox_send_task  # tasks call services: imported here, not at the top

    outbox_send_task.delay()


def check_ins_due(*, today: datetime.date | None = None) -> int:
    """Make and send the check-ins that are due, by each pilot's moments; how many were made.

    Before departure: workers whose visa is issued. Day N of a job: workers whose current employment reached
    day N within the last ``DUE_WINDOW_DAYS`` days. A worker gets one check-in a moment a season; one made by
    hand counts too. Safe to run twice.
    """
    today = today or timezone.localdate()
    made = 0
    already = CheckIn.objects.filter(worker=OuterRef("pk"), moment=OuterRef("_moment"), season=OuterRef("season"))
    for pilot in Pilot.objects.exclude(check_in_moments=[]).only("pk", "check_in_moments"):
        for moment in pilot.check_in_moments:
            workers = Worker.objects.filter(contactable(), pilot=pilot)
            if moment == CheckInMoment.PRE_DEPARTURE:
                workers = workers.filter(current_stage=Stage.VISA_ISSUED)
            elif moment in CHECK_IN_DAY:
                day = CHECK_IN_DAY[moment]
                started = (today - datetime.timedelta(days=day + DUE_WINDOW_DAYS), today - datetime.timedelta(days=day))
                jobs = Employment.objects.filter(
                    worker=OuterRef("pk"), start_date__range=started, end_date__isnull=True
                )
                workers = workers.filter(Exists(jobs))
            else:
                continue
            workers = workers.annotate(_moment=Value(moment)).exclude(Exists(already)).order_by("pk")
            for worker in workers.iterator(chunk_size=500):
                with transaction.atomic():
                    check_in, secret = check_in_create(worker=worker, moment=moment, created_by=None)
                    check_in_invite(check_in=check_in, secret=secret, send=False)  # the daily job sends at its end
                made += 1
    return made


def check_in_reminders(*, now: datetime.datetime | None = None) -> int:
    """Put in the outbox once more the links of check-ins left unanswered ``REMINDER_AFTER_DAYS`` days, still
    open and not reminded yet; how many were reminded. The daily job sends the outbox after it."""
    now = now or timezone.now()
    due = (
        CheckIn.objects.filter(
            contactable("worker__"),
            answered_at__isnull=True,
            expires_at__gt=now,
            created_at__lte=now - datetime.timedelta(days=REMINDER_AFTER_DAYS),
        )
        .exclude(messages__reminder=True)
        .filter(messages__reminder=False)
        .distinct()
        .select_related("worker")
    )
    reminded = 0
    for check_in in due:
        first = check_in.messages.filter(reminder=False).order_by("id").first()
        _to_outbox(check_in=check_in, link=first.link, reminder=True)
        reminded += 1
    return reminded


def _message_text(message: OutboxMessage) -> str:
    with translation.override(message.check_in.language):
        if message.reminder:
            text = gettext("Reminder: your check-in is still open. Your answers are private: %(link)s")
        else:
            text = gettext("A few questions about your job. Your answers are private: %(link)s")
    return text % {"link": message.link}


def outbox_send(*, limit: int = 500) -> dict[str, int]:
    """Send what waits in the outbox by email and SMS (the field team's links wait for their list); each
    message once, a failure retried up to ``MAX_SEND_ATTEMPTS`` times. Safe to run in several workers."""
    sent = failed = 0
    with transaction.atomic():
        batch = list(
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=OutboxStatus.PENDING, channel__in=[OutboxChannel.EMAIL, OutboxChannel.SMS])
            .select_related("check_in__worker")
            .order_by("created_at", "id")[:limit]
        )
        for message in batch:
            worker = message.check_in.worker
            if not may_contact(worker):  # consent withdrawn since the message was queued
                message.status = OutboxStatus.CANCELLED
                message.save(update_fields=["status"])
                continue
            try:
                if message.channel == OutboxChannel.EMAIL:
                    with translation.override(message.check_in.language):
                        title = gettext("Your check-in")
                    send_mail(title, _message_text(message), None, [worker.email], fail_silently=False)
                else:
                    send_sms(_message_text(message), settings.SMS_ORIGINATOR, [worker.phone], fail_silently=False)
            except Exception as error:  # noqa: BLE001 - any failure of a mail or SMS gateway is kept and retried
                message.attempts += 1
                message.error = str(error)[:500]
                if message.attempts >= MAX_SEND_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                    failed += 1
                message.save(update_fields=["attempts", "error", "status"])
                continue
            message.attempts += 1
            message.status, message.sent_at, message.error = OutboxStatus.SENT, timezone.now(), ""
            message.save(update_fields=["attempts", "status", "sent_at", "error"])
            sent += 1
    return {"sent": sent, "failed": failed}


@transaction.atomic
def check_in_field_links(*, pilot_id: int | None = None) -> list[list[str]]:
    """The links of open, unanswered check-ins that go through the field team (workers with no email or phone),
    as rows for their list; those not handed over yet are marked sent, now."""
    now = timezone.now()
    messages = (
        OutboxMessage.objects.select_for_update(of=("self",))
        .filter(
            channel=OutboxChannel.FIELD,
            status__in=[OutboxStatus.PENDING, OutboxStatus.SENT],
            check_in__answered_at__isnull=True,
            check_in__expires_at__gt=now,
        )
        .select_related("check_in__worker__pilot")
        .order_by("check_in__worker__pilot__name", "check_in__worker_id", "id")
    )
    if pilot_id is not None:
        messages = messages.filter(check_in__worker__pilot_id=pilot_id)
    rows, handed = [], []
    for message in messages:
        check_in = message.check_in
        worker = check_in.worker
        rows.append(
            [
                str(worker.pk),
                worker.given_names,
                worker.family_names,
                worker.pilot.name,
                check_in.get_moment_display(),
                check_in.language,
                message.link,
                check_in.expires_at.date().isoformat(),
            ]
        )
        if message.status == OutboxStatus.PENDING:
            handed.append(message.pk)
    OutboxMessage.objects.filter(pk__in=handed).update(status=OutboxStatus.SENT, sent_at=now, attempts=1)
    return rows


def outbox_retry(*, message_ids: list[int]) -> int:
    """Put failed messages back in the outbox, their tries counted afresh; how many. Sent ones stay sent."""
    count = OutboxMessage.objects.filter(pk__in=message_ids, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, attempts=0
    )
    if count:
        transaction.on_commit(_send_outbox)
    return count


# --- Personal data on a need-to-know basis ("break the glass") ---------------------------------------------

#: The shortest and the longest reason a reveal accepts.
REVEAL_REASON_MIN = 10
REVEAL_REASON_MAX = 500


def personal_data_may_reveal(*, user: User | None, worker: Worker) -> bool:
    """Who may reveal a worker's personal data: program staff, and the worker's own recruiter (its users and
    API tokens), who registered them. No one else: an employer or a funder never."""
    tenancy = tenancy_of(user)
    if tenancy.staff:
        return True
    return tenancy.recruiter is not None and (
        Recruiter.objects.filter(pk=worker.recruiter_id, organisation_id=tenancy.recruiter).exists()
    )


@transaction.atomic
def personal_data_reveal(
    *, worker: Worker, user: User, fields: Iterable[str], reason: str, channel: str
) -> PersonalDataAccess:
    """Record that ``user`` reads ``fields`` of ``worker`` in full, and why: one ``PersonalDataAccess`` row,
    valid for ``PERSONAL_DATA_REVEAL_MINUTES``. The values themselves are read by ``personal_data_values``.

    Refused with ``PermissionDenied`` for anyone ``personal_data_may_reveal`` refuses, and with a
    ``ValidationError`` naming ``fields`` (none, or one that is not a ``RevealableField``) or ``reason``
    (missing, shorter than ``REVEAL_REASON_MIN`` or longer than ``REVEAL_REASON_MAX`` characters); nothing is
    written then. Document-number-shaped runs in the reason are masked, as in any free text.
    """
    if not personal_data_may_reveal(user=user, worker=worker):
        raise PermissionDenied(gettext("Only program staff and the worker's own recruiter may reveal personal data."))
    errors: dict[str, str] = {}
    wanted = list(dict.fromkeys(str(name) for name in fields))
    unknown = [name for name in wanted if name not in RevealableField.values]
    if unknown:
        errors["fields"] = gettext("“%(field)s” is not a field to reveal; choose among: %(choices)s.") % {
            "field": unknown[0][:40],
            "choices": ", ".join(RevealableField.values),
        }
    elif not wanted:
        errors["fields"] = gettext("Choose at least one field to reveal.")
    too_short = gettext("Say why you need to see it, in at least %(n)d characters.")
    reason, refused = cleaned_reason(reason, shortest=REVEAL_REASON_MIN, longest=REVEAL_REASON_MAX, too_short=too_short)
    if refused is not None:
        errors["reason"] = refused
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    return PersonalDataAccess.objects.create(
        user=user,
        worker_id=worker.pk,
        fields=wanted,
        reason=mask_documents_in_text(reason),
        channel=channel,
        created_at=now,
        expires_at=now + datetime.timedelta(minutes=max(1, settings.PERSONAL_DATA_REVEAL_MINUTES)),
    )


def personal_data_values(
    *, access: PersonalDataAccess, user: User, now: datetime.datetime | None = None
) -> dict[str, str | None]:
    """The values ``access`` grants, read and decrypted now, by field (``None`` for one not recorded; a date of
    birth as ``YYYY-MM-DD``). Nothing (``{}``) once the access has expired, nor for anyone but its own user."""
    moment = now or timezone.now()
    if access.user_id != getattr(user, "pk", None) or not access.is_valid_at(moment):
        return {}
    worker = Worker.objects.only(*access.fields).get(pk=access.worker_id)
    values: dict[str, str | None] = {}
    for name in access.fields:
        value = getattr(worker, name)
        values[name] = value.isoformat() if isinstance(value, datetime.date) else (value or None)
    return values
