"""The people: workers, their journey, employment, training, the evidence about them and the fees they paid."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Right
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from encrypted_fields.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField

from lamp.currencies import format_money
from lamp.fields import CurrencyField, MaskedCopyField, MoneyField
from lamp.history import tracked
from lamp.masking import MASK, mask_email
from pilots.models import JobOpening, Organisation, OrganisationKind, Pilot
from pilots.stages import EXITS, CheckInMoment, Stage
from workers.querysets import (
    CheckInAnswerQuerySet,
    CheckInQuerySet,
    EmploymentQuerySet,
    EvidenceQuerySet,
    FeeDeclarationQuerySet,
    FeeReportQuerySet,
    OutboxMessageQuerySet,
    WorkerQuerySet,
    WorkerRecordQuerySet,
)
from workers.value_rules import fee_report_values_check, worker_values_check


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NON_BINARY = "non_binary", _("Non-binary")
    UNDISCLOSED = "undisclosed", _("Prefers not to say")


class IdentityDocumentType(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    NATIONAL_ID = "national_id", _("National identity card")
    SEAFARER_BOOK = "seafarer_book", _("Seafarer's identity document")
    OTHER = "other", _("Other")


def identity_document_hash(*, country: str, number: str) -> str:
    """A keyed hash of a document number for exact-match duplicate lookups without decrypting rows.

    Numbers are compared as printed on the document, ignoring case, spaces and dashes; the issuing
    country is part of the key, since two countries may issue the same number.
    """
    normalised = re.sub(r"[\s\-.]", "", number).upper()
    message = f"{country.upper()}:{normalised}".encode()
    return hmac.new(settings.IDENTITY_HASH_KEY.encode(), message, hashlib.sha256).hexdigest()


#: How many of a document number's last characters the lists show (``identity_document_masked``).
DOCUMENT_TAIL = 4


def identity_document_tail_hash(tail: str) -> str:
    """A keyed hash of the last characters a list shows of a document number (``181U`` of ``P4470181U``),
    normalised as ``identity_document_hash`` normalises a number: a search for what staff read on a list
    finds the worker without decrypting a row. Keyed like the full number's hash, in its own domain
    (``tail:``), and with no country: the list does not show it."""
    normalised = re.sub(r"[\s\-.]", "", tail).upper()[-DOCUMENT_TAIL:]
    return hmac.new(settings.IDENTITY_HASH_KEY.encode(), f"tail:{normalised}".encode(), hashlib.sha256).hexdigest()


def document_tail_hash_of(number: str | None) -> str:
    """The tail hash a worker with document ``number`` is found by; "" when the list shows none of it
    (no number, or one so short that ``mask_tail`` masks it whole)."""
    normalised = re.sub(r"[\s\-.]", "", number or "")
    if len(number or "") <= DOCUMENT_TAIL * 2 or len(normalised) < DOCUMENT_TAIL:
        return ""
    return identity_document_tail_hash(normalised[-DOCUMENT_TAIL:])


class DocumentTailHashField(models.CharField):
    """``identity_document_tail_hash`` of another (encrypted) field of the same row, kept in step with it on
    every write as ``MaskedCopyField`` keeps a masked copy: ``pre_save`` recomputes it on ``save()`` and in
    ``bulk_create``; a raw write (COPY) computes it with ``document_tail_hash_of``."""

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.update(max_length=64, blank=True, default="", editable=False, db_index=True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_length", "blank", "default", "editable", "db_index"):
            kwargs.pop(key, None)
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = document_tail_hash_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def birth_date_hash(born: datetime.date | str | None) -> str:
    """A keyed hash of a date of birth, for the names + date of birth duplicate lookup without decrypting rows.

    Keyed like ``identity_document_hash`` (``IDENTITY_HASH_KEY``), in its own domain (``birth:``): without the
    key, the 40,000 dates of a working life cannot be tried against it. "" for no date."""
    if not born:
        return ""
    day = born.isoformat() if isinstance(born, datetime.date) else str(born)
    return hmac.new(settings.IDENTITY_HASH_KEY.encode(), f"birth:{day}".encode(), hashlib.sha256).hexdigest()


#: The age bands reports count workers in (lower bound, label); the last band is open.
AGE_BANDS = ((0, "under 18"), (18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55+"))


def age_band(birth_year: int | None, *, on: datetime.date) -> str:
    """The age band of someone born in ``birth_year`` on day ``on``, from the year alone (the day and month
    are encrypted): the age they reach in ``on``'s year. "" for no year."""
    if not birth_year:
        return ""
    age = on.year - birth_year
    label = AGE_BANDS[0][1]
    for lower, name in AGE_BANDS:
        if age >= lower:
            label = name
    return label


class BirthDerivedField:
    """A column derived from the (encrypted) date of birth of the same row, kept in step with it on every write
    as ``MaskedCopyField`` keeps a masked copy: ``pre_save`` recomputes it on ``save()`` and in ``bulk_create``;
    a raw write (COPY) computes it with ``derive``."""

    source = "date_of_birth"

    def derive(self, born: datetime.date | None) -> Any:  # pragma: no cover - each subclass says
        raise NotImplementedError

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        born = getattr(model_instance, self.source)
        if isinstance(born, str):  # a value assigned as text (a form, a fixture) before it was cleaned
            born = datetime.date.fromisoformat(born)
        value = self.derive(born)
        setattr(model_instance, self.attname, value)
        return value


class BirthYearField(BirthDerivedField, models.PositiveSmallIntegerField):
    """The year of birth, in clear for reporting (ages, age bands) while the date itself is encrypted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(null=True, blank=True, editable=False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        for key in ("null", "blank", "editable"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def derive(self, born: datetime.date | None) -> int | None:
        return born.year if born else None


class BirthDateHashField(BirthDerivedField, models.CharField):
    """``birth_date_hash`` of the date of birth: what the duplicate lookup compares."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(max_length=64, blank=True, default="", editable=False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_length", "blank", "default", "editable"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def derive(self, born: datetime.date | None) -> str:
        return birth_date_hash(born)


#: The stages in the order of the journey (then the exits, then anything else): the staff list's sort by
#: stage (``workers.selectors.WORKER_SORTING``), indexed with the id below.
STAGE_ORDER = models.Case(
    *(models.When(current_stage=stage, then=models.Value(position)) for position, stage in enumerate(Stage.values)),
    default=models.Value(len(Stage.values)),
    output_field=models.IntegerField(),
)
#: The characters of the document number a list shows: the staff list's sort by document, indexed below.
DOCUMENT_SHOWN = Right("identity_document_masked", DOCUMENT_TAIL)


class Worker(models.Model):
    """A person in a pilot. One row for life: a new season (circular migration) adds journey events."""

    given_names = models.CharField(max_length=120)
    family_names = models.CharField(max_length=120)
    # Encrypted at rest (Fernet) like the document number: NULL only once erased. The year stays in clear for
    # reporting, and the keyed hash finds the same person (names + date of birth) without decrypting a row.
    date_of_birth = EncryptedDateField(null=True)
    birth_year = BirthYearField()
    date_of_birth_hash = BirthDateHashField()
    gender = models.CharField(max_length=20, choices=Gender.choices)
    nationality = CountryField()
    # Encrypted fields store NULL for "none": the library never encrypts an empty value.
    phone = EncryptedCharField(max_length=40, null=True, blank=True)
    phone_masked = MaskedCopyField(source="phone", visible=3)
    email = models.EmailField(blank=True)
    identity_document_type = models.CharField(
        max_length=20, choices=IdentityDocumentType.choices, default=IdentityDocumentType.PASSPORT
    )
    identity_document_country = CountryField(blank=True)
    # Encrypted at rest (Fernet); found by its keyed hash, shown masked.
    identity_document_number = EncryptedCharField(max_length=60, null=True, blank=True)
    identity_document_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    identity_document_masked = MaskedCopyField(source="identity_document_number", visible=DOCUMENT_TAIL)
    # The keyed hash of the characters the masked copy shows: a search for ``181U`` finds ``•••••181U``.
    identity_document_tail_hash = DocumentTailHashField(source="identity_document_number")
    language_levels = models.JSONField(
        default=dict, blank=True, help_text='CEFR levels by ISO 639-1 language, e.g. {"en": "B1", "de": "A2"}.'
    )
    consent_given_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker consented to their data being held for the pilot."
    )
    # Kept by ``workers.consent`` (the only writer) from the worker's ``Consent`` rows: set while their latest
    # consent is withdrawn, which stops their check-ins and messages.
    consent_withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by ``workers.erasure.worker_erase`` (the only writer): the row stays, as a pseudonym, for the money.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    recruiter = models.ForeignKey("recruitment.Recruiter", on_delete=models.PROTECT, related_name="workers")
    pilot = models.ForeignKey(Pilot, on_delete=models.PROTECT, related_name="workers")
    # The latest journey event, kept by the journey service (the only writer) so that lists filter fast.
    current_stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.REGISTERED)
    season = models.PositiveSmallIntegerField(default=1)
    stage_changed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        ordering = ["family_names", "given_names", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(current_stage__in=Stage.values), name="worker_stage_valid"),
            models.CheckConstraint(condition=Q(gender__in=Gender.values), name="worker_gender_valid"),
            models.CheckConstraint(condition=Q(season__gte=1), name="worker_season_positive"),
            models.CheckConstraint(
                condition=Q(identity_document_number__isnull=True) | ~Q(identity_document_hash=""),
                name="worker_identity_document_hashed",
            ),
        ]
        indexes = [
            models.Index(fields=["pilot", "current_stage"]),
            models.Index(fields=["recruiter", "current_stage"]),
            # A recruiter's workers in id order: its pages of the API's cursor-paginated list.
            models.Index(fields=["recruiter", "id"]),
            models.Index(fields=["nationality"]),
            models.Index(fields=["family_names", "given_names", "date_of_birth_hash"], name="worker_person_lookup"),
            # The staff list's orders (``workers.selectors.WORKER_SORTING``): each column, then the id, so a
            # keyset page of 100,000 workers sorted by it reads one page of the index.
            models.Index(fields=["family_names", "given_names", "id"], name="worker_sort_name"),
            models.Index(fields=["nationality", "id"], name="worker_sort_nationality"),
            models.Index(fields=["gender", "id"], name="worker_sort_gender"),
            models.Index(fields=["season", "id"], name="worker_sort_season"),
            models.Index(STAGE_ORDER, F("id"), name="worker_sort_stage"),
            models.Index(DOCUMENT_SHOWN, F("id"), name="worker_sort_document"),
        ]

    def __str__(self) -> str:
        return f"{self.given_names} {self.family_names}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saving a personal field by name saves its masked copy with it."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            names = set(update_fields)
            copies = (MaskedCopyField, DocumentTailHashField, BirthDerivedField)
            masked = (f for f in self._meta.concrete_fields if isinstance(f, copies))
            names |= {f.name for f in masked if f.source in names}
            kwargs["update_fields"] = names
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return str(self)

    @property
    def is_exited(self) -> bool:
        return self.current_stage in EXITS

    def set_identity_document(self, *, number: str, country: str, kind: str | None = None) -> None:
        """Set the document number and its lookup hash together, so the two never disagree."""
        number = number.strip()
        self.identity_document_number = number or None
        self.identity_document_country = country
        if kind:
            self.identity_document_type = kind
        self.identity_document_hash = identity_document_hash(country=country, number=number) if number else ""

    def clean(self) -> None:
        """The values a worker may hold (``workers.value_rules``), for every ``full_clean`` and the admin's forms."""
        worker_values_check(self)

    @property
    def date_of_birth_masked(self) -> str:
        """The year only (``1994-••-••``), from the clear column: nothing is decrypted."""
        year = self.birth_year
        if year is None and self.__dict__.get("date_of_birth"):  # set, not yet saved
            year = self.__dict__["date_of_birth"].year
        return f"{year}-{MASK * 2}-{MASK * 2}" if year else ""

    @property
    def email_masked(self) -> str:
        return mask_email(self.email)

    def age_band(self, on: datetime.date | None = None) -> str:
        return age_band(self.birth_year, on=on or timezone.localdate())


class Source(models.TextChoices):
    """Who supplied a fact about a worker: derived from the signed-in user's organisation and the channel,
    never taken from what a request says. The rules count a fact only when its source is independent of the
    contract's payee (its provider): ``source_organisation`` says which organisation, if any, supplied it."""

    WORKER = "worker", _("The worker (own link)")
    EMPLOYER = "employer", _("Employer")
    RECRUITER = "recruiter", _("Recruiter")
    TRAINING_PROVIDER = "training_provider", _("Training provider")
    STAFF = "staff", _("Program staff")
    VERIFIER = "verifier", _("Independent verifier")
    PARTNER = "partner", _("Another partner organisation")
    UNRECORDED = "unrecorded", _("Not recorded")


#: The source a user of an organisation of each kind speaks as.
SOURCE_OF_KIND: dict[str, str] = {
    OrganisationKind.EMPLOYER: Source.EMPLOYER,
    OrganisationKind.RECRUITER: Source.RECRUITER,
    OrganisationKind.TRAINING_PROVIDER: Source.TRAINING_PROVIDER,
    OrganisationKind.VERIFIER: Source.VERIFIER,
}


def source_of(user: Any) -> tuple[str, int | None]:
    """``(source, organisation id)`` of what ``user`` supplies: program staff, or the kind of its organisation;
    ``UNRECORDED`` for no user (a script, a migration) or a user attached to no organisation."""
    if user is None:
        return Source.UNRECORDED, None
    if getattr(user, "is_program_staff", False):
        return Source.STAFF, None
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        return Source.UNRECORDED, None
    kind = user.organisation.kind
    return SOURCE_OF_KIND.get(kind, Source.PARTNER), organisation_id


def _source_fields(help_text: str) -> tuple[models.CharField, models.ForeignKey]:
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.UNRECORDED, help_text=help_text)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The organisation that supplied it; empty for the worker, program staff or an unrecorded source.",
    )
    return source, organisation


class EvidenceKind(models.TextChoices):
    EMPLOYER_ATTESTATION = "employer_attestation", _("Employer attestation")
    PAYROLL_RECORD = "payroll_record", _("Payroll record")
    CERTIFICATE = "certificate", _("Certificate")
    VISA = "visa", _("Visa")
    TRAVEL_RECORD = "travel_record", _("Travel record")
    WORKER_SURVEY = "worker_survey", _("Worker survey")
    OTHER = "other", _("Other")


class Evidence(models.Model):
    """A document or a reference to one that supports a fact about a worker: a file, or where it is kept."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=30, choices=EvidenceKind.choices)
    file = models.FileField(upload_to="evidence/%Y/%m/", blank=True)
    reference = models.CharField(
        max_length=300, blank=True, help_text="Where the evidence is kept when it is not uploaded (system, ID…)."
    )
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the uploaded file.")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=300, blank=True)
    facts = models.JSONField(
        default=dict,
        blank=True,
        help_text='What the evidence states, for automatic verification, e.g. a survey\'s {"fee_paid": false}.',
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    source, source_organisation = _source_fields("Who supplied it: from the uploader's organisation and the channel.")

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(condition=~Q(file="") | ~Q(reference=""), name="evidence_file_or_reference"),
            models.CheckConstraint(condition=Q(kind__in=EvidenceKind.values), name="evidence_kind_valid"),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="evidence_source_valid"),
        ]
        indexes = [models.Index(fields=["worker", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.worker}"


@pgtrigger.register(pgtrigger.Protect(name="journey_events_append_only", operation=pgtrigger.Update | pgtrigger.Delete))
class JourneyEvent(models.Model):
    """One step of a worker's journey. Append-only: a correction is a new event (a staff override)."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="journey_events")
    pilot = models.ForeignKey(Pilot, on_delete=models.PROTECT, related_name="journey_events")
    season = models.PositiveSmallIntegerField(default=1)
    stage = models.CharField(max_length=20, choices=Stage.choices)
    occurred_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)
    is_override = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)

    objects = WorkerRecordQuerySet.as_manager()

    class Meta:
        ordering = ["worker", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="journey_event_stage_valid"),
            models.CheckConstraint(
                condition=Q(is_override=False) | ~Q(override_reason=""), name="journey_override_has_reason"
            ),
            models.CheckConstraint(condition=Q(season__gte=1), name="journey_event_season_positive"),
        ]
        indexes = [
            models.Index(fields=["worker", "season", "recorded_at"]),
            models.Index(fields=["pilot", "stage", "occurred_on"]),
            # The day of a worker's first registration, read for every worker when the staff list is sorted
            # by it: found, with the day, in this index alone.
            models.Index(
                fields=["worker", "season", "recorded_at", "id"],
                include=["occurred_on"],
                condition=Q(stage=Stage.REGISTERED),
                name="journey_first_registration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker}: {self.get_stage_display()} on {self.occurred_on}"


class SeparationReason(models.TextChoices):
    CONTRACT_COMPLETED = "contract_completed", _("Contract completed")
    RESIGNED = "resigned", _("Resigned")
    DISMISSED = "dismissed", _("Dismissed")
    INJURY_OR_ILLNESS = "injury_or_illness", _("Injury or illness")
    EMPLOYER_CLOSED = "employer_closed", _("Employer closed or cut jobs")
    REPATRIATED = "repatriated", _("Repatriated")
    ABSCONDED = "absconded", _("Left without notice")
    OTHER = "other", _("Other")


@tracked
class Employment(models.Model):
    """A worker's job: the start and end that placement and retention outcomes are verified against."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="employments")
    job_opening = models.ForeignKey(JobOpening, on_delete=models.PROTECT, related_name="employments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    separation_reason = models.CharField(max_length=30, choices=SeparationReason.choices, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source, source_organisation = _source_fields("Who recorded the employment (and its end, if any).")

    objects = EmploymentQuerySet.as_manager()

    class Meta:
        ordering = ["worker", "-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="employment_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(separation_reason="") | Q(end_date__isnull=False),
                name="employment_separation_has_end",
            ),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="employment_source_valid"),
        ]
        indexes = [models.Index(fields=["job_opening", "start_date"])]

    def __str__(self) -> str:
        return f"{self.worker} at {self.job_opening.employer.name} from {self.start_date}"


class TrainingEnrollment(models.Model):
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="training_enrollments")
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="training_enrollments",
        limit_choices_to={"kind": OrganisationKind.TRAINING_PROVIDER},
    )
    course = models.CharField(max_length=200)
    enrolled_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True, help_text="Unknown until the course is assessed.")
    level_achieved = models.CharField(max_length=20, blank=True, help_text="e.g. CEFR B1, licence class C.")
    certificate = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    result_source, result_organisation = _source_fields("Who recorded the result: the assessor, staff or the provider.")

    objects = WorkerRecordQuerySet.as_manager()

    class Meta:
        ordering = ["worker", "-enrolled_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=F("enrolled_on")),
                name="training_completed_after_enrolled",
            ),
            models.CheckConstraint(condition=Q(result_source__in=Source.values), name="training_result_source_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.worker}: {self.course}"


class DuplicateReason(models.TextChoices):
    IDENTITY_DOCUMENT = "identity_document", _("Same identity document")
    NAME_AND_BIRTH = "name_and_birth", _("Same names, date of birth and nationality")


class DuplicateFlag(models.Model):
    """A worker registered by one recruiter who looks like another recruiter's worker: for staff to review.

    Partners never see flags: the recruiter who registered the second record is not told the first exists.
    """

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="duplicate_flags")
    matches = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20, choices=DuplicateReason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(worker=F("matches")), name="duplicate_flag_not_itself"),
            models.CheckConstraint(condition=Q(reason__in=DuplicateReason.values), name="duplicate_flag_reason_valid"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_by__isnull=False),
                name="duplicate_flag_resolved_by_someone",
            ),
            models.UniqueConstraint(fields=["worker", "matches", "reason"], name="duplicate_flag_unique"),
        ]
        indexes = [models.Index(fields=["resolved_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.worker} may be {self.matches} ({self.get_reason_display()})"


# --- Fees the worker paid in recruitment ---------------------------------------------------------------


class FeeCategory(models.TextChoices):
    """ILO general principles and operational guidelines: recruitment fees and related costs."""

    RECRUITMENT_FEE = "recruitment_fee", _("Recruitment fee")
    MEDICAL = "medical", _("Medical costs")
    INSURANCE = "insurance", _("Insurance")
    SKILLS_TESTS = "skills_tests", _("Skills and qualification tests")
    TRAINING = "training", _("Training and orientation")
    EQUIPMENT = "equipment", _("Equipment")
    TRAVEL_LODGING = "travel_lodging", _("Travel and lodging")
    ADMINISTRATIVE = "administrative", _("Administrative (passports, visas, permits, documents)")
    ILLEGITIMATE = "illegitimate", _("Illegitimate costs (bribes, kickbacks, deposits, bonds)")
    OTHER = "other", _("Other")


class FeeSource(models.TextChoices):
    """Who reported the fee. Any fee from any source is a finding: the pilots are zero-fee."""

    WORKER = "worker", _("The worker (own link)")
    WORKER_SURVEY = "worker_survey", _("Worker survey")
    RECRUITER = "recruiter", _("Recruiter")
    EMPLOYER_PAYROLL = "employer_payroll", _("Employer payroll")
    STAFF = "staff", _("Program staff")
    VERIFIER = "verifier", _("Independent verifier")


@tracked
class FeeReport(models.Model):
    """A fee a worker paid in their recruitment. The pilots are zero-fee: any amount above 0 is a finding.

    A fact about the worker (who paid, what, to whom), kept with the worker's other facts; ``recruiter`` is
    the recruiter of the worker when the fee was reported.
    """

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="fee_reports")
    recruiter = models.ForeignKey("recruitment.Recruiter", on_delete=models.PROTECT, related_name="fee_reports")
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
    source_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The organisation that reported it; empty for the worker, program staff or an unrecorded source.",
    )

    objects = FeeReportQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_report_amount_not_negative"),
            models.CheckConstraint(condition=Q(category__in=FeeCategory.values), name="fee_report_category_valid"),
            models.CheckConstraint(condition=Q(source__in=FeeSource.values), name="fee_report_source_valid"),
        ]
        indexes = [
            models.Index(fields=["worker", "recruiter"], name="fee_report_worker_recruiter"),
            models.Index(fields=["recruiter", "category"], name="fee_report_recruiter_category"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.amount_display} paid by {self.worker}"

    def clean(self) -> None:
        """The amount and the day paid a fee may have (``workers.value_rules``), for every ``full_clean``."""
        fee_report_values_check(self)

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)


@tracked
class FeeDeclaration(models.Model):
    """A recruiter's declaration for one worker: no fee or related cost was charged to them.

    One of the three sources a ``ZERO_FEE`` outcome is triangulated from (with the worker's own answer and
    the employer's payroll): the payee's own word, which counts only beside the other two.
    """

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="fee_declarations")
    recruiter = models.ForeignKey("recruitment.Recruiter", on_delete=models.PROTECT, related_name="fee_declarations")
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    objects = FeeDeclarationQuerySet.as_manager()

    class Meta:
        ordering = ["-declared_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "recruiter"], name="fee_declaration_once_per_recruiter"),
        ]

    def __str__(self) -> str:
        return f"No fee charged to {self.worker} (declared by {self.recruiter})"


# --- The worker's own voice: check-ins by signed link ----------------------------------------------------


class CheckInLanguage(models.TextChoices):
    SPANISH = "es", "Español"
    ENGLISH = "en", "English"
    TAGALOG = "tl", "Tagalog"


class CheckIn(models.Model):
    """One short questionnaire for one worker at one moment, reached by a link no one can guess.

    Only the SHA-256 of the link's secret is kept (the secret is shown once, when the check-in is made); the
    link works until it is answered or expires. Its answers are append-only (``CheckInAnswer``) and become
    facts about the worker: a fee paid is a ``FeeReport`` from the worker, what they say of their job a
    survey (``Evidence`` with source ``worker``). A recruiter never sees a check-in or who answered it.
    """

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="check_ins")
    moment = models.CharField(max_length=20, choices=CheckInMoment.choices)
    season = models.PositiveSmallIntegerField(default=1, help_text="The worker's season it asks about.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(
        max_length=5, choices=CheckInLanguage.choices, default=CheckInLanguage.SPANISH, help_text="Last chosen."
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    language_chosen = models.BooleanField(default=False, help_text="The worker chose the language on the page.")

    objects = CheckInQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "check-in"
        constraints = [
            models.CheckConstraint(condition=Q(moment__in=CheckInMoment.values), name="check_in_moment_valid"),
            models.CheckConstraint(condition=Q(language__in=CheckInLanguage.values), name="check_in_language_valid"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="check_in_expires_after_made"),
            models.CheckConstraint(condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"), name="check_in_token_is_sha256"),
        ]
        indexes = [models.Index(fields=["worker", "moment"])]

    def __str__(self) -> str:
        return f"{self.get_moment_display()} check-in for {self.worker}"


@pgtrigger.register(
    pgtrigger.Protect(name="check_in_answers_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class CheckInAnswer(models.Model):
    """One answer of a check-in, as the worker gave it. Append-only: a worker's word is never edited."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="answers")
    question = models.CharField(max_length=40)
    value = models.JSONField()
    answered_at = models.DateTimeField(default=timezone.now)

    objects = CheckInAnswerQuerySet.as_manager()

    class Meta:
        ordering = ["check_in", "id"]
        constraints = [
            models.UniqueConstraint(fields=["check_in", "question"], name="check_in_answer_once_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"


class OutboxChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    FIELD = "field", _("Field team (a list of links to hand out)")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (no more tries)")
    CANCELLED = "cancelled", _("Cancelled (consent withdrawn or data erased)")


class OutboxMessage(models.Model):
    """A check-in link on its way to a worker: by email, by SMS, or through the field team's list.

    The link holds the check-in's secret, so it is kept encrypted, and only until the check-in closes; the
    recipient is read from the worker when the message is sent. Sending is the outbox job's (``outbox_send``):
    a failure is retried a few times, then the message stays failed, with why, for staff to see.
    """

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=10, choices=OutboxChannel.choices)
    reminder = models.BooleanField(default=False, help_text="A reminder of a check-in not answered yet.")
    link = EncryptedTextField()
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=OutboxChannel.values), name="outbox_channel_valid"),
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "channel", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {'reminder' if self.reminder else 'invitation'} for {self.check_in}"


# --- Personal data on a need-to-know basis ---------------------------------------------------------------


class RevealableField(models.TextChoices):
    """The personal fields that pages and the API show masked, and a reveal shows in full."""

    DATE_OF_BIRTH = "date_of_birth", _("Date of birth")
    IDENTITY_DOCUMENT_NUMBER = "identity_document_number", _("Identity document number")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class AccessChannel(models.TextChoices):
    DASHBOARD = "dashboard", _("Dashboard")
    API = "api", _("API")


class PersonalDataAccess(models.Model):
    """One reveal of a worker's personal data ("break the glass"): who, which worker, which fields, why, when,
    and until when the values were shown. Written by ``workers.services.personal_data_reveal`` only, never
    changed nor deleted: the access log staff read per worker and admins for everyone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="personal_data_accesses")
    fields = ArrayField(models.CharField(max_length=30, choices=RevealableField.choices))
    reason = models.TextField()
    channel = models.CharField(max_length=20, choices=AccessChannel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "personal data access"
        verbose_name_plural = "personal data accesses"
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="personal_access_expires_later"),
            models.CheckConstraint(condition=~Q(reason=""), name="personal_access_has_reason"),
            models.CheckConstraint(condition=Q(fields__len__gt=0), name="personal_access_names_fields"),
            models.CheckConstraint(condition=Q(channel__in=AccessChannel.values), name="personal_access_channel_valid"),
        ]
        indexes = [models.Index(fields=["worker", "-created_at"], name="personal_access_by_worker")]

    def __str__(self) -> str:
        fields = ", ".join(self.fields)
        return f"{self.user} read {fields} of worker {self.worker_id} at {self.created_at:%Y-%m-%d %H:%M}"

    def is_valid_at(self, moment: datetime.datetime) -> bool:
        return self.created_at <= moment < self.expires_at

    @property
    def field_labels(self) -> list[str]:
        labels = dict(RevealableField.choices)
        return [str(labels.get(name, name)) for name in self.fields]


# --- Consent, erasure on request ------------------------------------------------------------------------


class ConsentChannel(models.TextChoices):
    """How a worker gave (or withdrew) their consent."""

    PAPER = "paper", _("Signed on paper")
    VERBAL = "verbal", _("Verbally, before a witness")
    OWN_LINK = "own_link", _("The worker's own link")
    ELECTRONIC = "electronic", _("Signed electronically")
    UNRECORDED = "unrecorded", _("Not recorded")


class Consent(models.Model):
    """One consent of a worker to their data being held for the pilot: which version of the consent text they
    agreed to (``CONSENT_TEXT_VERSION`` when it was recorded), how, and when; withdrawn once, with how and by
    whom it was recorded. Written by ``workers.consent`` only; a consent given again is a new row."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="consents")
    text_version = models.CharField(max_length=40, help_text="The version of the consent text the worker agreed to.")
    channel = models.CharField(max_length=20, choices=ConsentChannel.choices)
    given_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_channel = models.CharField(max_length=20, choices=ConsentChannel.choices, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["worker", "-given_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=ConsentChannel.values), name="consent_channel_valid"),
            models.CheckConstraint(condition=~Q(text_version=""), name="consent_names_text_version"),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True, withdrawal_channel="")
                | Q(withdrawn_at__isnull=False, withdrawal_channel__in=ConsentChannel.values),
                name="consent_withdrawal_has_channel",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=F("given_at")),
                name="consent_withdrawn_after_given",
            ),
        ]
        indexes = [models.Index(fields=["worker", "-given_at"], name="consent_by_worker")]

    def __str__(self) -> str:
        state = f", withdrawn {self.withdrawn_at:%Y-%m-%d}" if self.withdrawn_at else ""
        return f"Consent of worker {self.worker_id} to text {self.text_version} ({self.channel}){state}"


class ErasureTrigger(models.TextChoices):
    REQUEST = "request", _("The worker's request")
    RETENTION = "retention", _("The retention period ended")


class WorkerErasure(models.Model):
    """The record that a worker's personal data was erased: who, when, why, and how many rows and files were
    touched; never the erased values. Written by ``workers.erasure.worker_erase`` only, once a worker."""

    worker = models.OneToOneField(Worker, on_delete=models.PROTECT, related_name="erasure")
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the retention job.",
    )
    erased_at = models.DateTimeField(default=timezone.now)
    trigger = models.CharField(max_length=20, choices=ErasureTrigger.choices)
    reason = models.TextField()
    counts = models.JSONField(default=dict, blank=True, help_text="Rows and files erased, by kind (no values).")

    class Meta:
        ordering = ["-erased_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="erasure_has_reason"),
            models.CheckConstraint(condition=Q(trigger__in=ErasureTrigger.values), name="erasure_trigger_valid"),
        ]

    def __str__(self) -> str:
        return f"Personal data of worker {self.worker_id} erased at {self.erased_at:%Y-%m-%d %H:%M}"


class RetentionReport(models.Model):
    """A dry run of the retention job: the workers it would erase, as of that day. The job erases only workers
    listed by a report made at least ``RETENTION_NOTICE_DAYS`` days before who still fall due: no one is erased
    who was not announced first (``workers.retention``)."""

    made_at = models.DateTimeField(default=timezone.now)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cutoff = models.DateField(help_text="Pilots closed (ended) on or before this day fall due.")
    worker_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"Retention report of {self.made_at:%Y-%m-%d}: {len(self.worker_ids)} workers due"
