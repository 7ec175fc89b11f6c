"""Admin for workers, their journey, employment, training, evidence and the fees they paid.

Personal data stays masked, in lists and on a worker's page alike: the identity document number, date of birth,
phone and e-mail are never shown in clear, only replaced (a reveal on the dashboard shows them, logged). The
access log of those reveals is read here, for every worker, and never changed.
Journey moves and registrations go through ``workers.services``: the admin never writes a stage itself.
"""

from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_countries.filters import CountryFilter

from lamp.admin_utils import CurrentUserInitialMixin, ReadOnlyTabularInline, adopt_saved
from pilots.models import User
from recruitment.admin import RecruiterListFilter
from workers.erasure import CONFIRMATION, REASON_MAX, ErasureRefused, worker_erase
from workers.journey import JourneyError, check_date, check_move
from workers.models import (
    CheckIn,
    CheckInAnswer,
    Consent,
    DuplicateFlag,
    DuplicateReason,
    Employment,
    Evidence,
    FeeDeclaration,
    FeeReport,
    JourneyEvent,
    OutboxMessage,
    PersonalDataAccess,
    RetentionReport,
    TrainingEnrollment,
    Worker,
    WorkerErasure,
)
from workers.selectors import identity_document_hashes
from workers.services import (
    DuplicateWorker,
    check_in_create,
    duplicate_flags_resolve,
    employment_save,
    evidence_add,
    journey_move,
    outbox_retry,
    training_enrollment_save,
    worker_edit_check,
    worker_edit_flag,
    worker_register,
)

PERSON_FIELDS = ("given_names", "family_names", "date_of_birth", "gender", "nationality", "phone", "email")
#: A registered worker's person fields: the personal data masked, each with a field that replaces it.
CHANGE_PERSON_FIELDS = (
    "given_names",
    "family_names",
    "date_of_birth_masked",
    "new_date_of_birth",
    "gender",
    "nationality",
    "phone_masked",
    "new_phone",
    "email_masked",
    "new_email",
)
# Fields of a new worker that the registration service takes as they are.
REGISTRATION_FIELDS = (*PERSON_FIELDS, "identity_document_type", "language_levels", "consent_given_at")


class WorkerForm(forms.ModelForm):
    """The worker form without the document number in clear: a new number replaces it, a blank keeps it."""

    new_identity_document_number = forms.CharField(
        label="Identity document number (leave blank to keep)",
        required=False,
        max_length=60,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Typed numbers are stored encrypted and never shown again, only masked. "
        "Without an issuing country, the worker's nationality is used.",
    )
    # A registered worker's date of birth, phone and e-mail are shown masked and replaced by these (blank keeps).
    new_date_of_birth = forms.DateField(
        label="New date of birth (leave blank to keep)", required=False, widget=AdminDateWidget
    )
    new_phone = forms.CharField(
        label="New phone (leave blank to keep)", required=False, max_length=40, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip
    new_email = forms.EmailField(label="New email (leave blank to keep)", required=False, max_length=254)

    class Meta:
        model = Worker
        # Never ``identity_document_number``: it would be rendered in clear.
        fields = (*REGISTRATION_FIELDS, "identity_document_country", "pilot", "recruiter")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is not None:
            for name in ("date_of_birth", "phone", "email"):
                if cleaned.get(f"new_{name}"):
                    setattr(self.instance, name, cleaned[f"new_{name}"])
        number = cleaned.get("new_identity_document_number", "")
        existing = self.instance.identity_document_number
        country_changed = "identity_document_country" in self.changed_data
        if number or (existing and country_changed):
            # The lookup hash is keyed by the issuing country: a new country re-hashes the kept number.
            country = cleaned.get("identity_document_country") or cleaned.get("nationality")
            if not country:
                self.add_error("identity_document_country", "Say which country issued the document.")
            else:
                cleaned["identity_document_country"] = country  # saved with the number it keys
                self.instance.set_identity_document(number=number or existing, country=str(country))
        return cleaned

    def _post_clean(self) -> None:
        """An edit is checked for duplicates as the API's edits are (``worker_edit_check``): the same
        recruiter's duplicate is refused here; another recruiter's is flagged once the edit is saved."""
        super()._post_clean()
        self.duplicate_matches: list[tuple[Worker, str]] = []
        if self.instance.pk is None or self.errors:
            return
        try:
            self.duplicate_matches = worker_edit_check(worker=self.instance)
        except DuplicateWorker as duplicate:
            self.add_error(
                None,
                f"With these changes this worker would be the same person as worker {duplicate.existing_id} of the "
                f"same recruiter ({DuplicateReason(duplicate.reason).label.lower()}). Nothing was saved.",
            )


class WorkerAddForm(WorkerForm):
    registered_on = forms.DateField(
        initial=timezone.localdate,
        widget=AdminDateWidget,
        help_text="The day the worker registered: the first event of their journey.",
    )


class JourneyEventInline(ReadOnlyTabularInline):
    """The append-only journey: shown, never edited here (moves are added as journey events)."""

    model = JourneyEvent
    fields = ("season", "stage", "occurred_on", "is_override", "override_reason", "note", "recorded_by", "recorded_at")
    ordering = ("recorded_at", "id")
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[JourneyEvent]:
        return super().get_queryset(request).select_related("recorded_by")


class EmploymentInline(admin.TabularInline):
    model = Employment
    extra = 0
    autocomplete_fields = ("job_opening",)
    fields = ("job_opening", "start_date", "end_date", "separation_reason", "note", "source")
    readonly_fields = ("source",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Employment]:
        return super().get_queryset(request).select_related("worker", "job_opening__employer")


class TrainingEnrollmentInline(admin.TabularInline):
    model = TrainingEnrollment
    extra = 0
    autocomplete_fields = ("provider", "certificate")
    fields = ("course", "provider", "enrolled_on", "completed_on", "passed", "level_achieved", "certificate")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainingEnrollment]:
        return super().get_queryset(request).select_related("worker")


class EvidenceInline(ReadOnlyTabularInline):
    model = Evidence
    fields = ("kind", "reference", "file", "description", "source", "uploaded_by", "uploaded_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Evidence]:
        return super().get_queryset(request).select_related("worker", "uploaded_by")


class ErasureForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=REASON_MAX, help_text="Why: kept on the erasure's record."
    )
    confirmation = forms.CharField(help_text=f"Type {CONFIRMATION} to confirm.")

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"].strip()
        if value != CONFIRMATION:
            raise forms.ValidationError(f"Type {CONFIRMATION} to confirm.")
        return value


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    form = WorkerForm
    add_form = WorkerAddForm
    list_display = (
        "family_names",
        "given_names",
        "identity_document_masked",
        "phone_masked",
        "date_of_birth_masked",
        "nationality",
        "pilot",
        "recruiter",
        "current_stage",
        "season",
        "stage_changed_on",
    )
    list_display_links = ("family_names", "given_names")
    list_filter = (
        "current_stage",
        "pilot",
        ("nationality", CountryFilter),
        "gender",
        ("recruiter", RecruiterListFilter),
    )
    list_select_related = ("pilot", "recruiter__organisation")
    search_fields = ("given_names", "family_names", "email")
    search_help_text = (
        "Search by name or email, or by exact identity document number (optionally with its country: GT:P12345678)."
    )
    ordering = ("family_names", "given_names", "id")
    date_hierarchy = "created_at"
    autocomplete_fields = ("pilot", "recruiter")
    # ``financing.admin`` adds the worker's outcome claims after these.
    inlines = (JourneyEventInline, EmploymentInline, TrainingEnrollmentInline, EvidenceInline)
    actions = ("erase_personal_data",)
    fieldsets = (
        ("Person", {"fields": CHANGE_PERSON_FIELDS}),
        (
            "Identity document",
            {
                "fields": (
                    "identity_document_type",
                    "identity_document_country",
                    "identity_document_masked",
                    "new_identity_document_number",
                )
            },
        ),
        ("Languages and consent", {"fields": ("language_levels", "consent_given_at")}),
        (
            "Pilot and journey",
            {"fields": ("pilot", "recruiter", "current_stage", "season", "stage_changed_on", "move")},
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    add_fieldsets = (
        ("Person", {"fields": PERSON_FIELDS}),
        (
            "Identity document",
            {"fields": ("identity_document_type", "identity_document_country", "new_identity_document_number")},
        ),
        ("Languages and consent", {"fields": ("language_levels", "consent_given_at")}),
        ("Pilot", {"fields": ("pilot", "recruiter", "registered_on")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Worker | None = None) -> Any:
        return self.fieldsets if obj is not None else self.add_fieldsets

    @admin.action(description="Erase the personal data of the selected workers (on request)")
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet[Worker]) -> TemplateResponse | None:
        """``workers.erasure.worker_erase`` for each selected worker, with the reason asked on a page first."""
        form = ErasureForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return TemplateResponse(
                request,
                "admin/financing/action_form.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": "Erase personal data",
                    "intro": "Names, contacts, identity document, date of birth, free text and files of these workers "
                    "are erased, in the history too; their rows stay as pseudonyms and the money is not touched. "
                    "This cannot be undone.",
                    "form": form,
                    "queryset": queryset,
                    "action": request.POST["action"],
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        erased = 0
        for worker in queryset:
            try:
                worker_erase(worker=worker, user=request.user, reason=form.cleaned_data["reason"])
            except ErasureRefused as refused:
                self.message_user(request, f"Worker {worker.pk}: {refused.message}", messages.ERROR)
            except ValidationError as error:
                self.message_user(request, f"Worker {worker.pk}: {'; '.join(error.messages)}", messages.ERROR)
            else:
                erased += 1
        if erased:
            self.message_user(request, f"Personal data erased: {erased} worker(s).", messages.SUCCESS)
        return None

    def get_form(self, request: HttpRequest, obj: Worker | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Worker | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # The journey service is the only writer of the journey fields (and of the pilot, in a new season).
        return (
            "date_of_birth_masked",
            "phone_masked",
            "email_masked",
            "identity_document_masked",
            "pilot",
            "current_stage",
            "season",
            "stage_changed_on",
            "move",
            "created_at",
            "updated_at",
        )

    def get_inlines(self, request: HttpRequest, obj: Worker | None) -> Any:
        return self.inlines if obj is not None else ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Worker], search_term: str
    ) -> tuple[QuerySet[Worker], bool]:
        matched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        hashes = identity_document_hashes(search_term)
        if hashes:
            matched = matched | queryset.filter(identity_document_hash__in=hashes)
        return matched, may_have_duplicates

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        """Employments and training results saved on the worker's page go through their services, which
        record the signed-in user as their source."""
        if formset.model not in (Employment, TrainingEnrollment):
            super().save_formset(request, form, formset, change)
            return
        for row in formset.save(commit=False):
            if formset.model is Employment:
                employment_save(employment=row, recorded_by=request.user)
            else:
                training_enrollment_save(enrollment=row, recorded_by=request.user)
        for row in formset.deleted_objects:
            row.delete()

    def save_model(self, request: HttpRequest, obj: Worker, form: WorkerForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            worker_edit_flag(worker=obj, matches=form.duplicate_matches)
            return
        # A new worker is registered through the service, which also records the first journey event.
        registered = worker_register(
            recruiter=obj.recruiter,
            pilot=obj.pilot,
            registered_on=form.cleaned_data["registered_on"],
            recorded_by=request.user,
            identity_document_number=obj.identity_document_number,
            identity_document_country=str(obj.identity_document_country),
            **{name: getattr(obj, name) for name in REGISTRATION_FIELDS},
        )
        adopt_saved(obj, registered)

    @admin.display(description="identity document number")
    def identity_document_masked(self, obj: Worker) -> str:
        return obj.identity_document_masked or "—"

    @admin.display(description="phone")
    def phone_masked(self, obj: Worker) -> str:
        return obj.phone_masked or "—"

    @admin.display(description="date of birth", ordering="birth_year")
    def date_of_birth_masked(self, obj: Worker) -> str:
        return obj.date_of_birth_masked or "—"

    @admin.display(description="email")
    def email_masked(self, obj: Worker) -> str:
        return obj.email_masked or "—"

    @admin.display(description="journey move")
    def move(self, obj: Worker) -> str:
        url = reverse("admin:workers_journeyevent_add") + f"?worker={obj.pk}"
        return format_html('<a href="{}">Record the next stage of the journey</a>', url)


class JourneyEventAddForm(forms.ModelForm):
    """A journey move, checked against the journey rules here and recorded by the journey service on save."""

    acting_user: User | None = None  # the signed-in user, set by the admin for each request

    class Meta:
        model = JourneyEvent
        fields = ("worker", "stage", "occurred_on", "evidence", "note", "override_reason")
        help_texts = {
            "override_reason": "Program staff only: record a move the journey rules refuse (a skip, a step back, "
            "a correction). Leave blank for an ordinary move.",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        worker: Worker | None = cleaned.get("worker")
        stage, occurred_on = cleaned.get("stage"), cleaned.get("occurred_on")
        evidence: Evidence | None = cleaned.get("evidence")
        override = cleaned.get("override_reason", "").strip()
        if worker is None or not stage or occurred_on is None:
            return cleaned
        if override:
            if self.acting_user is None or not self.acting_user.is_program_staff:
                self.add_error("override_reason", "Only program staff may override the journey.")
        else:
            try:
                check_move(current=worker.current_stage, requested=stage, required=worker.pilot.required_stages)
            except JourneyError as error:
                raise forms.ValidationError(error.message) from error
            try:
                # The journey service refuses these too; checked here so that they show as form errors.
                check_date(
                    current=worker.current_stage,
                    requested=stage,
                    occurred_on=occurred_on,
                    stage_changed_on=worker.stage_changed_on,
                    today=timezone.localdate(),
                )
            except JourneyError as error:
                self.add_error("occurred_on", error.message)
        if evidence is not None and evidence.worker_id != worker.pk:
            self.add_error("evidence", "This evidence is about another worker.")
        return cleaned


@admin.register(JourneyEvent)
class JourneyEventAdmin(admin.ModelAdmin):
    """Journey events are append-only (a database trigger refuses updates and deletes); new ones go through the
    journey service, which checks the move and updates the worker's current stage."""

    form = JourneyEventAddForm
    list_display = ("worker", "stage", "season", "occurred_on", "pilot", "is_override", "recorded_by", "recorded_at")
    list_filter = ("stage", "is_override", "pilot")
    list_select_related = ("worker", "pilot", "recorded_by")
    search_fields = ("worker__given_names", "worker__family_names", "note", "override_reason")
    ordering = ("-recorded_at", "-id")
    date_hierarchy = "occurred_on"
    autocomplete_fields = ("worker", "evidence")

    def has_change_permission(self, request: HttpRequest, obj: JourneyEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: JourneyEvent | None = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: JourneyEvent | None = None) -> Any:
        if obj is None:
            return JourneyEventAddForm._meta.fields
        return (
            "worker",
            "pilot",
            "season",
            "stage",
            "occurred_on",
            "evidence",
            "note",
            "is_override",
            "override_reason",
            "recorded_by",
            "recorded_at",
        )

    def get_form(
        self, request: HttpRequest, obj: JourneyEvent | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.acting_user = request.user
        return form

    def save_model(self, request: HttpRequest, obj: JourneyEvent, form: JourneyEventAddForm, change: bool) -> None:
        event = journey_move(
            worker=obj.worker,
            stage=obj.stage,
            occurred_on=obj.occurred_on,
            recorded_by=request.user,
            evidence=obj.evidence,
            note=obj.note,
            override_reason=obj.override_reason,
        )
        adopt_saved(obj, event)


@admin.register(Employment)
class EmploymentAdmin(admin.ModelAdmin):
    """Saved through ``employment_save``: whoever saves here is the employment's source (program staff)."""

    list_display = ("worker", "job_opening", "start_date", "end_date", "separation_reason", "source")
    list_filter = ("separation_reason", "source", "job_opening__pilot")
    readonly_fields = ("source", "source_organisation", "recorded_by")
    list_select_related = ("worker", "job_opening__employer")
    search_fields = (
        "worker__given_names",
        "worker__family_names",
        "job_opening__title",
        "job_opening__employer__name",
    )
    ordering = ("-start_date", "-id")
    date_hierarchy = "start_date"
    autocomplete_fields = ("worker", "job_opening")

    def save_model(self, request: HttpRequest, obj: Employment, form: forms.ModelForm, change: bool) -> None:
        employment_save(employment=obj, recorded_by=request.user)


@admin.register(TrainingEnrollment)
class TrainingEnrollmentAdmin(admin.ModelAdmin):
    list_display = ("worker", "course", "provider", "enrolled_on", "completed_on", "passed", "result_source")
    list_filter = ("passed", "provider")
    list_select_related = ("worker", "provider")
    search_fields = ("worker__given_names", "worker__family_names", "course", "provider__name")
    ordering = ("-enrolled_on", "-id")
    date_hierarchy = "enrolled_on"
    autocomplete_fields = ("worker", "provider", "certificate")
    readonly_fields = ("result_source", "result_organisation")

    def save_model(self, request: HttpRequest, obj: TrainingEnrollment, form: forms.ModelForm, change: bool) -> None:
        training_enrollment_save(enrollment=obj, recorded_by=request.user)


@admin.register(Evidence)
class EvidenceAdmin(CurrentUserInitialMixin, admin.ModelAdmin):
    list_display = ("__str__", "reference", "file", "source", "uploaded_by", "uploaded_at")
    list_filter = ("kind", "source")
    list_select_related = ("worker", "uploaded_by")
    search_fields = ("worker__given_names", "worker__family_names", "reference", "description", "sha256")
    ordering = ("-uploaded_at", "-id")
    date_hierarchy = "uploaded_at"
    autocomplete_fields = ("worker", "uploaded_by")
    readonly_fields = ("sha256", "size", "content_type", "source", "source_organisation", "uploaded_by", "uploaded_at")
    fieldsets = (
        (None, {"fields": ("worker", "kind", "description")}),
        ("Where it is", {"fields": ("file", "reference", "sha256", "size", "content_type")}),
        ("What it states", {"fields": ("facts",)}),
        ("Who supplied it", {"fields": ("source", "source_organisation", "uploaded_by", "uploaded_at")}),
    )

    def save_model(self, request: HttpRequest, obj: Evidence, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # New evidence goes through the service: it keeps the file's SHA-256 and re-runs verification.
        # The signed-in user is the uploader, and so the source: nobody uploads in another's name.
        saved = evidence_add(
            worker=obj.worker,
            kind=obj.kind,
            uploaded_by=request.user,
            file=form.cleaned_data.get("file") or None,
            reference=obj.reference,
            description=obj.description,
            facts=obj.facts,
        )
        adopt_saved(obj, saved)


@admin.register(DuplicateFlag)
class DuplicateFlagAdmin(admin.ModelAdmin):
    """Workers registered by one recruiter who look like another recruiter's: staff decide, then resolve."""

    list_display = ("worker_link", "matches_link", "reason", "created_at", "resolved_at", "resolved_by")
    list_filter = ("reason", ("resolved_at", admin.EmptyFieldListFilter))
    list_select_related = ("worker__recruiter__organisation", "matches__recruiter__organisation", "resolved_by")
    ordering = ("-created_at", "-id")
    readonly_fields = ("worker", "matches", "reason", "created_at", "resolved_at", "resolved_by")
    actions = ["resolve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # flags come from registration only

    def has_delete_permission(self, request: HttpRequest, obj: DuplicateFlag | None = None) -> bool:
        return False  # resolved, never erased

    @admin.display(description="worker", ordering="worker")
    def worker_link(self, flag: DuplicateFlag) -> str:
        url = reverse("admin:workers_worker_change", args=[flag.worker_id])
        return format_html('<a href="{}">{}</a> ({})', url, flag.worker, flag.worker.recruiter.organisation.name)

    @admin.display(description="may be", ordering="matches")
    def matches_link(self, flag: DuplicateFlag) -> str:
        url = reverse("admin:workers_worker_change", args=[flag.matches_id])
        return format_html('<a href="{}">{}</a> ({})', url, flag.matches, flag.matches.recruiter.organisation.name)

    @admin.action(description="Mark selected flags as resolved")
    def resolve(self, request: HttpRequest, queryset: QuerySet[DuplicateFlag]) -> None:
        resolved = duplicate_flags_resolve(flag_ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(request, f"{resolved} flag(s) resolved.")


@admin.register(FeeReport)
class FeeReportAdmin(CurrentUserInitialMixin, admin.ModelAdmin):
    list_display = ("worker", "recruiter", "category", "amount_with_currency", "paid_on", "source", "reported_at")
    list_filter = ("category", "source", "recovered_by_wage_deduction", ("recruiter", RecruiterListFilter))
    list_select_related = ("worker", "recruiter__organisation")
    search_fields = ("worker__given_names", "worker__family_names", "recruiter__organisation__name", "paid_to")
    ordering = ("-reported_at", "-id")
    date_hierarchy = "reported_at"
    autocomplete_fields = ("worker", "recruiter", "reported_by")
    readonly_fields = ("reported_at",)
    initial_user_fields = ("reported_by",)
    fieldsets = (
        (None, {"fields": ("worker", "recruiter", "source")}),
        (
            "The fee",
            {
                "fields": (
                    "category",
                    "amount",
                    "currency",
                    "paid_to",
                    "paid_on",
                    "recovered_by_wage_deduction",
                    "note",
                )
            },
        ),
        ("Record", {"fields": ("reported_by", "reported_at")}),
    )

    @admin.display(description="amount", ordering="amount")
    def amount_with_currency(self, obj: FeeReport) -> str:
        return obj.amount_display


@admin.register(FeeDeclaration)
class FeeDeclarationAdmin(admin.ModelAdmin):
    """A recruiter's declarations that it charged a worker no fee: made through the API, shown here."""

    list_display = ("worker", "recruiter", "declared_by", "declared_at")
    list_select_related = ("worker", "recruiter__organisation", "declared_by")
    list_filter = (("recruiter", RecruiterListFilter),)
    search_fields = ("worker__given_names", "worker__family_names", "recruiter__organisation__name")
    ordering = ("-declared_at", "-id")
    readonly_fields = ("worker", "recruiter", "declared_by", "declared_at", "note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CheckInAddForm(forms.ModelForm):
    days = forms.IntegerField(min_value=1, max_value=90, initial=21, help_text="Days the link works, unless answered.")

    class Meta:
        model = CheckIn
        fields = ("worker", "moment")


class CheckInAnswerInline(ReadOnlyTabularInline):
    model = CheckInAnswer
    fields = ("question", "value", "answered_at")


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    """Check-ins made by hand: the link (and its QR code, to print) is shown once, after saving; only its hash
    is kept. The worker's answers below are theirs, never edited."""

    list_display = ("worker", "moment", "language", "created_at", "expires_at", "answered_at")
    list_filter = ("moment", "language", ("answered_at", admin.EmptyFieldListFilter))
    list_select_related = ("worker",)
    search_fields = ("worker__given_names", "worker__family_names")
    ordering = ("-created_at", "-id")
    autocomplete_fields = ("worker",)
    inlines = (CheckInAnswerInline,)

    def get_form(self, request: HttpRequest, obj: CheckIn | None = None, **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = CheckInAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: CheckIn | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("worker", "moment", "days")
        return ("worker", "moment", "language", "created_by", "created_at", "expires_at", "answered_at")

    def get_readonly_fields(self, request: HttpRequest, obj: CheckIn | None = None) -> tuple[str, ...]:
        return () if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request: HttpRequest, obj: CheckIn | None) -> Any:
        return self.inlines if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: CheckIn | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> CheckIn:
        check_in, secret = check_in_create(
            worker=form.cleaned_data["worker"],
            moment=form.cleaned_data["moment"],
            created_by=request.user,
            days=form.cleaned_data["days"],
        )
        link = request.build_absolute_uri(reverse("check-in", args=[secret]))
        qr = segno.make(link, error="m").svg_data_uri(scale=4)
        self.message_user(
            request,
            format_html(
                'The link of the check-in for {} is <a href="{}">{}</a>. Copy it or print its QR code now: it '
                'will not be shown again.<br><img src="{}" alt="QR code of the link" width="220">',
                check_in.worker,
                link,
                link,
                qr,
            ),
            messages.SUCCESS,
        )
        return check_in

    def save_model(self, request: HttpRequest, obj: CheckIn, form: forms.ModelForm, change: bool) -> None:
        """Saved by ``check_in_create`` in ``save_form``."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        """A new check-in has nothing related yet."""


@admin.register(CheckInAnswer)
class CheckInAnswerAdmin(admin.ModelAdmin):
    """Every answer workers gave, as they gave it: read here, never added, changed or deleted."""

    list_display = ("check_in", "question", "value", "answered_at")
    list_filter = ("question", "check_in__moment")
    list_select_related = ("check_in__worker",)
    search_fields = ("check_in__worker__given_names", "check_in__worker__family_names", "question")
    ordering = ("-answered_at", "-id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CheckInAnswer | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CheckInAnswer | None = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Check-in links on their way to workers: what was sent, and what failed and why. The link itself is
    never shown here (it opens the worker's check-in); a failed message can be tried again."""

    list_display = ("check_in", "channel", "reminder", "status", "attempts", "error", "created_at", "sent_at")
    list_filter = ("status", "channel", "reminder")
    list_select_related = ("check_in__worker",)
    search_fields = ("check_in__worker__given_names", "check_in__worker__family_names", "error")
    ordering = ("-created_at", "-id")
    fields = ("check_in", "channel", "reminder", "status", "attempts", "error", "created_at", "sent_at")
    readonly_fields = fields
    actions = ("retry",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Try the selected failed messages again")
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox_retry(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} message(s) will be tried again.", messages.SUCCESS)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """The access log of personal data, for every worker: read-only, as ``personal_data_reveal`` wrote it."""

    list_display = ("created_at", "user", "worker_link", "fields_shown", "reason", "channel", "expires_at")
    list_filter = ("channel", "created_at")
    list_select_related = ("user", "worker")
    search_fields = ("reason", "user__username", "worker__family_names", "worker__given_names")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = ("created_at", "user", "worker", "fields", "reason", "channel", "expires_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[PersonalDataAccess]:
        # Names only: the worker's encrypted columns are not read for the log.
        return (
            super()
            .get_queryset(request)
            .defer("worker__phone", "worker__identity_document_number", "worker__date_of_birth")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PersonalDataAccess | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PersonalDataAccess | None = None) -> bool:
        return False

    @admin.display(description="worker", ordering="worker__family_names")
    def worker_link(self, obj: PersonalDataAccess) -> str:
        url = reverse("admin:workers_worker_change", args=[obj.worker_id])
        return format_html('<a href="{}">{}</a>', url, obj.worker)

    @admin.display(description="fields")
    def fields_shown(self, obj: PersonalDataAccess) -> str:
        return ", ".join(obj.field_labels)


@admin.register(WorkerErasure)
class WorkerErasureAdmin(admin.ModelAdmin):
    """The record of each erasure (who, when, why, how many rows): read-only, as ``worker_erase`` wrote it."""

    list_display = ("erased_at", "worker", "trigger", "erased_by", "reason")
    list_filter = ("trigger", "erased_at")
    list_select_related = ("worker", "erased_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WorkerErasure | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WorkerErasure | None = None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """Workers' consents, with the text version and the channel: read-only (``workers.consent`` writes them)."""

    list_display = ("worker", "text_version", "channel", "given_at", "withdrawn_at", "withdrawal_channel")
    list_filter = ("channel", "text_version", "withdrawal_channel")
    list_select_related = ("worker",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Consent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Consent | None = None) -> bool:
        return False


@admin.register(RetentionReport)
class RetentionReportAdmin(admin.ModelAdmin):
    """The retention job's dry runs: who it erases once a report is ``RETENTION_NOTICE_DAYS`` old."""

    list_display = ("made_at", "cutoff", "due")

    @admin.display(description="workers due")
    def due(self, obj: RetentionReport) -> int:
        return len(obj.worker_ids)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RetentionReport | None = None) -> bool:
        return False
