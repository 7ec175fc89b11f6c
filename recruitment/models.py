"""Recruiters, their assignment to pilots, and the fees workers report having paid in recruitment."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from lamp.currencies import format_money
from lamp.fields import CurrencyField, MoneyField
from lamp.history import tracked
from pilots.models import Organisation, OrganisationKind, Pilot
from recruitment.querysets import FeeReportQuerySet, RecruiterAssignmentQuerySet, RecruiterQuerySet


class Certification(models.TextChoices):
    IRIS = "iris", "IRIS (IOM International Recruitment Integrity System)"
    ILO_FAIR = "ilo_fair", "ILO Fair Recruitment Initiative"
    DHAKA = "dhaka_principles", "Dhaka Principles"
    ISO_9001 = "iso_9001", "ISO 9001"
    OTHER = "other", "Other"


class Recruiter(models.Model):
    """The recruiter profile of an organisation of kind *recruiter*: its licence and pledges."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="recruiter",
        limit_choices_to={"kind": OrganisationKind.RECRUITER},
    )
    licence_number = models.CharField(max_length=60)
    licence_country = CountryField(help_text="Country whose authority issued the licence.")
    licence_expires_on = models.DateField(null=True, blank=True)
    certifications = ArrayField(
        models.CharField(max_length=30, choices=Certification.choices), default=list, blank=True
    )
    zero_fee_pledge = models.BooleanField(
        default=False, help_text="Signed the pledge that workers pay no recruitment fee or related cost."
    )
    zero_fee_pledge_signed_on = models.DateField(null=True, blank=True)

    objects = RecruiterQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["licence_country", "licence_number"], name="recruiter_licence_unique_per_country"
            ),
            models.CheckConstraint(
                condition=Q(zero_fee_pledge=False) | Q(zero_fee_pledge_signed_on__isnull=False),
                name="recruiter_pledge_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.organisation.name

    @property
    def name(self) -> str:
        return self.organisation.name


class RecruiterAssignment(models.Model):
    """A recruiter sourcing workers for a pilot, with the number of workers it is asked for."""

    recruiter = models.ForeignKey(Recruiter, on_delete=models.PROTECT, related_name="assignments")
    pilot = models.ForeignKey(Pilot, on_delete=models.PROTECT, related_name="recruiter_assignments")
    quota = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    assigned_on = models.DateField()

    objects = RecruiterAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["pilot", "recruiter__organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["recruiter", "pilot"], name="recruiter_assignment_unique"),
            models.CheckConstraint(condition=Q(quota__gte=1), name="recruiter_assignment_quota_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.recruiter} → {self.pilot} (quota {self.quota})"


class FeeCategory(models.TextChoices):
    """ILO general principles and operational guidelines: recruitment fees and related costs."""

    RECRUITMENT_FEE = "recruitment_fee", "Recruitment fee"
    MEDICAL = "medical", "Medical costs"
    INSURANCE = "insurance", "Insurance"
    SKILLS_TESTS = "skills_tests", "Skills and qualification tests"
    TRAINING = "training", "Training and orientation"
    EQUIPMENT = "equipment", "Equipment"
    TRAVEL_LODGING = "travel_lodging", "Travel and lodging"
    ADMINISTRATIVE = "administrative", "Administrative (passports, visas, permits, documents)"
    ILLEGITIMATE = "illegitimate", "Illegitimate costs (bribes, kickbacks, deposits, bonds)"
    OTHER = "other", "Other"


class FeeSource(models.TextChoices):
    WORKER_SURVEY = "worker_survey", "Worker survey"
    RECRUITER = "recruiter", "Recruiter"
    STAFF = "staff", "Program staff"


@tracked
class FeeReport(models.Model):
    """A fee a worker paid in their recruitment. The pilots are zero-fee: any amount above 0 is a finding."""

    worker = models.ForeignKey("workers.Worker", on_delete=models.PROTECT, related_name="fee_reports")
    recruiter = models.ForeignKey(Recruiter, on_delete=models.PROTECT, related_name="fee_reports")
    category = models.CharField(max_length=20, choices=FeeCategory.choices)
    amount = MoneyField(validators=[MinValueValidator(0)])
    currency = CurrencyField()
    paid_to = models.CharField(max_length=200, blank=True, help_text="Who received the money, as reported.")
    paid_on = models.DateField(null=True, blank=True)
    recovered_by_wage_deduction = models.BooleanField(
        default=False, help_text="Taken from the worker's wages: it counts as a fee all the same."
    )
    source = models.CharField(max_length=20, choices=FeeSource.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    objects = FeeReportQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_report_amount_not_negative"),
            models.CheckConstraint(condition=Q(category__in=FeeCategory.values), name="fee_report_category_valid"),
            models.CheckConstraint(condition=Q(source__in=FeeSource.values), name="fee_report_source_valid"),
        ]
        indexes = [
            models.Index(fields=["worker", "recruiter"]),
            models.Index(fields=["recruiter", "category"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.amount_display} paid by {self.worker}"

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)
