"""Examples for the OpenAPI schema of the scorecard endpoint, shaped as the API gives it."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from lamp.api_base import error_example

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
        "workers_with_fees": 6,
        "withheld": False,
        "by_category": [
            {"category": "medical", "currency": "GTQ", "amount": "2350.00", "reports": 4},
            {"category": "training", "currency": "GTQ", "amount": "600.00", "reports": 2},
        ],
    },
    "claims": {"claimed": 12, "verified": 131, "rejected": 4, "reversed": 1},
    "amounts": [
        {
            "currency": "USD",
            "verified": "71350.00",
            "paid": "52300.00",
            "awaiting_payment": "9600.00",
            "owed_by_provider": "0.00",
            "due": "9450.00",
        }
    ],  # fmt: skip
}
SCORECARD_EXAMPLES = [
    OpenApiExample("A recruiter's own", value=SCORECARD, response_only=True),
    OpenApiExample(
        "Fewer than five workers reported a fee: withheld",
        value={**SCORECARD, "fees": {"workers_with_fees": None, "withheld": True, "by_category": []}},
        response_only=True,
    ),
]
NOT_FOR_FUNDERS = error_example("A funder", "Only recruiters (their own) and program staff may read scorecards.")
BAD_RECRUITER = error_example("Not a number", "Give a recruiter's id, a whole number.", "recruiter")
