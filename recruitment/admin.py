"""Admin for recruiters and their assignments to pilots.

The pages of ``pilots`` show what this app keeps about their records: a recruiter organisation's profile,
and a pilot's recruiter assignments. This module extends the pilots admin classes to add them (it may
import ``pilots``; ``pilots`` never imports it).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Field, QuerySet
from django.http import HttpRequest
from django_countries.filters import CountryFilter

from lamp.admin_utils import ChoiceArrayMixin
from pilots import admin as pilots_admin
from pilots.models import Organisation, OrganisationKind, Pilot
from recruitment.models import Recruiter, RecruiterAssignment


class RecruiterListFilter(admin.RelatedFieldListFilter):
    """Filter by recruiter, named after its organisation, loaded in one query rather than one per recruiter."""

    def field_choices(self, field: Field, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[Any, str]]:
        recruiters = Recruiter.objects.select_related("organisation").order_by("organisation__name")
        return [(recruiter.pk, recruiter.name) for recruiter in recruiters]


@admin.register(Recruiter)
class RecruiterAdmin(ChoiceArrayMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "licence_number",
        "licence_country",
        "licence_expires_on",
        "certifications",
        "zero_fee_pledge",
    )
    list_filter = (("licence_country", CountryFilter), "zero_fee_pledge")
    list_select_related = ("organisation",)
    search_fields = ("organisation__name", "licence_number")
    ordering = ("organisation__name",)
    autocomplete_fields = ("organisation",)

    @admin.display(description="recruiter", ordering="organisation__name")
    def name(self, obj: Recruiter) -> str:
        return obj.name


@admin.register(RecruiterAssignment)
class RecruiterAssignmentAdmin(admin.ModelAdmin):
    list_display = ("recruiter", "pilot", "quota", "assigned_on")
    list_filter = ("pilot",)
    list_select_related = ("recruiter__organisation", "pilot")
    search_fields = ("recruiter__organisation__name", "pilot__name")
    ordering = ("pilot__name", "recruiter__organisation__name")
    date_hierarchy = "assigned_on"
    autocomplete_fields = ("recruiter", "pilot")


class RecruiterProfileInline(ChoiceArrayMixin, admin.StackedInline):
    model = Recruiter
    can_delete = False
    max_num = 1
    verbose_name = "recruiter profile"
    verbose_name_plural = "recruiter profile"


class RecruiterAssignmentInline(admin.TabularInline):
    model = RecruiterAssignment
    extra = 0
    autocomplete_fields = ("recruiter",)
    fields = ("recruiter", "quota", "assigned_on")

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecruiterAssignment]:
        return super().get_queryset(request).select_related("recruiter__organisation", "pilot")


admin.site.unregister(Organisation)


@admin.register(Organisation)
class OrganisationAdmin(pilots_admin.OrganisationAdmin):
    """An organisation's page, with the recruiter profile of a recruiter organisation."""

    def get_inlines(self, request: HttpRequest, obj: Organisation | None) -> list[type[admin.StackedInline]]:
        # Only a recruiter organisation has a recruiter profile; it appears once the kind is saved.
        if obj is not None and obj.kind == OrganisationKind.RECRUITER:
            return [RecruiterProfileInline]
        return []


admin.site.unregister(Pilot)


@admin.register(Pilot)
class PilotAdmin(pilots_admin.PilotAdmin):
    """A pilot's page, with the recruiters assigned to it between its partners and its job openings."""

    inlines = (pilots_admin.PilotPartnerInline, RecruiterAssignmentInline, pilots_admin.JobOpeningInline)
