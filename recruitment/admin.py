"""Admin for recruiters, their assignments to pilots and the fees workers report having paid."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Field
from django.http import HttpRequest
from django_countries.filters import CountryFilter

from lamp.admin_utils import ChoiceArrayMixin, CurrentUserInitialMixin
from recruitment.models import FeeReport, Recruiter, RecruiterAssignment


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
