"""Admin for organisations, their users, sectors, pilots, partners and job openings.

The apps above add what they keep about these records where it belongs on their pages (a recruiter
organisation's profile, a pilot's recruiter assignments), by extending these admin classes from their
own ``admin.py``: this module names nothing above ``pilots``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django_countries.filters import CountryFilter

from lamp.admin_utils import ChoiceArrayMixin
from pilots.models import (
    JobOpening,
    Organisation,
    Pilot,
    PilotPartner,
    Sector,
    User,
)
from pilots.stages import ALWAYS_REQUIRED, PATH


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "contact_email", "created_at")
    list_filter = ("kind", ("country", CountryFilter))
    search_fields = ("name", "contact_email")
    ordering = ("name",)
    readonly_fields = ("created_at", "updated_at")
    fields = ("name", "kind", "country", "website", "contact_email", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Role", {"fields": ("role", "organisation", "language")}),
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
            "check_in_moments",
            "staff_contacts",
        )
        help_texts = {"origin_countries": "The countries workers come from."}

    def clean_required_stages(self) -> list[str]:
        stages = self.cleaned_data["required_stages"]
        missing = [str(stage.label) for stage in PATH if stage in ALWAYS_REQUIRED and stage not in stages]
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
        ("Workers' check-ins", {"fields": ("check_in_moments",)}),
        ("Staff", {"fields": ("staff_contacts",)}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    filter_horizontal = ("staff_contacts",)
    inlines = (PilotPartnerInline, JobOpeningInline)


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
