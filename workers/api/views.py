"""Workers: registration (with duplicate detection), edits, the journey and evidence, each caller seeing
only its own workers (staff: every worker; funders: none, they are personal data)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from lamp.api_base import (
    KeysetPagination,
    ReadOnlyViewSet,
    bad_input,
    error_body,
    error_example,
    error_response,
    not_found,
)
from lamp.parsers import FormParser, JSONParser, MultiPartParser
from lamp.tenancy import tenancy_of
from pilots.models import JobOpening, Pilot
from recruitment.models import Recruiter
from workers.api import examples
from workers.api import personal_data as examples_erasure
from workers.api.filtersets import FeeReportFilterSet, WorkerFilterSet
from workers.api.personal_data import (
    ConsentRecordSerializer,
    ConsentSerializer,
    ConsentWithdrawSerializer,
    ErasureRequestSerializer,
    ErasureSerializer,
)
from workers.api.serializers import (
    EVIDENCE_SIGNATURES,
    DuplicateErrorSerializer,
    EmploymentEndSerializer,
    EmploymentSerializer,
    EvidenceSerializer,
    FeeDeclarationSerializer,
    FeeReportSerializer,
    JourneyEventSerializer,
    JourneyMoveSerializer,
    PersonalDataAccessSerializer,
    PersonalDataRevealedSerializer,
    PersonalDataRevealSerializer,
    WorkerListSerializer,
    WorkerSerializer,
)
from workers.consent import consent_record, consent_withdraw
from workers.erasure import ErasureRefused, worker_erase
from workers.journey import JourneyError
from workers.models import (
    AccessChannel,
    Employment,
    Evidence,
    FeeDeclaration,
    FeeReport,
    FeeSource,
    JourneyEvent,
    PersonalDataAccess,
    Worker,
)
from workers.services import (
    DuplicateWorker,
    employment_save,
    evidence_add,
    fee_declaration_record,
    fee_report_record,
    journey_move,
    personal_data_may_reveal,
    personal_data_reveal,
    personal_data_values,
    worker_register_unique,
    worker_update,
)
from workers.subject_access import JSON, PDF, subject_access_log, worker_export, worker_export_pdf


class WorkerCursorPagination(KeysetPagination):
    """``?cursor=…`` pages in id order (``lamp.api_base.KeysetPagination``): no ``?ordering=``."""

    ordering = ("id",)
    example_path = "/api/v1/workers/"


#: The download's examples, by content type: a file is bytes, shown here by how it starts.
DOWNLOAD_EXAMPLES = {
    "application/pdf": ("PDF", "%PDF-1.7 … (the employer's attestation, as uploaded)"),
    "image/png": ("PNG", "(a scan of the visa page, as uploaded)"),
    "image/jpeg": ("JPEG", "(a photo of the boarding pass, as uploaded)"),
    "image/webp": ("WebP", "(a photo of the training certificate, as uploaded)"),
}


def sees_personal_data(user: Any, worker: Worker) -> bool:
    """Whether ``user`` may change ``worker`` and read the detail (masked, as every answer is; the values only
    through a reveal, ``workers.services.personal_data_may_reveal``)."""
    tenancy = tenancy_of(user)
    return tenancy.staff or (tenancy.recruiter is not None and tenancy.recruiter == worker.recruiter.organisation_id)


def validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A model's ``full_clean`` error as the API's 400, naming the fields."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return exceptions.ValidationError(error.messages)


def duplicate_response(duplicate: DuplicateWorker) -> Response:
    """The 409 for a person the caller's recruiter already has, naming their worker (and nothing else)."""
    field = "identity_document_number" if duplicate.reason == "identity_document" else None
    message = f"This worker is already registered as worker {duplicate.existing_id} " + (
        "(same identity document)." if field else "(same names, date of birth and nationality)."
    )
    return Response(error_body(message, field, existing_id=duplicate.existing_id), status=status.HTTP_409_CONFLICT)


EDIT_DESCRIPTION = (
    "The pilot, the recruiter and the journey fields do not change here (a 400 names the field). An edit of "
    "the identity document, or of the names, date of birth or nationality, is checked for duplicates as a "
    "registration is: the same person among this recruiter's other workers is a 409 naming them, and nothing "
    "is changed; a match among another recruiter's workers is flagged for staff, unseen, and the edit is made."
)


ERRORS = {
    400: bad_input(*examples.BAD_EDIT),
    404: not_found("worker", "Worker"),
}
DUPLICATE = error_response(
    "The same person (identity document, or names + date of birth + nationality) is already one of this "
    "recruiter's workers: `existing_id` names them, and nothing was written. A match among another "
    "recruiter's workers is not an error: it is flagged for staff, and the caller is not told.",
    examples.DUPLICATE_OWN,
    examples.DUPLICATE_BY_NAME,
    serializer=DuplicateErrorSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary="Workers (personal data masked)",
        responses=WorkerListSerializer(many=True),
        examples=examples.EXAMPLES["list"],
    ),
    retrieve=extend_schema(
        summary="A worker, personal data masked (the values through a logged reveal)",
        responses={200: WorkerSerializer, 404: ERRORS[404]},
        examples=examples.EXAMPLES["retrieve"],
    ),
    create=extend_schema(
        summary="Register a worker",
        description="Records the first journey event (`registered`). The same person (identity document, or "
        "names + date of birth + nationality) already registered by the caller's recruiter is a 409 naming "
        "the existing worker, and nothing is written. Send `Idempotency-Key` to retry safely.",
        request=WorkerSerializer,
        responses={
            201: WorkerSerializer,
            400: bad_input(*examples.BAD_REGISTRATION),
            403: error_response(
                "Neither a recruiter nor program staff.",
                error_example("A funder", "Only recruiters and program staff register workers."),
            ),
            409: DUPLICATE,
        },
        examples=examples.EXAMPLES["registration"],
    ),
    update=extend_schema(
        summary="Replace a worker's personal data",
        description=EDIT_DESCRIPTION,
        responses={200: WorkerSerializer, **ERRORS, 409: DUPLICATE},
        examples=examples.EXAMPLES["update"],
    ),
    partial_update=extend_schema(
        summary="Change some of a worker's personal data",
        description=EDIT_DESCRIPTION,
        responses={200: WorkerSerializer, **ERRORS, 409: DUPLICATE},
        examples=examples.EXAMPLES["partial_update"],
    ),
)
class WorkerViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadOnlyViewSet):
    """The recruiter's own workers; no delete (a worker who leaves the pilot exits through the journey)."""

    filterset_class = WorkerFilterSet
    pagination_class = WorkerCursorPagination
    # Cursor pagination fixes the order (by id): no ?ordering=.
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    search_fields = ["given_names", "family_names", "email"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Worker]:
        # Answers show the stored masked copies: the encrypted columns are neither read nor decrypted (a reveal
        # reads the fields it names, ``workers.services.personal_data_values``).
        workers = Worker.objects.visible_to(self.request.user).defer(
            "phone", "identity_document_number", "date_of_birth"
        )
        if self.action in ("list", "create"):
            return workers
        return workers.select_related("recruiter")

    def get_serializer_class(self) -> type:
        if self.action == "list":
            return WorkerListSerializer
        return WorkerSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        worker = self.get_object()
        serializer_class = WorkerSerializer if sees_personal_data(request.user, worker) else WorkerListSerializer
        return Response(serializer_class(worker, context=self.get_serializer_context()).data)

    # --- Registration and edits ---------------------------------------------------------------------

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        recruiter, pilot = self._recruiter_and_pilot(data.pop("recruiter_id", None), data.pop("pilot_id", None))
        data["phone"] = data.get("phone") or None
        try:
            worker = worker_register_unique(
                recruiter=recruiter,
                pilot=pilot,
                registered_on=timezone.localdate(),
                recorded_by=request.user,
                identity_document_number=data.pop("identity_document_number", None) or "",
                identity_document_country=str(data.pop("identity_document_country", "") or ""),
                **data,
            )
        except DuplicateWorker as duplicate:
            return duplicate_response(duplicate)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(self.get_serializer(worker).data, status=status.HTTP_201_CREATED)

    def _recruiter_and_pilot(self, recruiter_id: int | None, pilot_id: int | None) -> tuple[Recruiter, Pilot]:
        """The recruiter a new worker belongs to (the caller's own, or the one staff name) and their pilot,
        which must be one the recruiter is assigned to. An id outside the caller's world is refused with the
        same words as one that does not exist."""
        tenancy = tenancy_of(self.request.user)
        errors: dict[str, str] = {}
        recruiter = None
        if tenancy.staff:
            if recruiter_id is None:
                errors["recruiter"] = "Staff must name the recruiter (profile id) the worker belongs to."
            else:
                recruiter = Recruiter.objects.filter(pk=recruiter_id).first()
                if recruiter is None:
                    errors["recruiter"] = f"No recruiter with id {recruiter_id}."
        elif tenancy.recruiter is not None:
            recruiter = Recruiter.objects.filter(organisation_id=tenancy.recruiter).first()
            if recruiter is None:
                raise exceptions.PermissionDenied("Your organisation has no recruiter profile.")
            if recruiter_id is not None and recruiter_id != recruiter.pk:
                errors["recruiter"] = "A recruiter registers workers for its own recruiter profile only."
        else:
            raise exceptions.PermissionDenied("Only recruiters and program staff register workers.")
        pilot = None
        if pilot_id is None:
            errors["pilot"] = "This field is required."
        elif recruiter is not None:
            pilot = Pilot.objects.filter(pk=pilot_id, recruiter_assignments__recruiter=recruiter).first()
            if pilot is None:
                errors["pilot"] = f"No pilot with id {pilot_id} that the recruiter is assigned to."
        if errors:
            raise exceptions.ValidationError(errors)
        assert recruiter is not None and pilot is not None
        return recruiter, pilot

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        worker = self.get_object()
        if not sees_personal_data(request.user, worker):
            raise exceptions.PermissionDenied("Only the worker's recruiter and staff change a worker.")
        serializer = self.get_serializer(worker, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "phone" in data:
            data["phone"] = data["phone"] or None
        if "identity_document_number" in data:
            data["identity_document_number"] = data["identity_document_number"] or ""
        if "identity_document_country" in data:
            data["identity_document_country"] = str(data["identity_document_country"] or "")
        try:
            worker = worker_update(worker=worker, updated_by=request.user, **data)
        except DuplicateWorker as duplicate:
            return duplicate_response(duplicate)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(self.get_serializer(worker).data)

    # --- The journey --------------------------------------------------------------------------------

    # --- Personal data: revealed on purpose, and on the record ------------------------------------------

    @extend_schema(
        summary="Reveal some of a worker's personal data, with a reason (logged)",
        description="The worker's recruiter and program staff only (403 for anyone else who sees the worker). "
        "Writes one row of the worker's access log (who, fields, reason, when) and answers the values, which "
        "the caller shows until `expires_at` (`PERSONAL_DATA_REVEAL_MINUTES`, 5 by default) and never "
        "stores: the answer is `Cache-Control: no-store`. `fields` among `date_of_birth`, "
        "`identity_document_number`, `phone`, `email`; `reason` at least 10 characters.",
        request=PersonalDataRevealSerializer,
        responses={
            200: PersonalDataRevealedSerializer,
            400: bad_input(*examples.BAD_REVEAL),
            403: error_response("Neither the worker's recruiter nor program staff.", examples.NOT_A_REVEALER),
            404: ERRORS[404],
        },
        examples=examples.EXAMPLES["reveal"],
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        if not personal_data_may_reveal(user=request.user, worker=worker):
            raise exceptions.PermissionDenied(
                "Only program staff and the worker's own recruiter may reveal personal data."
            )
        asked = PersonalDataRevealSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            access = personal_data_reveal(
                worker=worker,
                user=request.user,
                fields=asked.validated_data["fields"],
                reason=asked.validated_data["reason"],
                channel=AccessChannel.API,
            )
        except DjangoPermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        except DjangoValidationError as error:
            raise validation_error(error) from error
        body = {
            "access": access.pk,
            "values": personal_data_values(access=access, user=request.user),
            "expires_at": access.expires_at,
        }
        response = Response(PersonalDataRevealedSerializer(body).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="A worker's access log: every reveal of their personal data, newest first",
        description="Program staff only (403 for the worker's recruiter).",
        responses={
            200: PersonalDataAccessSerializer(many=True),
            403: error_response("Not program staff.", examples.NOT_STAFF_LOG),
            404: ERRORS[404],
        },
        examples=examples.EXAMPLES["access_log"],
    )
    @action(detail=True, methods=["get"], url_path="access-log", pagination_class=None, filter_backends=[])
    def access_log(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        if not tenancy_of(request.user).staff:
            raise exceptions.PermissionDenied("Only program staff read the access log.")
        accesses = PersonalDataAccess.objects.filter(worker=worker).select_related("user")
        return Response(PersonalDataAccessSerializer(accesses, many=True).data)

    # --- Erasure on request, subject access, consent ----------------------------------------------------

    def _staff_only(self, message: str) -> None:
        if not tenancy_of(self.request.user).staff:
            raise exceptions.PermissionDenied(message)

    @extend_schema(
        summary="Erase a worker's personal data, keeping the row as a pseudonym (program staff)",
        description="Names, contacts, identity document, date of birth, free text and uploaded files go, in the "
        "history too; claims, payment lines and every figure stay as they were. A 409 naming `worker` while a "
        "case about the worker is open (a claim in staff review, an unresolved duplicate flag) or once erased; "
        "nothing is written then.",
        request=ErasureRequestSerializer,
        examples=examples_erasure.EXAMPLES["erase"],
        responses={
            201: ErasureSerializer,
            400: bad_input(error_example("No reason", examples_erasure.NO_REASON, "reason")),
            403: error_response("Not program staff.", error_example("Not staff", examples_erasure.NOT_STAFF_ERASE)),
            404: ERRORS[404],
            409: error_response(
                "A case about the worker is open, or the data was erased already.",
                error_example("A case open", examples_erasure.CASE_OPEN, "worker"),
            ),
        },
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def erase(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        self._staff_only("Only program staff erase a worker's data.")
        asked = ErasureRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            record = worker_erase(worker=worker, user=request.user, reason=asked.validated_data["reason"])
        except ErasureRefused as refused:
            return Response(error_body(refused.message, refused.field), status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(ErasureSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Everything held about a worker, in their language, as JSON (program staff; logged)",
        description="The worker's fields in full, consents, journey, employment, training, evidence, fees, "
        "check-ins and answers, messages, outcomes claimed and the access log; labels in the worker's language "
        "(`language`). Writes one row of the worker's access log. `Cache-Control: no-store`.",
        examples=examples_erasure.EXAMPLES["export"],
        responses={
            200: OpenApiTypes.OBJECT,
            403: error_response("Not program staff.", error_example("Not staff", examples_erasure.NOT_STAFF_EXPORT)),
            404: ERRORS[404],
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def export(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        self._staff_only("Only program staff export a worker's data.")
        subject_access_log(worker=worker, user=request.user, channel=AccessChannel.API, export_format=JSON)
        response = Response(worker_export(worker=worker))
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Everything held about a worker, in their language, as a PDF (program staff; logged)",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The PDF, as an attachment.",
                examples=[OpenApiExample("A PDF", value="%PDF-1.3 … (worker-4812.pdf)", media_type="application/pdf")],
            ),
            403: error_response("Not program staff.", error_example("Not staff", examples_erasure.NOT_STAFF_EXPORT)),
            404: ERRORS[404],
        },
    )
    @action(detail=True, methods=["get"], url_path="export/pdf", pagination_class=None, filter_backends=[])
    def export_pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        worker = self.get_object()
        self._staff_only("Only program staff export a worker's data.")
        subject_access_log(worker=worker, user=request.user, channel=AccessChannel.API, export_format=PDF)
        response = HttpResponse(worker_export_pdf(worker=worker), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="worker-{worker.pk}.pdf"'
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        methods=["GET"],
        summary="A worker's consents, newest first (program staff)",
        examples=examples_erasure.EXAMPLES["consent_get"],
        responses={200: ConsentSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a worker's consent: the channel, and the text version (the current one by default)",
        description="A consent given after a withdrawal lifts it. `given_at` not in the future.",
        request=ConsentRecordSerializer,
        examples=examples_erasure.EXAMPLES["consent_post"],
        responses={
            201: ConsentSerializer,
            400: bad_input(error_example("In the future", "Consent cannot be given in the future.", "given_at")),
            403: error_response("Not program staff.", error_example("Not staff", "Only program staff record consent.")),
            404: ERRORS[404],
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def consent(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        self._staff_only("Only program staff record consent.")
        if request.method == "GET":
            return Response(ConsentSerializer(worker.consents.order_by("-given_at", "-id"), many=True).data)
        asked = ConsentRecordSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            consent = consent_record(worker=worker, recorded_by=request.user, **asked.validated_data)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record that a worker withdrew their consent: their check-ins and messages stop (program staff)",
        description="Open check-in links close, no new one is made, messages waiting in the outbox are cancelled.",
        request=ConsentWithdrawSerializer,
        examples=examples_erasure.EXAMPLES["consent_withdraw"],
        responses={
            200: ConsentSerializer,
            400: bad_input(error_example("Withdrawn already", "This worker's consent is already withdrawn.", "worker")),
            403: error_response("Not program staff.", error_example("Not staff", "Only program staff record consent.")),
            404: ERRORS[404],
        },
    )
    @action(detail=True, methods=["post"], url_path="consent/withdraw", pagination_class=None, filter_backends=[])
    def consent_withdraw(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        self._staff_only("Only program staff record consent.")
        asked = ConsentWithdrawSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            channel = asked.validated_data["channel"]
            consent = consent_withdraw(worker=worker, withdrawn_by=request.user, channel=channel)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(ConsentSerializer(consent).data)

    @extend_schema(
        methods=["GET"],
        summary="A worker's journey events, oldest first",
        responses={200: JourneyEventSerializer(many=True), 404: ERRORS[404]},
        examples=examples.EXAMPLES["events_get"],
    )
    @extend_schema(
        methods=["POST"],
        summary="Move a worker along the journey",
        description="A move the journey refuses (a skip of a stage the pilot requires, a step back) is a 400 "
        "naming `stage`, with the current and requested stage in its message; a date in the future or before the "
        "current stage began, a 400 naming `occurred_on`. `override_reason` records a refused move anyway "
        "(never a date in the future): program staff only (403 otherwise).",
        request=JourneyMoveSerializer,
        responses={
            201: JourneyEventSerializer,
            400: bad_input(*examples.REFUSED_MOVE),
            403: error_response(
                "An override by someone other than staff.",
                error_example("Not staff", "Only program staff may override the journey."),
            ),
            404: ERRORS[404],
        },
        examples=examples.EXAMPLES["events_post"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        if request.method == "GET":
            events = JourneyEvent.objects.filter(worker=worker).order_by("recorded_at", "id")
            return Response(JourneyEventSerializer(events, many=True).data)
        if not sees_personal_data(request.user, worker):
            raise exceptions.PermissionDenied("Only the worker's recruiter and program staff move the journey.")
        move = JourneyMoveSerializer(data=request.data)
        move.is_valid(raise_exception=True)
        data = move.validated_data
        evidence = None
        if data.get("evidence") is not None:
            evidence = Evidence.objects.visible_to(request.user).filter(worker=worker, pk=data["evidence"]).first()
            if evidence is None:
                message = f"No evidence with id {data['evidence']} about this worker."
                raise exceptions.ValidationError({"evidence": message})
        try:
            event = journey_move(
                worker=worker,
                stage=data["stage"],
                occurred_on=data.get("occurred_on") or timezone.localdate(),
                recorded_by=request.user,
                evidence=evidence,
                note=data["note"],
                override_reason=data["override_reason"],
            )
        except JourneyError as error:
            message = error.message
            if f"'{error.current}'" not in message or f"'{error.requested}'" not in message:
                message = f"Cannot move from '{error.current}' to '{error.requested}': {message}"
            raise exceptions.ValidationError({error.field: [message]}) from error
        except DjangoPermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(JourneyEventSerializer(event).data, status=status.HTTP_201_CREATED)

    # --- Evidence -----------------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The evidence about a worker, newest first",
        responses={200: EvidenceSerializer(many=True), 404: ERRORS[404]},
        examples=examples.EXAMPLES["evidence_get"],
    )
    @extend_schema(
        methods=["POST"],
        summary="Add evidence about a worker",
        description="Multipart: a `file` (PDF, PNG, JPEG or WebP, at most 10 MiB; its content must match its "
        "declared type) or a `reference` to where the evidence is kept, with its `kind`; `facts` is a JSON "
        "object (a string holding JSON in a form). The file's SHA-256 is kept.",
        request=EvidenceSerializer,
        responses={201: EvidenceSerializer, 400: bad_input(*examples.BAD_UPLOAD), 404: ERRORS[404]},
        examples=examples.EXAMPLES["evidence_post"],
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=[],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def evidence(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            # What the caller may see of it: a recruiter never sees what the worker said themselves.
            rows = Evidence.objects.visible_to(request.user).filter(worker=worker).order_by("-uploaded_at", "-id")
            return Response(EvidenceSerializer(rows, many=True, context=context).data)
        upload = EvidenceSerializer(data=request.data, context=context)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        try:
            evidence = evidence_add(
                worker=worker,
                kind=data["kind"],
                uploaded_by=request.user,
                file=data.get("file"),
                reference=data["reference"],
                description=data["description"],
                facts=data["facts"],
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(EvidenceSerializer(evidence, context=context).data, status=status.HTTP_201_CREATED)

    # --- Employment: recorded by the recruiter or staff, attested and ended by the employer --------------

    def _may_record_employment(self, worker: Worker, job_opening: JobOpening | None = None) -> None:
        """Staff, the worker's recruiter (a start it placed them in), or the employer of the opening."""
        tenancy = tenancy_of(self.request.user)
        if tenancy.staff or sees_personal_data(self.request.user, worker):
            return
        if tenancy.employer is not None and (job_opening is None or job_opening.employer_id == tenancy.employer):
            return
        raise exceptions.PermissionDenied("Only staff, the worker's recruiter or the employer record employment.")

    @extend_schema(
        methods=["GET"],
        summary="A worker's employments, oldest first",
        description="An employer sees the employments in its own job openings only.",
        responses={200: EmploymentSerializer(many=True), 404: ERRORS[404]},
        examples=examples.EXAMPLES["employments_get"],
    )
    @extend_schema(
        methods=["POST"],
        summary="Record that a worker started a job",
        description="By the worker's recruiter, program staff, or the employer of the opening (for a worker it "
        "already employs). Who records it is its `source`: a start the recruiter records is the payee's own word "
        "and verifies no placement alone; the employer's record or attestation does.",
        request=EmploymentSerializer,
        responses={
            201: EmploymentSerializer,
            400: bad_input(
                error_example(
                    "In the future", "Record an employment as it happened: this date is in the future.", "start_date"
                ),
                error_example("Another pilot", "No job opening with id 14 in the worker's pilot.", "job_opening"),
            ),
            403: error_response(
                "Anyone else.",
                error_example("A funder", "Only staff, the worker's recruiter or the employer record employment."),
            ),
            404: ERRORS[404],
        },
        examples=examples.EXAMPLES["employments_post"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def employments(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        if request.method == "GET":
            rows = (
                Employment.objects.visible_to(request.user)
                .filter(worker=worker)
                .select_related("job_opening")
                .order_by("start_date", "id")
            )
            return Response(EmploymentSerializer(rows, many=True).data)
        serializer = EmploymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        opening_id = data.pop("job_opening_id")
        opening = JobOpening.objects.filter(pk=opening_id, pilot_id=worker.pilot_id).first()
        if opening is None:
            raise exceptions.ValidationError(
                {"job_opening": f"No job opening with id {opening_id} in the worker's pilot."}
            )
        self._may_record_employment(worker, opening)
        try:
            employment = employment_save(
                employment=Employment(worker=worker, job_opening=opening, **data), recorded_by=request.user
            )
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(EmploymentSerializer(employment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the end of an employment",
        description="The day it ended and why, by the employer of the opening, the worker's recruiter or staff. "
        "A separation before day N of a retention outcome sends its claim to review.",
        request=EmploymentEndSerializer,
        responses={
            200: EmploymentSerializer,
            400: bad_input(error_example("In the future", "An employment cannot end in the future.", "end_date")),
            403: error_response(
                "Anyone else.",
                error_example(
                    "Another employer", "Only staff, the worker's recruiter or the employer record employment."
                ),
            ),
            404: ERRORS[404],
        },
        examples=examples.EXAMPLES["employment_end"],
    )
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"employments/(?P<employment_id>[0-9]+)",
        url_name="employment",
        pagination_class=None,
        filter_backends=[],
    )
    def employment_end(self, request: Request, pk: str | None = None, employment_id: str | None = None) -> Response:
        worker = self.get_object()
        employment = (
            Employment.objects.visible_to(request.user)
            .select_related("job_opening")
            .filter(worker=worker, pk=employment_id)
            .first()
        )
        if employment is None:
            raise Http404("No such employment of this worker.")
        self._may_record_employment(worker, employment.job_opening)
        serializer = EmploymentEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        for name, value in serializer.validated_data.items():
            setattr(employment, name, value)
        try:
            employment = employment_save(employment=employment, recorded_by=request.user)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(EmploymentSerializer(employment).data)

    # --- The recruiter's declaration that it charged no fee -----------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The recruiter's declaration that it charged the worker no fee",
        responses={200: FeeDeclarationSerializer, 404: ERRORS[404]},
        examples=examples.EXAMPLES["declaration_get"],
    )
    @extend_schema(
        methods=["POST"],
        summary="Declare that no fee or related cost was charged to the worker",
        description="The worker's own recruiter only, once (a second declaration answers with the first, 200). "
        "One of the three voices a `ZERO_FEE` outcome is verified on, with the worker's own answer and the "
        "employer's payroll: the payee's word, which never verifies alone.",
        request=FeeDeclarationSerializer,
        responses={
            201: FeeDeclarationSerializer,
            200: FeeDeclarationSerializer,
            400: bad_input(error_example("Too long", "Ensure this field has no more than 2000 characters.", "note")),
            403: error_response(
                "Anyone but the worker's recruiter.",
                error_example("Not the recruiter", "Only the worker's recruiter declares that it charged no fee."),
            ),
            404: ERRORS[404],
        },
        examples=examples.EXAMPLES["declaration_post"],
    )
    @action(detail=True, methods=["get", "post"], url_path="fee-declaration", pagination_class=None, filter_backends=[])
    def fee_declaration(self, request: Request, pk: str | None = None) -> Response:
        worker = self.get_object()
        if request.method == "GET":
            declaration = FeeDeclaration.objects.visible_to(request.user).filter(worker=worker).first()
            if declaration is None:
                raise Http404("No declaration for this worker.")
            return Response(FeeDeclarationSerializer(declaration).data)
        tenancy = tenancy_of(request.user)
        if tenancy.recruiter is None or tenancy.recruiter != worker.recruiter.organisation_id:
            raise exceptions.PermissionDenied("Only the worker's recruiter declares that it charged no fee.")
        serializer = FeeDeclarationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        existing = FeeDeclaration.objects.filter(worker=worker, recruiter_id=worker.recruiter_id).exists()
        declaration = fee_declaration_record(
            worker=worker, declared_by=request.user, note=serializer.validated_data["note"]
        )
        answer = status.HTTP_200_OK if existing else status.HTTP_201_CREATED
        return Response(FeeDeclarationSerializer(declaration).data, status=answer)

    @extend_schema(
        summary="Download a piece of evidence's file",
        description="The file as uploaded, with its content type, as an attachment. 404 for a worker the caller "
        "does not see, evidence about another worker, or evidence kept by reference only.",
        responses={
            **{
                (200, content_type): OpenApiResponse(
                    OpenApiTypes.BINARY,
                    description="The file.",
                    examples=[
                        OpenApiExample(
                            f"A {DOWNLOAD_EXAMPLES[content_type][0]} file",
                            value=DOWNLOAD_EXAMPLES[content_type][1],
                            media_type=content_type,
                        )
                    ],
                )
                for content_type in EVIDENCE_SIGNATURES
            },
            404: error_response(
                "No such worker among the caller's, or no file: evidence about another worker, or kept by "
                "reference only.",
                error_example("No file", "No such file."),
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"evidence/(?P<evidence_id>[0-9]+)/download",
        url_name="evidence-download",
        pagination_class=None,
        filter_backends=[],
    )
    def download(self, request: Request, pk: str | None = None, evidence_id: str | None = None) -> FileResponse:
        worker = self.get_object()
        evidence = Evidence.objects.visible_to(request.user).filter(worker=worker, pk=evidence_id).first()
        if evidence is None or not evidence.file:
            raise Http404("No such file.")
        return FileResponse(
            evidence.file.open("rb"),
            as_attachment=True,
            filename=evidence.file.name.rsplit("/", 1)[-1],
            content_type=evidence.content_type or "application/octet-stream",
        )


# --- Fee reports: the fees the recruiter's own workers paid, recorded through ``fee_report_record``.


class FeeReportCursorPagination(KeysetPagination):
    """Fee reports by cursor (``lamp.api_base.KeysetPagination``), newest first unless ``?ordering=`` says
    otherwise, by id at the end."""

    example_path = "/api/v1/fee-reports/"


@extend_schema_view(
    list=extend_schema(
        summary="Fee reports about the caller's workers",
        description="Cursor pages: follow `next`. Newest reported first; `?ordering=` among `id`, `reported_at`, "
        "`paid_on`, `amount` and `category`, always ending on the id.",
        examples=examples.FEE_REPORT_EXAMPLES,
    ),
    retrieve=extend_schema(
        summary="A fee report",
        responses={200: FeeReportSerializer, 404: not_found("fee report", "FeeReport")},
        examples=examples.FEE_REPORT_EXAMPLES,
    ),
    create=extend_schema(
        summary="Report a fee a worker paid",
        description="A fee in one of the ILO categories of recruitment fees and related costs; a wage deduction "
        "that recovers one counts too. The pilots are zero-fee: any amount above 0 is a finding, and reverses "
        "a verified `ZERO_FEE` outcome of the worker. A recruiter's report has `source` `recruiter`. Send "
        "`Idempotency-Key` to retry safely.",
        responses={
            201: FeeReportSerializer,
            400: bad_input(*examples.BAD_FEE_REPORT),
            403: error_response("Funders report no fees.", examples.NOT_A_REPORTER),
        },
        examples=examples.FEE_REPORT_CREATE_EXAMPLES,
    ),
)
class FeeReportViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    """Never a funder's: fee reports are about people."""

    serializer_class = FeeReportSerializer
    filterset_class = FeeReportFilterSet
    search_fields = ["paid_to", "note"]
    ordering_fields = ["id", "reported_at", "paid_on", "amount", "category"]
    ordering = ["-reported_at", "-id"]
    pagination_class = FeeReportCursorPagination

    def get_queryset(self) -> QuerySet[FeeReport]:
        return FeeReport.objects.visible_to(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tenancy = tenancy_of(request.user)
        if not tenancy.staff and tenancy.recruiter is None:
            raise exceptions.PermissionDenied("Only recruiters and program staff report fees.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        worker_id = data.pop("worker_id")
        # An id outside the caller's workers gets the same words as one that does not exist.
        worker = Worker.objects.visible_to(request.user).filter(pk=worker_id).first()
        if worker is None:
            raise exceptions.ValidationError({"worker": f"No worker with id {worker_id} among yours."})
        if tenancy.staff:
            data.setdefault("source", FeeSource.STAFF)
        else:
            data["source"] = FeeSource.RECRUITER
        try:
            report = fee_report_record(worker=worker, reported_by=request.user, **data)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)
