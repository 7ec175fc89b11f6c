"""Staff's actions on a worker's page: move the journey (with an override and its reason), record an
employment and its end, upload evidence, confirm a document, record a fee report, and reveal personal data.

A reveal ("break the glass") is a POST with the fields and a reason: ``workers.services.personal_data_reveal``
writes one row of the worker's access log, and the values are in that answer only (an htmx fragment, or the
page again without JavaScript), never cached (``Cache-Control: no-store``); the page hides them again when the
access expires (``lamp/static/lamp/reveal.js``). The page itself carries masked values only.

Each action is a plain form POST to its own address, calling the one service of ``workers.services`` that
the API and the admin call too: the same rules, the same refusals. A done action redirects back to the page
with a message; a refused one renders the page again (400, or 403 for a rule about who may act) with the
form as it was sent and the service's message under the field it names, and nothing written.

``worker_context`` builds the page's context (the record, its history in words, and one empty or bound form
per action) for the page itself (``programme.views.worker``) and for these views: one query more than the
record and its history, for the job openings of the worker's pilot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from financing.timeline import worker_timeline
from lamp.access import dashboard_page
from lamp.history import page_number
from pilots.models import JobOpening
from pilots.stages import EXITS
from programme.selectors import WorkerPage, worker_page
from workers import services
from workers.consent import consent_current, consent_record, consent_text_version, consent_withdraw
from workers.erasure import CONFIRMATION, REASON_MAX, REASON_MIN, ErasureRefused, worker_erase
from workers.forms import (
    ConfirmEvidenceForm,
    EmploymentForm,
    EvidenceForm,
    FeeReportForm,
    JourneyMoveForm,
    SeparationForm,
)
from workers.journey import JourneyError, next_stages
from workers.models import (
    AccessChannel,
    ConsentChannel,
    Employment,
    EvidenceKind,
    RevealableField,
    Source,
    Worker,
)
from workers.subject_access import JSON, PDF, subject_access_log, worker_export, worker_export_pdf

TEMPLATE = "dashboard/programme/worker.html"
REVEAL_TEMPLATE = "dashboard/programme/_reveal.html"


class RevealForm(forms.Form):
    """Which personal fields to see in full, and why; the rules are ``personal_data_reveal``'s."""

    fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields to reveal"),
        choices=RevealableField.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("Why you need to see them"),
        required=False,
        max_length=services.REVEAL_REASON_MAX,
        widget=forms.Textarea(
            attrs={"rows": 2, "required": True, "minlength": services.REVEAL_REASON_MIN, "autocomplete": "off"}
        ),
        help_text=gettext_lazy("Recorded in the worker's access log with your name."),
    )


class ErasureForm(forms.Form):
    """Why the worker's personal data is erased, and the word typed to confirm it; the rules are ``worker_erase``'s."""

    reason = forms.CharField(
        label=gettext_lazy("Why the data is erased"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "minlength": REASON_MIN, "autocomplete": "off"}),
        help_text=gettext_lazy("Kept on the erasure's record with your name; the erased values are not."),
    )
    confirmation = forms.CharField(
        label=gettext_lazy("Type ERASE to confirm"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"].strip()
        if value != CONFIRMATION:
            raise forms.ValidationError(_("Type ERASE, in capitals, to confirm."))
        return value


class ConsentForm(forms.Form):
    """A consent the worker gave: through which channel, to which version of the text (the current one)."""

    channel = forms.ChoiceField(label=gettext_lazy("How it was given"), choices=ConsentChannel.choices)
    text_version = forms.CharField(
        label=gettext_lazy("Version of the consent text"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("Empty: the current version."),
    )


class ConsentWithdrawForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("How it was withdrawn"), choices=ConsentChannel.choices)


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
        "erase": ErasureForm(),
        "consent": ConsentForm(),
        "withdraw": ConsentWithdrawForm(),
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
        "reveal_form": RevealForm(),
        "reveal_minutes": settings.PERSONAL_DATA_REVEAL_MINUTES,
        "consent": consent_current(worker),
        "consent_version": consent_text_version(),
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


def _form_action(
    request: HttpRequest,
    pk: int,
    *,
    name: str,
    form_class: type[forms.Form],
    act: Callable[[Worker, dict[str, Any]], str],
    anchor: str,
) -> HttpResponse:
    """The shape of a simple action on the worker's page: the form ``name`` bound to the POST, then
    ``act(worker, cleaned_data)`` (a service call that answers the message to show), then back to ``anchor``;
    a bad form or a refused service renders the page again with the errors."""
    page = _page(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _refused(request, page, name=name, form=form)
    try:
        text = act(page.worker, form.cleaned_data)
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, page, name=name, form=form, error=error)
    return _done(request, page.worker, text, anchor)


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
        if not data["override_reason"] and error.field == "stage":  # an override never passes over the calendar
            message += " " + _("Program staff may record it anyway with an override reason.")
        form.add_error(error.field if error.field in form.fields else "stage", message)
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

    def act(worker: Worker, data: dict[str, Any]) -> str:
        report = services.fee_report_record(worker=worker, reported_by=request.user, **data)
        text = _("Fee report recorded: %(category)s, %(amount)s.") % {
            "category": report.get_category_display(),
            "amount": report.amount_display,
        }
        if report.amount > 0:
            text += " " + _("Any fee is a finding: a verified zero-fee outcome of this worker will be reversed.")
        return text

    return _form_action(request, pk, name="fee", form_class=FeeReportForm, act=act, anchor="fees-h")


# --- Personal data, revealed on purpose and on the record ------------------------------------------------------


@never_cache
@require_POST
@dashboard_page()
def personal_data_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal the chosen personal fields of the worker, with a reason: one access row, and the values in this
    answer only. Refused (400 with the form's errors, 403 for who may not) with nothing written."""
    page = _page(request, pk)
    worker = page.worker
    form = RevealForm(request.POST)
    revealed: dict[str, Any] | None = None
    status = 200
    if not form.is_valid():
        status = 400
    else:
        try:
            access = services.personal_data_reveal(
                worker=worker,
                user=request.user,
                fields=form.cleaned_data["fields"],
                reason=form.cleaned_data["reason"],
                channel=AccessChannel.DASHBOARD,
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
            status = 403
        except ValidationError as error:
            _errors_onto(form, error)
            status = 400
        else:
            values = services.personal_data_values(access=access, user=request.user)
            labels = dict(RevealableField.choices)
            revealed = {
                "access": access,
                "rows": [(labels[name], value) for name, value in values.items()],
            }
            form = RevealForm()
    if request.headers.get("HX-Request"):
        context = {"worker": worker, "reveal_form": form, "revealed": revealed}
        context["reveal_minutes"] = settings.PERSONAL_DATA_REVEAL_MINUTES
        response = render(request, REVEAL_TEMPLATE, context, status=status)
        if revealed:
            response["HX-Trigger"] = "access-logged"  # the page's access log reloads itself
        return response
    context = worker_context(request, page)
    context.update(reveal_form=form, revealed=revealed, opened="reveal")
    return render(request, TEMPLATE, context, status=status)


# --- Erasure on request, subject access, consent ----------------------------------------------------------------


@require_POST
@dashboard_page()
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Erase the worker's personal data (``workers.erasure.worker_erase``): a reason, and the word typed to
    confirm. Refused (400 for the form, 409 while a case is open) with nothing written."""
    page = _page(request, pk)
    worker = page.worker
    form = ErasureForm(request.POST)
    if not form.is_valid():
        return _refused(request, page, name="erase", form=form)
    try:
        worker_erase(worker=worker, user=request.user, reason=form.cleaned_data["reason"])
    except ErasureRefused as refused:
        form.add_error(None, refused.message)
        return render(request, TEMPLATE, worker_context(request, page, bound={"erase": form}), status=409)
    except ValidationError as error:
        return _refused(request, page, name="erase", form=form, error=error)
    text = _("The personal data of worker %(id)s was erased; the claims and payments are kept.") % {"id": worker.pk}
    return _done(request, worker, text, "rights-h")


@require_POST
@dashboard_page()
def consent_give(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the worker's consent, with the channel and the text version."""

    def act(worker: Worker, data: dict[str, Any]) -> str:
        consent = consent_record(worker=worker, recorded_by=request.user, **data)
        return _("Consent recorded (text version %(version)s, %(channel)s).") % {
            "version": consent.text_version,
            "channel": consent.get_channel_display().lower(),
        }

    return _form_action(request, pk, name="consent", form_class=ConsentForm, act=act, anchor="rights-h")


@require_POST
@dashboard_page()
def consent_take_back(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the worker withdrew their consent: their check-ins and messages stop."""

    def act(worker: Worker, data: dict[str, Any]) -> str:
        consent_withdraw(worker=worker, withdrawn_by=request.user, channel=data["channel"])
        return _("Consent withdrawn: no more check-ins or messages go to this worker.")

    return _form_action(request, pk, name="withdraw", form_class=ConsentWithdrawForm, act=act, anchor="rights-h")


@never_cache
@require_GET
@dashboard_page()
def export(request: HttpRequest, pk: int, export_format: str) -> HttpResponse:
    """Everything held about the worker, in their language, as a JSON or a PDF download; logged as an access."""
    worker = _page(request, pk).worker
    subject_access_log(worker=worker, user=request.user, channel=AccessChannel.DASHBOARD, export_format=export_format)
    if export_format == PDF:
        response = HttpResponse(worker_export_pdf(worker=worker), content_type="application/pdf")
    else:
        response = JsonResponse(worker_export(worker=worker), json_dumps_params={"ensure_ascii": False, "indent": 2})
    extension = PDF if export_format == PDF else JSON
    response["Content-Disposition"] = f'attachment; filename="worker-{worker.pk}.{extension}"'
    return response
