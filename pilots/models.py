"""Organisations, the people who log in for them, pilots, the partners in a pilot and its job openings."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django_countries import countries
from django_countries.fields import CountryField
from encrypted_fields.fields import EncryptedTextField

from lamp.currencies import format_money
from lamp.fields import CurrencyField, MoneyField
from pilots.querysets import JobOpeningQuerySet, OrganisationQuerySet, PilotPartnerQuerySet, PilotQuerySet
from workers.stages import ALWAYS_REQUIRED, Stage, default_required_stages


class OrganisationKind(models.TextChoices):
    EMPLOYER = "employer", "Employer"
    RECRUITER = "recruiter", "Recruiter"
    TRAINING_PROVIDER = "training_provider", "Training provider"
    FUNDER = "funder", "Funder"
    GOVERNMENT = "government", "Government"
    NGO = "ngo", "NGO"


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
            models.CheckConstraint(
                condition=Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.code})"


class Role(models.TextChoices):
    STAFF = "staff", "Program staff"
    RECRUITER = "recruiter", "Partner recruiter"
    FUNDER = "funder", "Funder (read-only)"


class User(AbstractUser):
    """A person who logs in. Recruiters and funders act for one organisation and see only its records."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
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


class Sector(models.Model):
    """Reference data: a new sector is a new row (agriculture, cruise hospitality, trucking, aged care…)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PilotStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RECRUITING = "recruiting", "Recruiting"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


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
    EMPLOYER = "employer", "Employer"
    RECRUITER = "recruiter", "Recruiter"
    TRAINING_PROVIDER = "training_provider", "Training provider"
    FUNDER = "funder", "Funder"
    GOVERNMENT = "government", "Government"
    NGO = "ngo", "NGO"
    IMPLEMENTER = "implementer", "Implementing partner"


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
    HOUR = "hour", "per hour"
    WEEK = "week", "per week"
    MONTH = "month", "per month"
    YEAR = "year", "per year"


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


class ApiToken(models.Model):
    """A bearer token for the REST API, issued to one user (a partner recruiter's system, say).

    Only the SHA-256 of the secret is kept: the secret itself is shown once, when the token is issued
    (``pilots.tokens.api_token_create``), so a copy of the database lets no one call the API. The
    ``prefix`` is the first 8 characters after ``lamp_``, far too few to guess the rest, so that staff can
    tell tokens apart in lists and match one against a partner's configuration. A revoked token is kept, not deleted:
    its rows say who used the API and until when.
    """

    SECRET_PREFIX = "lamp_"  # every secret starts so: a leaked LaMP token is recognisable (and scannable)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “Agency CRM sync”.")
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="api_token_key_hash_is_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.SECRET_PREFIX}{self.prefix}… {self.name} ({self.user})"


class IdempotencyRecord(models.Model):
    """The first answer to an API ``POST`` sent with an ``Idempotency-Key`` header (``lamp.idempotency``).

    A retry with the same key (by the same user) is answered from here instead of running the view again.
    ``status_code`` is null while the first request is still running. Records older than
    ``IDEMPOTENCY_TTL_HOURS`` no longer count: the key may be reused, and the row may be purged.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    # The answer as JSON text, encrypted at rest: a worker's registration answer holds personal data in full.
    response_body = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] → {self.status_code or 'in progress'}"
