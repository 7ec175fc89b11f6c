"""Admin for organisations, their users, sectors, pilots, partners and job openings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django_countries.filters import CountryFilter

from lamp.admin_utils import ChoiceArrayMixin
from pilots.models import (
    ApiToken,
    IdempotencyRecord,
    JobOpening,
    Organisation,
    OrganisationKind,
    Pilot,
    PilotPartner,
    Sector,
    User,
)
from pilots.tokens import SECRET_PREFIX, api_token_create, api_token_revoke
from recruitment.models import Recruiter, RecruiterAssignment
from workers.stages import ALWAYS_REQUIRED, PATH


class RecruiterProfileInline(ChoiceArrayMixin, admin.StackedInline):
    model = Recruiter
    can_delete = False
    max_num = 1
    verbose_name = "recruiter profile"
    verbose_name_plural = "recruiter profile"


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "contact_email", "created_at")
    list_filter = ("kind", ("country", CountryFilter))
    search_fields = ("name", "contact_email")
    ordering = ("name",)
    readonly_fields = ("created_at", "updated_at")
    fields = ("name", "kind", "country", "website", "contact_email", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_inlines(self, request: HttpRequest, obj: Organisation | None) -> list[type[admin.StackedInline]]:
        # Only a recruiter organisation has a recruiter profile; it appears once the kind is saved.
        if obj is not None and obj.kind == OrganisationKind.RECRUITER:
            return [RecruiterProfileInline]
        return []


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Role", {"fields": ("role", "organisation")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            "Role",
            {
                "fields": ("role", "organisation"),
                "description": "Partner recruiters and funders act for one organisation and see only its records.",
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "role", "organisation", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active", "groups")
    list_select_related = ("organisation",)
    search_fields = ("username", "first_name", "last_name", "email", "organisation__name")
    autocomplete_fields = ("organisation",)


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}
    ordering = ("name",)


class PilotForm(forms.ModelForm):
    class Meta:
        model = Pilot
        fields = (
            "name",
            "slug",
            "sector",
            "status",
            "description",
            "origin_countries",
            "destination_country",
            "pathway",
            "start_date",
            "end_date",
            "target_cohort_size",
            "required_stages",
        )
        help_texts = {"origin_countries": "The countries workers come from."}

    def clean_required_stages(self) -> list[str]:
        stages = self.cleaned_data["required_stages"]
        missing = [stage.label for stage in PATH if stage in ALWAYS_REQUIRED and stage not in stages]
        if missing:
            raise forms.ValidationError(f"Every pilot requires {', '.join(missing)}: keep them ticked.")
        return stages


class PilotPartnerInline(admin.TabularInline):
    model = PilotPartner
    extra = 0
    autocomplete_fields = ("organisation",)
    fields = ("organisation", "role", "joined_on", "note")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PilotPartner]:
        return super().get_queryset(request).select_related("organisation", "pilot")


class RecruiterAssignmentInline(admin.TabularInline):
    model = RecruiterAssignment
    extra = 0
    autocomplete_fields = ("recruiter",)
    fields = ("recruiter", "quota", "assigned_on")

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecruiterAssignment]:
        return super().get_queryset(request).select_related("recruiter__organisation", "pilot")


class JobOpeningInline(admin.TabularInline):
    model = JobOpening
    extra = 0
    show_change_link = True
    autocomplete_fields = ("employer",)
    fields = (
        "title",
        "employer",
        "positions",
        "wage_amount",
        "wage_currency",
        "wage_period",
        "location",
        "season_start",
        "season_end",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobOpening]:
        return super().get_queryset(request).select_related("employer")


@admin.register(Pilot)
class PilotAdmin(ChoiceArrayMixin, admin.ModelAdmin):
    form = PilotForm
    list_display = ("name", "sector", "corridor", "pathway", "status", "start_date", "end_date", "target_cohort_size")
    list_filter = ("status", "sector", ("destination_country", CountryFilter))
    list_select_related = ("sector",)
    search_fields = ("name", "slug", "pathway")
    ordering = ("name",)
    date_hierarchy = "start_date"
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("sector",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "slug", "sector", "status", "description")}),
        ("Corridor", {"fields": ("origin_countries", "destination_country", "pathway")}),
        ("Plan", {"fields": ("start_date", "end_date", "target_cohort_size", "required_stages")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    inlines = (PilotPartnerInline, RecruiterAssignmentInline, JobOpeningInline)


@admin.register(PilotPartner)
class PilotPartnerAdmin(admin.ModelAdmin):
    list_display = ("organisation", "role", "pilot", "joined_on")
    list_filter = ("role", "pilot")
    list_select_related = ("organisation", "pilot")
    search_fields = ("organisation__name", "pilot__name", "note")
    ordering = ("pilot__name", "role", "organisation__name")
    autocomplete_fields = ("pilot", "organisation")


@admin.register(JobOpening)
class JobOpeningAdmin(admin.ModelAdmin):
    list_display = ("title", "employer", "pilot", "positions", "wage", "location", "season_start", "season_end")
    list_filter = ("pilot", "wage_period", ("location_country", CountryFilter))
    list_select_related = ("employer", "pilot")
    search_fields = ("title", "employer__name", "pilot__name", "location")
    ordering = ("-season_start", "title")
    date_hierarchy = "season_start"
    autocomplete_fields = ("pilot", "employer")
    readonly_fields = ("created_at",)

    @admin.display(description="wage", ordering="wage_amount")
    def wage(self, obj: JobOpening) -> str:
        return obj.wage_display


class ApiTokenAddForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        min_value=1, required=False, help_text="Days until the token stops working; empty for no expiry."
    )

    class Meta:
        model = ApiToken
        fields = ("user", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued here through ``api_token_create``, whose secret is shown once, in the message on the
    page after saving; only its hash is stored, and no page shows that either. Revoke instead of deleting:
    a revoked token keeps its record of who used the API until when."""

    list_display = ("token_prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), ("expires_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username", "user__email")
    ordering = ("-created_at", "-id")
    autocomplete_fields = ("user",)
    actions = ("revoke",)

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name", "expires_in_days")
        return ("user", "name", "token_prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_by")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # Only the label may change: a token's owner and lifetime are what it was issued with.
        return ("user", "token_prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_by")

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> ApiToken:
        if change:
            return super().save_form(request, form, change)
        token, secret = api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
        self.message_user(
            request,
            format_html(
                "The secret of token “{}” for {} is <code>{}</code>. Copy it now: it will not be shown again, "
                "and only its hash is kept.",
                token.name,
                token.user,
                secret,
            ),
            messages.SUCCESS,
        )
        return token

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        # A new token was saved by api_token_create in save_form.

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        if change:  # a new token has no related rows to save, and its form was never save()d
            super().save_related(request, form, formsets, change)

    @admin.display(description="token", ordering="prefix")
    def token_prefix(self, obj: ApiToken) -> str:
        return f"{SECRET_PREFIX}{obj.prefix}…"

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token, by=request.user)
        self.message_user(request, f"{len(tokens)} token(s) revoked.", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """The stored first answers to API POSTs sent with an Idempotency-Key: written by the API, shown here."""

    list_display = ("key", "user", "method", "path", "status_code", "created_at")
    list_filter = ("method", "status_code")
    list_select_related = ("user",)
    search_fields = ("key", "path", "user__username")
    ordering = ("-created_at", "-id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IdempotencyRecord | None = None) -> bool:
        return False
