"""Examples for the OpenAPI schema of the fee report and scorecard endpoints, shaped as the API gives them.

The pilots are zero-fee: every fee here is a finding, reported in one of the ILO's categories of recruitment
fees and related costs.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from lamp.api_base import error_example

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
]
NOT_A_REPORTER = error_example("A funder", "Only recruiters and program staff report fees.")

SCORECARD = {
    "recruiter": {"id": 3, "organisation": 21, "name": "Mar Abierto Talento Marítimo"},
    "workers": {
        "total": 118,
        "by_stage": {
            "registered": 6,
            "screened": 9,
            "in_training": 14,
            "trained": 7,
            "matched": 5,
            "visa_pending": 4,
            "visa_issued": 3,
            "deployed": 2,
            "working": 41,
            "completed": 6,
            "returned": 9,
            "withdrawn": 5,
            "not_selected": 4,
            "visa_denied": 1,
            "separated_early": 2,
        },
    },
    "placement": {"placed": 60, "past_screening": 94, "rate": "0.6383"},
    "retention_180": {"retained": 33, "eligible": 38, "rate": "0.8684"},
    "fees": {
        "workers_with_fees": 2,
        "by_category": [
            {"category": "medical", "currency": "GTQ", "amount": "350.00", "reports": 1},
            {"category": "training", "currency": "GTQ", "amount": "600.00", "reports": 1},
        ],
    },
    "claims": {"claimed": 12, "verified": 131, "rejected": 4, "reversed": 1},
    "amounts": [
        {"currency": "USD", "verified": "71350.00", "due": "9450.00", "approved": "61900.00", "paid": "52300.00"}
    ],  # fmt: skip
}
SCORECARD_EXAMPLES = [OpenApiExample("A recruiter's own", value=SCORECARD, response_only=True)]
NOT_FOR_FUNDERS = error_example("A funder", "Only recruiters (their own) and program staff may read scorecards.")
BAD_RECRUITER = error_example("Not a number", "Give a recruiter's id, a whole number.", "recruiter")
