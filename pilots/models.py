"""Organisations, the people who log in for them, pilots, the partners in a pilot and its job openings."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import CountryField

from lamp.currencies import format_money
from lamp.fields import CurrencyField, MoneyField
from lamp.tenancy import Tenancy
from pilots.querysets import JobOpeningQuerySet, OrganisationQuerySet, PilotPartnerQuerySet, PilotQuerySet
from pilots.stages import ALWAYS_REQUIRED, CheckInMoment, Stage, default_check_in_moments, default_required_stages


class OrganisationKind(models.TextChoices):
    EMPLOYER = "employer", _("Employer")
    RECRUITER = "recruiter", _("Recruiter")
    TRAINING_PROVIDER = "training_provider", _("Training provider")
    FUNDER = "funder", _("Funder")
    GOVERNMENT = "government", _("Government")
    NGO = "ngo", _("NGO")
    VERIFIER = "verifier", _("Independent verifier")


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    country = CountryField()
    website = models.URLField(blank=True)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "country"], name="organisation_unique_name_per_country"),
            models.CheckConstraint(condition=Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"),
        ]
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.code})"


class Role(models.TextChoices):
    STAFF = "staff", _("Program staff")
    RECRUITER = "recruiter", _("Partner recruiter")
    FUNDER = "funder", _("Funder (read-only)")
    EMPLOYER = "employer", _("Employer")


#: The languages of the dashboard, the portal and the emails (Tagalog is a worker's language: check-ins only).
DASHBOARD_LANGUAGES = [("en", "English"), ("es", "Español")]


class User(AbstractUser):
    """A person who logs in. Recruiters, funders and employers act for one organisation and see only its records."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        choices=DASHBOARD_LANGUAGES,
        help_text="The language of the user's pages and emails, kept when they choose it with the language "
        "switch; empty for the platform's default.",
    )

    class Meta(AbstractUser.Meta):
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role=Role.STAFF) | Q(organisation__isnull=False),
                name="user_partner_roles_need_organisation",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_program_staff(self) -> bool:
        """Staff of the pilot team (or a superuser): may override the journey, verify and approve."""
        return self.is_active and (self.is_superuser or self.role == Role.STAFF)

    @property
    def tenancy(self) -> Tenancy:
        """What this user acts as: program staff, its recruiter or funder organisation, or nobody."""
        if self.is_program_staff:
            return Tenancy(staff=True)
        if self.organisation_id is None:
            return Tenancy()
        if self.role == Role.RECRUITER:
            return Tenancy(recruiter=self.organisation_id)
        if self.role == Role.FUNDER:
            return Tenancy(funder=self.organisation_id)
        if self.role == Role.EMPLOYER:
            return Tenancy(employer=self.organisation_id)
        return Tenancy()


class Sector(models.Model):
    """Reference data: a new sector is a new row (agriculture, cruise hospitality, trucking, aged care…)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PilotStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RECRUITING = "recruiting", _("Recruiting")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class Pilot(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="pilots")
    origin_countries = ArrayField(
        models.CharField(max_length=2, choices=list(countries)),
        help_text="ISO 3166 codes of the countries workers come from, comma-separated (e.g. GT,MX).",
    )
    destination_country = CountryField(help_text="Where the jobs are; for sea-based work, the employer's country.")
    pathway = models.CharField(max_length=120, help_text="Visa or permit route, e.g. H-2A seasonal visa.")
    status = models.CharField(max_length=20, choices=PilotStatus.choices, default=PilotStatus.DRAFT)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    target_cohort_size = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    required_stages = ArrayField(
        models.CharField(max_length=20, choices=Stage.choices),
        default=default_required_stages,
        help_text="Journey stages every worker of this pilot must pass; a move that skips one is refused.",
    )
    check_in_moments = ArrayField(
        models.CharField(max_length=20, choices=CheckInMoment.choices),
        default=default_check_in_moments,
        blank=True,
        help_text="When the workers of this pilot are sent a check-in (their link); empty: only by hand.",
    )
    staff_contacts = models.ManyToManyField(
        "pilots.User",
        blank=True,
        related_name="pilots_followed",
        limit_choices_to={"role": "staff", "is_active": True},
        help_text="Program staff who run the pilot: they receive its daily digest of overdue tranches. "
        "None: every active program staff member with an email does.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PilotQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="pilot_end_after_start"
            ),
            models.CheckConstraint(condition=Q(target_cohort_size__gte=1), name="pilot_cohort_positive"),
            models.CheckConstraint(condition=Q(status__in=PilotStatus.values), name="pilot_status_valid"),
            models.CheckConstraint(condition=~Q(origin_countries=[]), name="pilot_has_origin_country"),
            models.CheckConstraint(
                condition=Q(required_stages__contains=sorted(ALWAYS_REQUIRED)), name="pilot_requires_the_fixed_stages"
            ),
        ]
        indexes = [models.Index(fields=["status", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def corridor(self) -> str:
        """``GT, MX → US``: the countries of the pilot's corridor, as staff speak of it."""
        return f"{', '.join(self.origin_countries)} → {self.destination_country.code}"


class PartnerRole(models.TextChoices):
    EMPLOYER = "employer", _("Employer")
    RECRUITER = "recruiter", _("Recruiter")
    TRAINING_PROVIDER = "training_provider", _("Training provider")
    FUNDER = "funder", _("Funder")
    GOVERNMENT = "government", _("Government")
    NGO = "ngo", _("NGO")
    IMPLEMENTER = "implementer", _("Implementing partner")


class PilotPartner(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="partners")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="pilot_roles")
    role = models.CharField(max_length=20, choices=PartnerRole.choices)
    joined_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    objects = PilotPartnerQuerySet.as_manager()

    class Meta:
        ordering = ["pilot", "role", "organisation"]
        constraints = [
            models.UniqueConstraint(fields=["pilot", "organisation", "role"], name="pilot_partner_unique"),
            models.CheckConstraint(condition=Q(role__in=PartnerRole.values), name="pilot_partner_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name} — {self.get_role_display()} in {self.pilot}"


class WagePeriod(models.TextChoices):
    HOUR = "hour", _("per hour")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")
    YEAR = "year", _("per year")


class JobOpening(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.PROTECT, related_name="job_openings")
    employer = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="job_openings",
        limit_choices_to={"kind": OrganisationKind.EMPLOYER},
    )
    title = models.CharField(max_length=200)
    positions = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    wage_amount = MoneyField(validators=[MinValueValidator(0)])
    wage_currency = CurrencyField()
    wage_period = models.CharField(max_length=10, choices=WagePeriod.choices, default=WagePeriod.HOUR)
    hours_per_week = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    location = models.CharField(max_length=200, help_text="City, region or vessel.")
    location_country = CountryField(blank=True)
    season_start = models.DateField()
    season_end = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = JobOpeningQuerySet.as_manager()

    class Meta:
        ordering = ["pilot", "season_start", "title", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(positions__gte=1), name="job_opening_positions_positive"),
            models.CheckConstraint(condition=Q(wage_amount__gte=0), name="job_opening_wage_not_negative"),
            models.CheckConstraint(
                condition=Q(season_end__gte=F("season_start")), name="job_opening_season_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(hours_per_week__isnull=True) | Q(hours_per_week__gt=0, hours_per_week__lte=168),
                name="job_opening_hours_in_week",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.employer.name}"

    @property
    def wage_display(self) -> str:
        return f"{format_money(self.wage_amount, self.wage_currency)} {self.get_wage_period_display()}"
