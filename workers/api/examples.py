"""Examples for the OpenAPI schema of the worker endpoints: a Guatemalan worker of the cruise hospitality pilot.

Plain data, shaped as the serializers give it; ``tests/api/test_schema.py`` checks every example against the
schema it illustrates.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from lamp.api_base import error_example

REGISTRATION = {
    "pilot": 2,
    "given_names": "Ana María",
    "family_names": "Xol Caal",
    "date_of_birth": "1998-04-12",
    "gender": "female",
    "nationality": "GT",
    "phone": "+502 5521 4410",
    "email": "ana.xol@example.com",
    "identity_document_type": "passport",
    "identity_document_country": "GT",
    "identity_document_number": "G19845320",
    "language_levels": {"es": "C2", "en": "A2"},
    "consent_given_at": "2026-02-03T15:00:00Z",
}

# Answers carry personal data masked: the values come through a logged reveal (``REVEALED``).
WORKER = {
    "id": 4812,
    "given_names": "Ana María",
    "family_names": "Xol Caal",
    "date_of_birth_masked": "1998-••-••",
    "birth_year": 1998,
    "gender": "female",
    "nationality": "GT",
    "phone_masked": "•••••••••••410",
    "email_masked": "a••••••@example.com",
    "identity_document_type": "passport",
    "identity_document_country": "GT",
    "identity_document_masked": "•••••5320",
    "language_levels": {"es": "C2", "en": "A2"},
    "consent_given_at": "2026-02-03T15:00:00Z",
    "pilot": 2,
    "recruiter": 3,
    "current_stage": "registered",
    "season": 1,
    "stage_changed_on": "2026-02-03",
    "created_at": "2026-02-03T15:04:11Z",
    "updated_at": "2026-02-03T15:04:11Z",
}

WORKER_MASKED = {
    "id": 4812,
    "given_names": "Ana María",
    "family_names": "Xol Caal",
    "date_of_birth_masked": "1998-••-••",
    "birth_year": 1998,
    "gender": "female",
    "nationality": "GT",
    "phone_masked": "•••••••••••410",
    "email_masked": "a••••••@example.com",
    "identity_document_type": "passport",
    "identity_document_country": "GT",
    "identity_document_masked": "•••••5320",
    "language_levels": {"es": "C2", "en": "B1"},
    "consent_given_at": "2026-02-03T15:00:00Z",
    "pilot": 2,
    "recruiter": 3,
    "current_stage": "in_training",
    "season": 1,
    "stage_changed_on": "2026-02-24",
}

WORKER_EDITED = {
    **WORKER,
    "identity_document_type": "seafarer_book",
    "identity_document_masked": "•••••••••7211",
    "language_levels": {"es": "C2", "en": "B1"},
    "current_stage": "trained",
    "stage_changed_on": "2026-05-29",
    "updated_at": "2026-06-01T14:20:37Z",
}

#: What a full replacement (PUT) sends: every field the worker is registered with.
REPLACEMENT = {
    **{key: value for key, value in REGISTRATION.items() if key != "pilot"},
    "identity_document_type": "seafarer_book",
    "identity_document_number": "GT-SB-0047211",
    "language_levels": {"es": "C2", "en": "B1"},
}

REVEAL = {"fields": ["date_of_birth", "identity_document_number"], "reason": "Checking the visa application form."}
REVEALED = {
    "access": 5120,
    "values": {"date_of_birth": "1998-04-12", "identity_document_number": "G19845320"},
    "expires_at": "2026-03-02T10:05:00Z",
}
ACCESS = {
    "id": 5120,
    "user": 17,
    "user_name": "lucia.staff",
    "fields": ["date_of_birth", "identity_document_number"],
    "reason": "Checking the visa application form.",
    "channel": "dashboard",
    "created_at": "2026-03-02T10:00:00Z",
    "expires_at": "2026-03-02T10:05:00Z",
}

EVENT_REGISTERED = {
    "id": 30211,
    "stage": "registered",
    "season": 1,
    "pilot": 2,
    "occurred_on": "2026-02-03",
    "recorded_at": "2026-02-03T15:04:11Z",
    "recorded_by": 17,
    "evidence": None,
    "note": "",
    "is_override": False,
    "override_reason": "",
}
EVENT_SCREENED = {
    **EVENT_REGISTERED,
    "id": 30388,
    "stage": "screened",
    "occurred_on": "2026-02-17",
    "recorded_at": "2026-02-17T16:30:02Z",
    "note": "Interview and English placement test in Cobán: A2.",
}
EVENT_IN_TRAINING = {
    **EVENT_REGISTERED,
    "id": 30502,
    "stage": "in_training",
    "occurred_on": "2026-02-24",
    "recorded_at": "2026-02-24T13:05:48Z",
    "evidence": 9120,
    "note": "English B1 and cruise hospitality with STCW basic safety, Academia de Hospitalidad Marítima.",
}

EVIDENCE_ATTESTATION = {
    "id": 9377,
    "kind": "employer_attestation",
    "reference": "Caribbean Star Cruise Line: letter of employment CS-2026-0418",
    "description": "Caribbean Star Cruise Line confirms that employment as Assistant waiter started on 2026-06-15",
    "facts": {"employer": "Caribbean Star Cruise Line", "employment_started_on": "2026-06-15"},
    "filename": "attestation-cs-2026-0418.pdf",
    "content_type": "application/pdf",
    "size": 184312,
    "sha256": "9f2b5c1de0a84f7e6b3c2a1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b",
    "uploaded_at": "2026-06-18T17:42:05Z",
    "uploaded_by": 17,
    "source": "employer",
    "source_organisation": 6,
    "download": "https://lamp.example.org/api/v1/workers/4812/evidence/9377/download/",
}
EVIDENCE_REFERENCE = {
    "id": 9120,
    "kind": "certificate",
    "reference": "Academia de Hospitalidad Marítima, certificate AHM-2026-1187",
    "description": "STCW basic safety training, passed",
    "facts": {"course": "STCW basic safety", "passed": True},
    "filename": None,
    "content_type": "",
    "size": None,
    "sha256": "",
    "uploaded_at": "2026-05-29T10:12:40Z",
    "uploaded_by": 17,
    "source": "recruiter",
    "source_organisation": 4,
    "download": None,
}

FEE_DECLARATION = {
    "id": 311,
    "worker": 4812,
    "recruiter": 3,
    "declared_by": 17,
    "declared_at": "2026-06-02T15:20:11Z",
    "note": "No fee or cost was charged: medical exam and travel paid by the agency.",
}

EMPLOYMENT = {
    "id": 2231,
    "job_opening": 14,
    "employer": 6,
    "start_date": "2026-06-15",
    "end_date": None,
    "separation_reason": "",
    "note": "",
    "source": "recruiter",
    "source_organisation": 4,
}
EMPLOYMENT_ENDED = {
    **EMPLOYMENT,
    "end_date": "2026-09-30",
    "separation_reason": "resigned",
    "note": "Left for a job closer to family.",
    "source": "employer",
    "source_organisation": 6,
}

EXAMPLES = {
    "registration": [
        OpenApiExample("A cruise hospitality worker", value=REGISTRATION, request_only=True),
        OpenApiExample("Registered", value=WORKER, response_only=True, status_codes=["201"]),
    ],
    "list": [OpenApiExample("A masked worker", value=WORKER_MASKED, response_only=True)],
    "retrieve": [OpenApiExample("Masked", value=WORKER, response_only=True)],
    "reveal": [
        OpenApiExample("Date of birth and document", value=REVEAL, request_only=True),
        OpenApiExample("Revealed", value=REVEALED, response_only=True),
    ],
    "access_log": [OpenApiExample("A reveal", value=ACCESS, response_only=True)],
    "update": [
        OpenApiExample("Every field", value=REPLACEMENT, request_only=True),
        OpenApiExample("Changed", value=WORKER_EDITED, response_only=True),
    ],
    "partial_update": [
        OpenApiExample(
            "A new seafarer's book",
            value={"identity_document_type": "seafarer_book", "identity_document_number": "GT-SB-0047211"},
            request_only=True,
        ),
        OpenApiExample(
            "English level after training", value={"language_levels": {"es": "C2", "en": "B1"}}, request_only=True
        ),  # fmt: skip
        OpenApiExample("Changed", value=WORKER_EDITED, response_only=True),
    ],
    # The list's examples are of one item: the schema shows them in a list.
    "events_get": [OpenApiExample("An event", value=EVENT_SCREENED, response_only=True)],
    "events_post": [
        OpenApiExample(
            "Into training",
            value={
                "stage": "in_training",
                "occurred_on": "2026-02-24",
                "evidence": 9120,
                "note": "English B1 and cruise hospitality with STCW basic safety, Academia de Hospitalidad Marítima.",
            },
            request_only=True,
        ),
        OpenApiExample(
            "A staff override",
            value={
                "stage": "matched",
                "occurred_on": "2026-03-02",
                "override_reason": "Trained on a previous contract (2024); the certificate is on file.",
            },
            request_only=True,
        ),
        OpenApiExample("Recorded", value=EVENT_IN_TRAINING, response_only=True, status_codes=["201"]),
    ],
    "employments_get": [OpenApiExample("A current job", value=EMPLOYMENT, response_only=True)],
    "employments_post": [
        OpenApiExample("A start", value={"job_opening": 14, "start_date": "2026-06-15"}, request_only=True),
        OpenApiExample("Recorded", value=EMPLOYMENT, response_only=True),
    ],
    "employment_end": [
        OpenApiExample(
            "A resignation",
            value={"end_date": "2026-09-30", "separation_reason": "resigned", "note": EMPLOYMENT_ENDED["note"]},
            request_only=True,
        ),
        OpenApiExample("Ended", value=EMPLOYMENT_ENDED, response_only=True),
    ],
    "declaration_get": [OpenApiExample("Declared", value=FEE_DECLARATION, response_only=True)],
    "declaration_post": [
        OpenApiExample("A declaration", value={"note": FEE_DECLARATION["note"]}, request_only=True),
        OpenApiExample("Declared", value=FEE_DECLARATION, response_only=True),
    ],
    "evidence_get": [
        OpenApiExample("A file", value=EVIDENCE_ATTESTATION, response_only=True),
        OpenApiExample("A reference", value=EVIDENCE_REFERENCE, response_only=True),
    ],
    "evidence_post": [
        OpenApiExample(
            "A PDF upload",
            description="Multipart: the file in `file`, `facts` as a string holding JSON.",
            media_type="multipart/form-data",
            value={
                "kind": "employer_attestation",
                "file": "attestation-cs-2026-0418.pdf",
                "reference": "Caribbean Star Cruise Line: letter of employment CS-2026-0418",
                "facts": '{"employer": "Caribbean Star Cruise Line", "employment_started_on": "2026-06-15"}',
            },
            request_only=True,
        ),
        OpenApiExample(
            "A reference",
            value={
                "kind": "certificate",
                "reference": "Academia de Hospitalidad Marítima, certificate AHM-2026-1187",
                "description": "STCW basic safety training, passed",
                "facts": {"course": "STCW basic safety", "passed": True},
            },
            request_only=True,
        ),
        OpenApiExample("Kept", value=EVIDENCE_ATTESTATION, response_only=True, status_codes=["201"]),
    ],
}

DUPLICATE_OWN = error_example(
    "Already registered by this recruiter",
    "This worker is already registered as worker 4790 (same identity document).",
    "identity_document_number",
    existing_id=4790,
)
DUPLICATE_BY_NAME = error_example(
    "Same names and date of birth",
    "This worker is already registered as worker 4790 (same names, date of birth and nationality).",
    existing_id=4790,
)
BAD_REGISTRATION = [
    error_example("A missing field", "This field is required.", "date_of_birth"),
    error_example("Another recruiter's pilot", "No pilot with id 4 that the recruiter is assigned to.", "pilot"),
    error_example("A bad language level", "'B3' is not a CEFR level (A1, A2, B1, B2, C1, C2).", "language_levels"),
    error_example(
        "Not of working age",
        "Born on 1800-01-01, the worker would be 226 years old on 2026-12-07: a worker is 16 to 75 years old when "
        "registered. Check the date of birth.",
        "date_of_birth",
    ),
    error_example(
        "No consent",
        "Say when the worker consented to their data being held for the pilot: it is required.",
        "consent_given_at",
    ),
    error_example(
        "Not a phone number",
        "“call me maybe” is not a valid phone number: give it with its country code, e.g. +502 5123 4567.",
        "phone",
    ),
]
BAD_EDIT = [
    error_example("A fixed field", "A worker's pilot cannot change once registered.", "pilot"),
    error_example(
        "The stage",
        "The journey moves through POST /api/v1/workers/{id}/events/, not by editing the worker.",
        "current_stage",
    ),
]
REFUSED_MOVE = [
    error_example(
        "A skipped stage",
        "Cannot move from 'screened' to 'matched': the pilot requires 'in_training', 'trained' first.",
        "stage",
    ),
    error_example(
        "Dated in the future",
        "Cannot move from 'screened' to 'in_training': 2099-01-01 is in the future.",
        "occurred_on",
    ),
    error_example("Evidence about someone else", "No evidence with id 9377 about this worker.", "evidence"),
]
BAD_UPLOAD = [
    error_example("Not the declared type", "The file's content is not application/pdf, as it was declared.", "file"),
    error_example("Neither file nor reference", "Upload a file or give a reference to where it is kept.", "file"),
]


# --- Fee reports: the pilots are zero-fee, so every fee here is a finding, in one of the ILO categories.

FEE_MEDICAL = {
    "id": 318,
    "worker": 4812,
    "recruiter": 3,
    "category": "medical",
    "amount": "350.00",
    "currency": "GTQ",
    "paid_to": "Clínica San Lucas, Cobán (pre-departure medical)",
    "paid_on": "2026-03-09",
    "recovered_by_wage_deduction": False,
    "source": "recruiter",
    "reported_by": 17,
    "reported_at": "2026-03-12T16:40:18Z",
    "note": "Refunded to the worker on 2026-03-20.",
}
FEE_DEDUCTION = {
    "id": 322,
    "worker": 2207,
    "recruiter": 1,
    "category": "travel_lodging",
    "amount": "85.00",
    "currency": "USD",
    "paid_to": "Pacific Crest Berry Farms (bus Guatemala City → Salinas, deducted from the first pay)",
    "paid_on": "2026-04-10",
    "recovered_by_wage_deduction": True,
    "source": "worker_survey",
    "reported_by": None,
    "reported_at": "2026-04-24T12:00:00Z",
    "note": "",
}

FEE_REPORT_EXAMPLES = [
    OpenApiExample("Medical cost reported by the recruiter", value=FEE_MEDICAL, response_only=True),
    OpenApiExample("Travel deducted from wages", value=FEE_DEDUCTION, response_only=True),
]
FEE_REPORT_CREATE_EXAMPLES = [
    OpenApiExample(
        "A medical cost",
        value={
            "worker": 4812,
            "category": "medical",
            "amount": "350.00",
            "currency": "GTQ",
            "paid_to": "Clínica San Lucas, Cobán (pre-departure medical)",
            "paid_on": "2026-03-09",
            "note": "Refunded to the worker on 2026-03-20.",
        },
        request_only=True,
    ),
    OpenApiExample(
        "A visa fee recovered from wages",
        value={
            "worker": 2207,
            "category": "administrative",
            "amount": "190.00",
            "currency": "USD",
            "paid_to": "Employer (H-2A visa fee, deducted from the first two pays)",
            "paid_on": "2026-04-17",
            "recovered_by_wage_deduction": True,
        },
        request_only=True,
    ),
    OpenApiExample("Recorded", value=FEE_MEDICAL, response_only=True, status_codes=["201"]),
]
BAD_FEE_REPORT = [
    error_example("Another recruiter's worker", "No worker with id 2207 among yours.", "worker"),
    error_example("Not an ILO category", '"deposit" is not a valid choice.', "category"),
    error_example("A negative amount", "Ensure this value is greater than or equal to 0.", "amount"),
    error_example("Below the minor unit", "USD amounts have at most 2 decimals.", "amount"),
    error_example("In the future", "A fee cannot be paid in the future.", "paid_on"),
]
NOT_A_REPORTER = error_example("A funder", "Only recruiters and program staff report fees.")
BAD_REVEAL = [
    error_example("No reason", "This field is required.", "reason"),
    error_example("Too short a reason", "Say why you need to see it, in at least 10 characters.", "reason"),
    error_example("No field", "Choose at least one field to reveal.", "fields"),
]
NOT_A_REVEALER = error_example(
    "An employer", "Only program staff and the worker's own recruiter may reveal personal data."
)
NOT_STAFF_LOG = error_example("A recruiter", "Only program staff read the access log.")
