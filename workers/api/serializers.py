"""What the API shows of workers, their journey and evidence, and what it takes to register, move and document them.

Personal data (identity document number, date of birth, phone, e-mail) is written in full and always read
masked, in lists and on the detail alike: the full values come only from a reveal
(``POST /api/v1/workers/{id}/reveal/``, ``PersonalDataRevealSerializer``), which is logged.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import EmailValidator
from django.urls import reverse
from django.utils import timezone
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lamp.api_base import ErrorSerializer, money
from lamp.currencies import CURRENCY_CHOICES
from lamp.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from lamp.parsers import JsonTooDeep
from lamp.parsers import loads as json_loads
from pilots.stages import Stage
from workers.models import (
    Employment,
    Evidence,
    EvidenceKind,
    FeeCategory,
    FeeDeclaration,
    FeeReport,
    FeeSource,
    JourneyEvent,
    PersonalDataAccess,
    RevealableField,
    SeparationReason,
    Source,
    Worker,
)
from workers.services import EVIDENCE_SIGNATURES, MAX_EVIDENCE_BYTES, evidence_file_check  # noqa: F401 - named here too

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")

#: ISO 639-1 two-letter language codes.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
    is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
    ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si
    sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu""".split()
)


class DuplicateErrorSerializer(ErrorSerializer):
    """A 409: the caller's recruiter already registered this person."""

    existing_id = serializers.IntegerField(
        required=False,
        help_text="The id of the caller's worker who matches; absent when the 409 is about an `Idempotency-Key` "
        "whose first request is still running.",
    )


@extend_schema_field({"type": "string", "description": "ISO 3166-1 alpha-2 country code", "example": "GT"})
class CountryCodeField(CountryField):
    """A country as its ISO 3166-1 alpha-2 code (the schema gives a code, not a 250-value enum per field)."""


@extend_schema_field({"type": "string", "maxLength": 254, "description": "An e-mail address; empty when none."})
class OptionalEmailField(serializers.CharField):
    """An e-mail address or an empty string (the schema's ``format: email`` would refuse the empty one)."""

    default_error_messages = {"invalid": "Enter a valid email address."}

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value:
            # Checked here, not as a field validator: drf-spectacular would read one as ``format: email``.
            EmailValidator(message=self.error_messages["invalid"])(value)
        return value


@extend_schema_field({"allOf": [{"$ref": "#/components/schemas/StageEnum"}], "readOnly": True})
class StageField(serializers.CharField):
    """A worker's current stage: the same choices as a journey event's ``stage``."""


# One enum component (StageEnum) for every stage a worker endpoint takes or gives, apart from the pilots'
# required stages (a list of the same choices, named after its own field).
@extend_schema_field({"type": "string", "enum": list(Stage.values), "x-spec-enum-id": "workers.Stage"})
class StageChoiceField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Stage.choices, **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": list(CEFR_LEVELS)},
        "example": {"en": "B1", "de": "A2"},
    }
)
class LanguageLevelsField(serializers.JSONField):
    """CEFR levels (A1…C2) by ISO 639-1 language code, e.g. ``{"en": "B1", "de": "A2"}``."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, dict):
            raise serializers.ValidationError('Expected an object of CEFR levels by language, e.g. {"en": "B1"}.')
        levels = {}
        for language, level in data.items():
            code = str(language).strip().lower()
            if code not in ISO_639_1:
                raise serializers.ValidationError(f"'{language}' is not an ISO 639-1 language code.")
            if not isinstance(level, str) or level.strip().upper() not in CEFR_LEVELS:
                raise serializers.ValidationError(f"'{level}' is not a CEFR level ({', '.join(CEFR_LEVELS)}).")
            levels[code] = level.strip().upper()
        return levels


@extend_schema_field({"type": "object", "additionalProperties": True, "example": {"fee_paid": False}})
class JSONObjectField(serializers.JSONField):
    """A JSON object, sent as JSON or, in a multipart form, as a string holding JSON."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str | bytes):
            try:
                data = json_loads(data)  # never deeper than the API's limit: no RecursionError
            except JsonTooDeep as error:
                raise serializers.ValidationError(str(error)) from error
            except ValueError as error:
                raise serializers.ValidationError(f"Not valid JSON: {error}.") from error
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected a JSON object.")
        if "\\u0000" in json.dumps(data):
            raise serializers.ValidationError("Null characters are not allowed.")
        return data


PERSON_FIELDS = [
    "given_names",
    "family_names",
    "gender",
    "nationality",
    "email",
    "identity_document_type",
    "identity_document_country",
    "language_levels",
    "consent_given_at",
]
JOURNEY_FIELDS = ["current_stage", "season", "stage_changed_on"]


class WorkerSerializer(serializers.ModelSerializer):
    """A worker in full: the detail for their recruiter and staff, and what registration and edits take.

    ``recruiter`` is given by staff only (a recruiter registers its own workers); ``pilot`` must be a pilot
    the recruiter is assigned to. Neither changes later, nor does the stage: the journey moves through
    ``POST /api/v1/workers/{id}/events/``.
    """

    pilot = serializers.IntegerField(
        source="pilot_id", required=False, help_text="A pilot the recruiter is assigned to; fixed once registered."
    )
    recruiter = serializers.IntegerField(
        source="recruiter_id",
        required=False,
        help_text="The recruiter (profile id): given by staff, the caller's own for a recruiter; fixed once "
        "registered.",
    )
    date_of_birth = serializers.DateField(write_only=True, help_text="Kept encrypted; read back masked.")
    nationality = CountryCodeField()
    email = OptionalEmailField(
        required=False, allow_blank=True, max_length=254, write_only=True, help_text="Read back masked."
    )
    identity_document_country = CountryCodeField(
        required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2 code; the nationality when left out."
    )
    current_stage = StageField(read_only=True)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, allow_null=True, write_only=True, help_text="Kept encrypted."
    )
    identity_document_number = serializers.CharField(
        max_length=60, required=False, allow_blank=True, allow_null=True, write_only=True, help_text="Kept encrypted."
    )
    # What is read back: the masked copies (``POST /api/v1/workers/{id}/reveal/`` shows the values, logged).
    date_of_birth_masked = serializers.CharField(read_only=True, help_text="The year only: `1994-••-••`.")
    birth_year = serializers.IntegerField(read_only=True, allow_null=True, help_text="In clear, for reporting.")
    phone_masked = serializers.CharField(read_only=True, help_text="The last 3 digits only.")
    email_masked = serializers.CharField(read_only=True, help_text="The first character and the domain only.")
    identity_document_masked = serializers.CharField(read_only=True, help_text="The last 4 characters only.")
    language_levels = LanguageLevelsField(required=False)

    class Meta:
        model = Worker
        fields = [
            "id",
            *PERSON_FIELDS[:2],
            "date_of_birth",
            "date_of_birth_masked",
            "birth_year",
            *PERSON_FIELDS[2:4],
            "phone",
            "phone_masked",
            "email",
            "email_masked",
            *PERSON_FIELDS[5:7],
            "identity_document_number",
            "identity_document_masked",
            *PERSON_FIELDS[7:],
            "pilot",
            "recruiter",
            *JOURNEY_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", *JOURNEY_FIELDS, "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            return attrs
        # Read-only after registration: refused rather than silently ignored, so a client learns why.
        errors = {}
        for name in ("pilot", "recruiter", *JOURNEY_FIELDS):
            if name in self.initial_data and str(self.initial_data[name]) != str(self.data_of(name)):
                errors[name] = (
                    "The journey moves through POST /api/v1/workers/{id}/events/, not by editing the worker."
                    if name in JOURNEY_FIELDS
                    else f"A worker's {name} cannot change once registered."
                )
        if errors:
            raise serializers.ValidationError(errors)
        attrs.pop("pilot_id", None)
        attrs.pop("recruiter_id", None)
        return attrs

    def data_of(self, name: str) -> Any:
        value = getattr(self.instance, {"pilot": "pilot_id", "recruiter": "recruiter_id"}.get(name, name))
        return value.isoformat() if hasattr(value, "isoformat") else value


class WorkerListSerializer(serializers.ModelSerializer):
    """A worker as lists show them: the document number, date of birth, phone and e-mail masked."""

    pilot = serializers.IntegerField(source="pilot_id", read_only=True)
    recruiter = serializers.IntegerField(source="recruiter_id", read_only=True)
    date_of_birth_masked = serializers.CharField(read_only=True, help_text="The year only: `1994-••-••`.")
    birth_year = serializers.IntegerField(read_only=True, allow_null=True, help_text="In clear, for reporting.")
    phone_masked = serializers.CharField(read_only=True, help_text="The last 3 digits only.")
    email_masked = serializers.CharField(read_only=True, help_text="The first character and the domain only.")
    identity_document_masked = serializers.CharField(read_only=True, help_text="The last 4 characters only.")
    nationality = CountryCodeField(read_only=True)
    identity_document_country = CountryCodeField(read_only=True)
    current_stage = StageField(read_only=True)

    class Meta:
        model = Worker
        fields = [
            "id",
            "given_names",
            "family_names",
            "date_of_birth_masked",
            "birth_year",
            "gender",
            "nationality",
            "phone_masked",
            "email_masked",
            "identity_document_type",
            "identity_document_country",
            "identity_document_masked",
            "language_levels",
            "consent_given_at",
            "pilot",
            "recruiter",
            *JOURNEY_FIELDS,
        ]
        read_only_fields = fields


class JourneyEventSerializer(serializers.ModelSerializer):
    stage = StageChoiceField(read_only=True)
    pilot = serializers.IntegerField(source="pilot_id", read_only=True)
    recorded_by = serializers.IntegerField(source="recorded_by_id", read_only=True, allow_null=True)
    evidence = serializers.IntegerField(source="evidence_id", read_only=True, allow_null=True)

    class Meta:
        model = JourneyEvent
        fields = [
            "id",
            "stage",
            "season",
            "pilot",
            "occurred_on",
            "recorded_at",
            "recorded_by",
            "evidence",
            "note",
            "is_override",
            "override_reason",
        ]
        read_only_fields = fields


class JourneyMoveSerializer(serializers.Serializer):
    stage = StageChoiceField()
    occurred_on = serializers.DateField(required=False, help_text="Today when left out; never in the future.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    evidence = serializers.IntegerField(required=False, allow_null=True, help_text="Id of evidence about this worker.")
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="Program staff only: record a move the journey rules refuse (a skip, a step back), with why.",
    )


class EvidenceSerializer(serializers.ModelSerializer):
    """A piece of evidence. To add one: a ``file`` (PDF, PNG, JPEG or WebP, at most 10 MiB) or a ``reference``
    to where the evidence is kept, or both, with its ``kind``."""

    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    file = serializers.FileField(write_only=True, required=False, allow_empty_file=False)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    description = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    facts = JSONObjectField(required=False, default=dict)
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True, allow_null=True)
    source = serializers.ChoiceField(
        choices=Source.choices,
        read_only=True,
        help_text="Who supplied it, from the uploader's organisation and the channel; never taken from the request.",
    )
    source_organisation = serializers.IntegerField(
        source="source_organisation_id",
        read_only=True,
        allow_null=True,
        help_text="The organisation that supplied it; null for program staff or the worker.",
    )
    filename = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField(help_text="Where to fetch the file; null when there is none.")

    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "file",
            "reference",
            "description",
            "facts",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "uploaded_by",
            "source",
            "source_organisation",
            "download",
        ]
        read_only_fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "uploaded_by",
            "source",
            "source_organisation",
        ]

    def get_filename(self, evidence: Evidence) -> str | None:
        return evidence.file.name.rsplit("/", 1)[-1] if evidence.file else None

    def get_download(self, evidence: Evidence) -> str | None:
        if not evidence.file:
            return None
        url = reverse("worker-evidence-download", kwargs={"pk": evidence.worker_id, "evidence_id": evidence.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def validate_file(self, file: UploadedFile) -> UploadedFile:
        # The checks are the service's, shared with the dashboard's upload form.
        try:
            return evidence_file_check(file)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict["file"]) from error

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("file") and not attrs.get("reference", "").strip():
            raise serializers.ValidationError({"file": "Upload a file or give a reference to where it is kept."})
        return attrs


class FeeReportSerializer(serializers.ModelSerializer):
    """A fee a worker paid to be recruited, in an ILO category. The pilots are zero-fee: any amount above 0 is
    a finding, and reverses a verified ``ZERO_FEE`` outcome of the worker."""

    worker = serializers.IntegerField(source="worker_id", help_text="One of the caller's workers.")
    recruiter = serializers.IntegerField(source="recruiter_id", read_only=True, help_text="The worker's recruiter.")
    category = serializers.ChoiceField(choices=FeeCategory.choices, help_text="ILO category of fee or related cost.")
    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, min_value=0, coerce_to_string=True
    )
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, help_text="ISO 4217")
    source = serializers.ChoiceField(
        choices=FeeSource.choices, required=False, help_text="Always `recruiter` when a recruiter reports."
    )
    reported_by = serializers.IntegerField(source="reported_by_id", read_only=True, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class Meta:
        model = FeeReport
        fields = [
            "id",
            "worker",
            "recruiter",
            "category",
            "amount",
            "currency",
            "paid_to",
            "paid_on",
            "recovered_by_wage_deduction",
            "source",
            "reported_by",
            "reported_at",
            "note",
        ]
        read_only_fields = ["id", "recruiter", "reported_by", "reported_at"]

    def to_representation(self, instance: FeeReport) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["amount"] = money(instance.amount, instance.currency)
        return data


class FeeDeclarationSerializer(serializers.ModelSerializer):
    """The recruiter's declaration that it charged the worker no fee or related cost (once per recruiter)."""

    worker = serializers.IntegerField(source="worker_id", read_only=True)
    recruiter = serializers.IntegerField(source="recruiter_id", read_only=True)
    declared_by = serializers.IntegerField(source="declared_by_id", read_only=True, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    class Meta:
        model = FeeDeclaration
        fields = ["id", "worker", "recruiter", "declared_by", "declared_at", "note"]
        read_only_fields = ["id", "worker", "recruiter", "declared_by", "declared_at"]


class EmploymentSerializer(serializers.ModelSerializer):
    """A worker's job in one of the pilot's job openings: its start and, once it ended, its end and why.

    ``source`` says who recorded it (the employer, the recruiter, staff), from the signed-in user's organisation.
    """

    job_opening = serializers.IntegerField(source="job_opening_id", help_text="Id of the job opening.")
    employer = serializers.IntegerField(source="job_opening.employer_id", read_only=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    separation_reason = serializers.ChoiceField(
        choices=SeparationReason.choices, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    source = serializers.ChoiceField(choices=Source.choices, read_only=True)
    source_organisation = serializers.IntegerField(source="source_organisation_id", read_only=True, allow_null=True)

    class Meta:
        model = Employment
        fields = [
            "id",
            "job_opening",
            "employer",
            "start_date",
            "end_date",
            "separation_reason",
            "note",
            "source",
            "source_organisation",
        ]
        read_only_fields = ["id", "employer", "source", "source_organisation"]

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        today = timezone.localdate()
        errors = {}
        for name in ("start_date", "end_date"):
            day = data.get(name)
            if day is not None and day > today:
                errors[name] = "Record an employment as it happened: this date is in the future."
            elif day is not None and day.year < 2000:
                errors[name] = "No pilot employment started before 2000: check the year."
        if errors:
            raise serializers.ValidationError(errors)
        return data


class EmploymentEndSerializer(serializers.Serializer):
    """The end of an employment: the day it ended and why (``contract_completed``, ``resigned``…)."""

    end_date = serializers.DateField()
    separation_reason = serializers.ChoiceField(choices=SeparationReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate_end_date(self, day: datetime.date) -> datetime.date:
        if day > timezone.localdate():
            raise serializers.ValidationError("An employment cannot end in the future.")
        return day


# --- Reveals of personal data, and their log ---------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(RevealableField.values)},
        "minItems": 1,
        "example": ["date_of_birth", "identity_document_number"],
    }
)
class RevealFieldsField(serializers.ListField):
    """The personal fields to reveal (checked, with the reason, by ``workers.services.personal_data_reveal``)."""

    child = serializers.CharField(max_length=40)


class PersonalDataRevealSerializer(serializers.Serializer):
    """What a reveal takes: the fields to see in full, and why (at least 10 characters)."""

    # (The metaclass takes declared fields off the class: ``fields`` here does not hide ``Serializer.fields``.)
    fields = RevealFieldsField(allow_empty=True, max_length=len(RevealableField.values) * 2)
    reason = serializers.CharField(
        allow_blank=True, max_length=2000, help_text="Why you need to see it: at least 10 characters."
    )


@extend_schema_field(
    {
        "type": "object",
        "properties": {name: {"type": "string", "nullable": True} for name in RevealableField.values},
        "example": {"date_of_birth": "1998-04-12", "identity_document_number": "G19845320"},
    }
)
class RevealedValuesField(serializers.DictField):
    """The values revealed, by field: ``null`` for one not recorded."""


class PersonalDataRevealedSerializer(serializers.Serializer):
    """A reveal's answer: the values, until when they may be shown, and the access row that records it."""

    access = serializers.IntegerField(help_text="The id of the access recorded in the worker's access log.")
    values = RevealedValuesField()
    expires_at = serializers.DateTimeField(help_text="Show the values until then, and forget them after.")


class PersonalDataAccessSerializer(serializers.ModelSerializer):
    """One reveal in a worker's access log: who, which fields, why, when, and until when."""

    user = serializers.IntegerField(source="user_id", read_only=True)
    user_name = serializers.CharField(source="user.get_username", read_only=True)
    fields = serializers.ListField(child=serializers.ChoiceField(choices=RevealableField.choices), read_only=True)

    class Meta:
        model = PersonalDataAccess
        fields = ["id", "user", "user_name", "fields", "reason", "channel", "created_at", "expires_at"]
        read_only_fields = fields
