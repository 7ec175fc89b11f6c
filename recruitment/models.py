"""The registry of recruiters: their licences, certifications, pledges and assignments to pilots."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from pilots.models import Organisation, OrganisationKind, Pilot
from recruitment.querysets import RecruiterAssignmentQuerySet, RecruiterQuerySet


class Certification(models.TextChoices):
    IRIS = "iris", _("IRIS (IOM International Recruitment Integrity System)")
    ILO_FAIR = "ilo_fair", _("ILO Fair Recruitment Initiative")
    DHAKA = "dhaka_principles", _("Dhaka Principles")
    ISO_9001 = "iso_9001", _("ISO 9001")
    OTHER = "other", _("Other")


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
