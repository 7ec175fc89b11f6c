"""Writes about workers: registration and every move of the journey.

Each function is one transaction, locks the worker it changes, validates with ``full_clean`` and
the journey rules, and is the only writer of ``Worker.current_stage``.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from pilots.models import Pilot, User
from recruitment.models import Recruiter
from workers.journey import JourneyError, check_move
from workers.models import Evidence, JourneyEvent, Worker
from workers.stages import NEW_SEASON_FROM, Stage


@transaction.atomic
def worker_register(
    *,
    recruiter: Recruiter,
    pilot: Pilot,
    registered_on: datetime.date,
    recorded_by: User | None,
    identity_document_number: str = "",
    identity_document_country: str = "",
    **fields: Any,
) -> Worker:
    """Create a worker and the first event of their journey (``registered``)."""
    worker = Worker(recruiter=recruiter, pilot=pilot, current_stage=Stage.REGISTERED, season=1, **fields)
    if identity_document_number:
        worker.set_identity_document(
            number=identity_document_number, country=identity_document_country or str(worker.nationality)
        )
    worker.stage_changed_on = registered_on
    worker.full_clean()
    worker.save()
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
    return event


def _check_date(*, worker: Worker, stage: str, occurred_on: datetime.date) -> None:
    if occurred_on > timezone.localdate():
        raise JourneyError(current=worker.current_stage, requested=stage, message=f"{occurred_on} is in the future.")
    if worker.stage_changed_on and occurred_on < worker.stage_changed_on:
        raise JourneyError(
            current=worker.current_stage,
            requested=stage,
            message=f"{occurred_on} is before the current stage '{worker.current_stage}' "
            f"began ({worker.stage_changed_on}).",
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
        note=note,
        is_override=bool(override_reason),
        override_reason=override_reason,
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
) -> Evidence:
    """Keep a piece of evidence about a worker (a file, or where it is kept), with the SHA-256 of the file.

    New evidence may settle a pending outcome claim, so the worker's contracts re-run automatic
    verification once this commits.
    """
    evidence = Evidence(
        worker=worker,
        kind=kind,
        reference=reference,
        description=description,
        facts=facts or {},
        uploaded_by=uploaded_by,
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
    from financing.services import verification_on_commit  # financing builds on workers, not the reverse

    verification_on_commit(worker_id=worker.pk)
    return evidence
