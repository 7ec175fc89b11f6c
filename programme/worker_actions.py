"""Staff's actions on a worker's page: move the journey (with an override and its reason), record an
employment and its end, upload evidence, confirm a document, record a fee report.

Each action is a plain form POST to its own address, calling the one service of ``workers.services`` that
the API and the admin call too: the same rules, the same refusals. A done action redirects back to the page
with a message; a refused one renders the page again (400, or 403 for a rule about who may act) with the
form as it was sent and the service's message under the field it names, and nothing written.

``worker_context`` builds the page's context (the record, its history in words, and one empty or bound form
per action) for the page itself (``programme.views.worker``) and for these views: one query more than the
record and its history, for the job openings of the worker's pilot.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from financing.timeline import worker_timeline
from lamp.access import dashboard_page
from lamp.history import page_number
from pilots.models import JobOpening
from pilots.stages import EXITS
from programme.selectors import WorkerPage, worker_page
from workers import services
from workers.forms import (
    ConfirmEvidenceForm,
    EmploymentForm,
    EvidenceForm,
    FeeReportForm,
    JourneyMoveForm,
    SeparationForm,
)
from workers.journey import JourneyError, next_stages
from workers.models import Employment, EvidenceKind, Source, Worker

TEMPLATE = "dashboard/programme/worker.html"


def _page(request: HttpRequest, pk: int) -> WorkerPage:
    try:
        return worker_page(user=request.user, pk=pk)
    except Worker.DoesNotExist:
        raise Http404("No such worker.") from None


def _openings(worker: Worker) -> list[JobOpening]:
    return list(
        JobOpening.objects.filter(pilot_id=worker.pilot_id)
        .select_related("employer")
        .order_by("employer__name", "title", "pk")
    )


def worker_context(
    request: HttpRequest,
    page: WorkerPage,
    *,
    bound: dict[str, forms.Form] | None = None,
    separation: tuple[int, SeparationForm] | None = None,
    openings: list[JobOpening] | None = None,
) -> dict[str, Any]:
    """The worker page's context: the record, and a form per action (``bound`` replaces the empty ones by
    name; ``separation`` is the bound end-of-employment form of one employment)."""
    worker = page.worker
    allowed = next_stages(current=worker.current_stage, required=worker.pilot.required_stages)
    openings = _openings(worker) if openings is None else openings
    action_forms: dict[str, forms.Form] = {
        "move": JourneyMoveForm(next_stages=allowed),
        "employment": EmploymentForm(openings=openings),
        "evidence": EvidenceForm(),
        "fee": FeeReportForm(),
        "confirm": ConfirmEvidenceForm(),
    }
    action_forms.update(bound or {})
    confirmed = services.evidence_confirmed_ids(page.evidence)
    for item in page.evidence:
        item.confirmed = item.pk in confirmed
        item.confirmable = (
            item.source != Source.STAFF and item.kind != EvidenceKind.WORKER_SURVEY and item.pk not in confirmed
        )
    for job in page.employments:
        job.end_form = separation[1] if separation and separation[0] == job.pk else None
    return {
        "timeline": worker_timeline(
            worker_id=worker.pk, viewer=request.user, page=page_number(request.GET.get("history"))
        ),
        "nav": "workers",
        "d": page,
        "worker": worker,
        "exits": [stage.value for stage in EXITS],
        "next_stages": allowed,
        "has_openings": bool(openings),
        "forms": action_forms,
        "opened": next(iter(bound), "") if bound else ("separation" if separation else ""),
        "separation_form": SeparationForm(),
    }


def _refused(
    request: HttpRequest,
    page: WorkerPage,
    *,
    name: str,
    form: forms.Form,
    error: ValidationError | PermissionDenied | None = None,
    openings: list[JobOpening] | None = None,
    separation_of: int | None = None,
) -> HttpResponse:
    """The page again with the form as sent and why nothing changed: 403 for who may act, else 400."""
    status = 400
    if isinstance(error, PermissionDenied):
        form.add_error(None, str(error))
        status = 403
    elif isinstance(error, ValidationError):
        _errors_onto(form, error)
    context = (
        worker_context(request, page, separation=(separation_of, form), openings=openings)
        if separation_of is not None
        else worker_context(request, page, bound={name: form}, openings=openings)
    )
    return render(request, TEMPLATE, context, status=status)


def _errors_onto(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal under the field it names (or the form's top when the form has no such field)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _done(request: HttpRequest, worker: Worker, message: str, anchor: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("programme:worker", args=[worker.pk]) + f"#{anchor}")


def _refusal_naming_both(error: JourneyError) -> str:
    """The journey's refusal as the API words it: naming the current and the requested stage."""
    message = error.message
    if f"'{error.current}'" not in message or f"'{error.requested}'" not in message:
        message = f"Cannot move from '{error.current}' to '{error.requested}': {message}"
    return message


# --- The journey ---------------------------------------------------------------------------------------------


@require_POST
@dashboard_page()
def journey_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the worker to a stage: the journey's rules, or a staff override with its reason."""
    page = _page(request, pk)
    worker = page.worker
    allowed = next_stages(current=worker.current_stage, required=worker.pilot.required_stages)
    form = JourneyMoveForm(request.POST, next_stages=allowed)
    if not form.is_valid():
        return _refused(request, page, name="move", form=form)
    data = form.cleaned_data
    try:
        event = services.journey_move(
            worker=worker,
            stage=data["stage"],
            occurred_on=data["occurred_on"],
            recorded_by=request.user,
            note=data["note"],
            override_reason=data["override_reason"],
        )
    except JourneyError as error:
        message = _refusal_naming_both(error)
        if not data["override_reason"]:
            message += " " + _("Program staff may record it anyway with an override reason.")
        form.add_error("stage", message)
        return _refused(request, page, name="move", form=form)
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, page, name="move", form=form, error=error)
    text = _("%(worker)s moved to “%(stage)s” on %(day)s.") % {
        "worker": worker,
        "stage": event.get_stage_display(),
        "day": event.occurred_on.strftime("%d %b %Y"),
    }
    if event.is_override:
        text += " " + _("Recorded as a staff override: %(reason)s") % {"reason": event.override_reason}
    return _done(request, worker, text, "journey-h")


# --- Employment ----------------------------------------------------------------------------------------------


@require_POST
@dashboard_page()
def employment_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a job the worker started in one of the pilot's openings; staff are its source."""
    page = _page(request, pk)
    worker = page.worker
    openings = _openings(worker)
    form = EmploymentForm(request.POST, openings=openings)
    if not form.is_valid():
        return _refused(request, page, name="employment", form=form, openings=openings)
    data = form.cleaned_data
    employment = Employment(
        worker=worker,
        job_opening=form.openings[data["job_opening"]],
        start_date=data["start_date"],
        end_date=data["end_date"],
        separation_reason=data["separation_reason"],
        note=data["note"],
    )
    try:
        services.employment_save(employment=employment, recorded_by=request.user)
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, page, name="employment", form=form, error=error, openings=openings)
    text = _("Employment at %(employer)s from %(day)s recorded.") % {
        "employer": employment.job_opening.employer.name,
        "day": employment.start_date.strftime("%d %b %Y"),
    }
    return _done(request, worker, text, "employment-h")


@require_POST
@dashboard_page()
def employment_end(request: HttpRequest, pk: int, employment_id: int) -> HttpResponse:
    """Record the end of one of the worker's employments and why (a separation)."""
    page = _page(request, pk)
    worker = page.worker
    employment = next((job for job in page.employments if job.pk == employment_id), None)
    if employment is None:
        raise Http404("No such employment of this worker.")
    form = SeparationForm(request.POST)
    if not form.is_valid():
        return _refused(request, page, name="separation", form=form, separation_of=employment_id)
    record = employment
    for name in ("end_date", "separation_reason", "note"):
        if name != "note" or form.cleaned_data["note"]:
            setattr(record, name, form.cleaned_data[name])
    try:
        services.employment_save(employment=record, recorded_by=request.user)
    except (ValidationError, PermissionDenied) as error:
        page = _page(request, pk)  # the record as it is in the database, not as this form changed it
        return _refused(request, page, name="separation", form=form, error=error, separation_of=employment_id)
    text = _("The employment at %(employer)s ended on %(day)s: %(reason)s.") % {
        "employer": record.job_opening.employer.name,
        "day": record.end_date.strftime("%d %b %Y"),
        "reason": record.get_separation_reason_display().lower(),
    }
    return _done(request, worker, text, "employment-h")


# --- Evidence ------------------------------------------------------------------------------------------------


@require_POST
@dashboard_page()
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep a document about the worker (the API's file checks); its source is program staff."""
    page = _page(request, pk)
    worker = page.worker
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, page, name="evidence", form=form)
    data = form.cleaned_data
    try:
        evidence = services.evidence_add(
            worker=worker,
            kind=data["kind"],
            uploaded_by=request.user,
            file=data["file"],
            reference=data["reference"],
            description=data["description"],
        )
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, page, name="evidence", form=form, error=error)
    text = _("%(kind)s kept (%(what)s), supplied by program staff.") % {
        "kind": evidence.get_kind_display(),
        "what": evidence.file.name.rsplit("/", 1)[-1] if evidence.file else evidence.reference,
    }
    return _done(request, worker, text, "evidence-h")


@require_POST
@dashboard_page()
def evidence_confirm(request: HttpRequest, pk: int, evidence_id: int) -> HttpResponse:
    """Staff confirm a document another party supplied: a fact of staff's own, which the rules weigh."""
    page = _page(request, pk)
    worker = page.worker
    document = next((item for item in page.evidence if item.pk == evidence_id), None)
    if document is None:
        raise Http404("No such evidence about this worker.")
    form = ConfirmEvidenceForm(request.POST)
    if not form.is_valid():
        return _refused(request, page, name="confirm", form=form)
    try:
        services.evidence_confirm(evidence=document, confirmed_by=request.user, note=form.cleaned_data["note"])
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, page, name="confirm", form=form, error=error)
    text = _("%(kind)s confirmed by program staff.") % {"kind": document.get_kind_display()}
    return _done(request, worker, text, "evidence-h")


# --- Fees ----------------------------------------------------------------------------------------------------


@require_POST
@dashboard_page()
def fee_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a fee the worker paid; above zero it is a finding, which reverses a verified zero-fee outcome."""
    page = _page(request, pk)
    worker = page.worker
    form = FeeReportForm(request.POST)
    if not form.is_valid():
        return _refused(request, page, name="fee", form=form)
    data = form.cleaned_data
    try:
        report = services.fee_report_record(worker=worker, reported_by=request.user, **data)
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, page, name="fee", form=form, error=error)
    text = _("Fee report recorded: %(category)s, %(amount)s.") % {
        "category": report.get_category_display(),
        "amount": report.amount_display,
    }
    if report.amount > 0:
        text += " " + _("Any fee is a finding: a verified zero-fee outcome of this worker will be reversed.")
    return _done(request, worker, text, "fees-h")
