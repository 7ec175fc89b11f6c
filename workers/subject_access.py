"""Subject access: everything the platform holds about one worker, in their language, as JSON and as a PDF.

``worker_export`` gathers it (the worker's own fields in full, their consents, journey, employment, training,
evidence, fees, check-ins and answers, messages, the outcomes claimed for them and who read their personal
data); ``worker_export_pdf`` lays the same out as a readable document, in a Unicode font shipped with the
code (``lamp/static/vendor/dejavu``). Each export is one row of the worker's access log
(``PersonalDataAccess``, every revealable field): staff only, ``subject_access_may_export``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext

from lamp.tenancy import tenancy_of
from pilots.models import User
from workers.checkins import HOME_LANGUAGE
from workers.models import (
    CheckIn,
    CheckInLanguage,
    Consent,
    Employment,
    Evidence,
    FeeDeclaration,
    FeeReport,
    JourneyEvent,
    OutboxMessage,
    PersonalDataAccess,
    RevealableField,
    TrainingEnrollment,
    Worker,
)

#: The formats an export is made in.
JSON, PDF = "json", "pdf"
#: The countries whose workers read Spanish (the pilots' Latin American corridors); others read English unless
#: ``workers.checkins.HOME_LANGUAGE`` says otherwise (Tagalog from the Philippines).
SPANISH_SPEAKING = frozenset("AR BO CL CO CR CU DO EC ES GQ GT HN MX NI PA PE PR PY SV UY VE".split())
FONT_DIR = Path(settings.BASE_DIR) / "lamp" / "static" / "vendor" / "dejavu"


def worker_language(worker: Worker) -> str:
    """The language to write to ``worker`` in: the one they last chose on a check-in; else by nationality
    (Spanish, Tagalog or English); English when nothing says."""
    chosen = (
        CheckIn.objects.filter(worker=worker, language_chosen=True)
        .order_by("-created_at", "-id")
        .values_list("language", flat=True)
        .first()
    )
    if chosen in CheckInLanguage.values:
        return chosen
    country = str(worker.nationality or "")
    if country in HOME_LANGUAGE:
        return HOME_LANGUAGE[country]
    return CheckInLanguage.SPANISH if country in SPANISH_SPEAKING else CheckInLanguage.ENGLISH


def subject_access_may_export(user: User | None) -> bool:
    return user is not None and tenancy_of(user).staff


def subject_access_log(*, worker: Worker, user: User, channel: str, export_format: str) -> PersonalDataAccess:
    """The access-log row of one export: every revealable field, read once by ``user`` now."""
    if not subject_access_may_export(user):
        raise PermissionDenied(gettext("Only program staff export a worker's data."))
    now = timezone.now()
    return PersonalDataAccess.objects.create(
        user=user,
        worker_id=worker.pk,
        fields=list(RevealableField.values),
        reason=f"Subject access export ({export_format.upper()})",
        channel=channel,
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=1),  # one reading, at once: it reveals nothing later
    )


def _value(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def _choice(instance: models.Model, name: str) -> dict[str, Any]:
    """A choice as its code and its words in the active language."""
    return {name: getattr(instance, name), f"{name}_label": str(getattr(instance, f"get_{name}_display")())}


def worker_export(*, worker: Worker) -> dict[str, Any]:
    """Everything held about ``worker``, in their language (``language``); keys are the API's names."""
    worker = Worker.objects.select_related("pilot", "recruiter__organisation").get(pk=worker.pk)
    language = worker_language(worker)
    with translation.override(language):
        return {
            "language": language,
            "exported_at": timezone.now().isoformat(),
            "worker": _worker_part(worker),
            "consents": [
                {
                    "text_version": c.text_version,
                    **_choice(c, "channel"),
                    "given_at": _value(c.given_at),
                    "withdrawn_at": _value(c.withdrawn_at),
                    "withdrawal_channel": c.withdrawal_channel,
                }
                for c in Consent.objects.filter(worker=worker).order_by("given_at", "id")
            ],
            "journey": [
                {
                    "season": e.season,
                    **_choice(e, "stage"),
                    "occurred_on": _value(e.occurred_on),
                    "pilot": e.pilot.name,
                    "note": e.note,
                    "override_reason": e.override_reason,
                }
                for e in JourneyEvent.objects.filter(worker=worker)
                .select_related("pilot")
                .order_by("recorded_at", "id")
            ],
            "employments": [
                {
                    "employer": job.job_opening.employer.name,
                    "job": job.job_opening.title,
                    "start_date": _value(job.start_date),
                    "end_date": _value(job.end_date),
                    "separation_reason": job.separation_reason,
                    "separation_reason_label": str(job.get_separation_reason_display()),
                    "note": job.note,
                    **_choice(job, "source"),
                }
                for job in Employment.objects.filter(worker=worker)
                .select_related("job_opening__employer")
                .order_by("start_date", "id")
            ],
            "training": [
                {
                    "provider": t.provider.name,
                    "course": t.course,
                    "enrolled_on": _value(t.enrolled_on),
                    "completed_on": _value(t.completed_on),
                    "passed": t.passed,
                    "level_achieved": t.level_achieved,
                }
                for t in TrainingEnrollment.objects.filter(worker=worker).select_related("provider").order_by("id")
            ],
            "evidence": [
                {
                    **_choice(d, "kind"),
                    "file": d.file.name.rsplit("/", 1)[-1] if d.file else "",
                    "reference": d.reference,
                    "description": d.description,
                    "facts": d.facts,
                    "uploaded_at": _value(d.uploaded_at),
                    **_choice(d, "source"),
                }
                for d in Evidence.objects.filter(worker=worker).order_by("uploaded_at", "id")
            ],
            "fee_reports": [
                {
                    **_choice(r, "category"),
                    "amount": _value(r.amount),
                    "currency": r.currency,
                    "paid_to": r.paid_to,
                    "paid_on": _value(r.paid_on),
                    **_choice(r, "source"),
                    "reported_at": _value(r.reported_at),
                    "note": r.note,
                }
                for r in FeeReport.objects.filter(worker=worker).order_by("reported_at", "id")
            ],
            "fee_declarations": [
                {"recruiter": str(d.recruiter), "declared_at": _value(d.declared_at), "note": d.note}
                for d in FeeDeclaration.objects.filter(worker=worker).select_related("recruiter").order_by("id")
            ],
            "check_ins": [
                {
                    **_choice(c, "moment"),
                    "season": c.season,
                    "language": c.language,
                    "created_at": _value(c.created_at),
                    "answered_at": _value(c.answered_at),
                    "answers": {a.question: a.value for a in c.answers.all()},
                }
                for c in CheckIn.objects.filter(worker=worker).prefetch_related("answers").order_by("created_at", "id")
            ],
            "messages": [
                {**_choice(m, "channel"), **_choice(m, "status"), "created_at": _value(m.created_at)}
                for m in OutboxMessage.objects.filter(check_in__worker=worker).order_by("created_at", "id")
            ],
            # The outcomes claimed for the worker (the financing app's claims, through the relation it declares).
            "outcomes_claimed": [
                {
                    "outcome": claim.metric.name,
                    **_choice(claim, "status"),
                    "achieved_on": _value(claim.achieved_on),
                    "verified_on": _value(claim.verified_on),
                }
                for claim in worker.claims.select_related("metric").order_by("achieved_on", "id")
            ],
            "access_log": [
                {
                    "at": _value(a.created_at),
                    "by": str(a.user),
                    "fields": [str(label) for label in a.field_labels],
                    "reason": a.reason,
                    **_choice(a, "channel"),
                }
                for a in PersonalDataAccess.objects.filter(worker=worker).select_related("user").order_by("created_at")
            ],
        }


def _worker_part(worker: Worker) -> dict[str, Any]:
    return {
        "id": worker.pk,
        "given_names": worker.given_names,
        "family_names": worker.family_names,
        "date_of_birth": _value(worker.date_of_birth),
        "birth_year": worker.birth_year,
        **_choice(worker, "gender"),
        "nationality": str(worker.nationality),
        "nationality_label": str(worker.nationality.name),
        "phone": worker.phone or "",
        "email": worker.email,
        **_choice(worker, "identity_document_type"),
        "identity_document_country": str(worker.identity_document_country or ""),
        "identity_document_number": worker.identity_document_number or "",
        "language_levels": worker.language_levels,
        "consent_given_at": _value(worker.consent_given_at),
        "consent_withdrawn_at": _value(worker.consent_withdrawn_at),
        "erased_at": _value(worker.erased_at),
        "pilot": worker.pilot.name,
        "recruiter": str(worker.recruiter),
        **_choice(worker, "current_stage"),
        "season": worker.season,
        "created_at": _value(worker.created_at),
    }


# --- The PDF ------------------------------------------------------------------------------------------------


def _section_titles() -> dict[str, str]:
    return {
        "worker": gettext("Personal details"),
        "consents": gettext("Consent"),
        "journey": gettext("Journey"),
        "employments": gettext("Employment"),
        "training": gettext("Training"),
        "evidence": gettext("Evidence"),
        "fee_reports": gettext("Fees reported"),
        "fee_declarations": gettext("Declarations of no fee"),
        "check_ins": gettext("Check-ins"),
        "messages": gettext("Messages"),
        "outcomes_claimed": gettext("Outcomes claimed"),
        "access_log": gettext("Who read your personal data"),
    }


def _words(key: str) -> str:
    """A key of the export as a person reads it: ``date_of_birth`` → ``Date of birth`` (translated labels of
    the worker's fields where the model has them)."""
    try:
        return str(Worker._meta.get_field(key).verbose_name).capitalize()
    except FieldDoesNotExist:
        return key.replace("_", " ").capitalize()


def _text(value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def worker_export_pdf(*, worker: Worker, data: dict[str, Any] | None = None) -> bytes:
    """The export of ``worker`` (``worker_export``, or ``data`` already made) as a PDF, in their language."""
    from fpdf import FPDF  # the PDF library is needed by this export only

    data = data or worker_export(worker=worker)
    with translation.override(data["language"]):
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        pdf.set_title(gettext("Your data held by the pilot platform"))
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 16)
        pdf.multi_cell(0, 9, gettext("Your data held by the pilot platform"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        exported = gettext("Exported on %(day)s for worker %(id)s.") % {
            "day": data["exported_at"][:10],
            "id": data["worker"]["id"],
        }
        pdf.multi_cell(0, 5, exported, new_x="LMARGIN", new_y="NEXT")
        for key, title in _section_titles().items():
            part = data.get(key)
            pdf.ln(3)
            pdf.set_font("DejaVu", "B", 12)
            pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 9)
            rows = [part] if isinstance(part, dict) else (part or [])
            if not rows:
                pdf.multi_cell(0, 5, gettext("Nothing recorded."), new_x="LMARGIN", new_y="NEXT")
            for row in rows:
                for name, value in row.items():
                    if name.endswith("_label"):
                        continue
                    shown = row.get(f"{name}_label") or value
                    pdf.multi_cell(0, 5, f"{_words(name)}: {_text(shown)}", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
        return bytes(pdf.output())
