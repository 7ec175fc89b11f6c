"""Examples for the OpenAPI schema of the contract, schedule and claim endpoints, shaped as the API gives them:
the cruise hospitality pilot's contract, paid in USD by the cruise line for placements, retention, zero fees
and English at B1."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from financing.services import ADJUSTMENT_NOTE
from lamp.api_base import error_example

METRIC_PLACED = {
    "id": 21,
    "code": "PLACED",
    "name": "Worker placed in a job",
    "kind": "placed",
    "retention_days": None,
    "price": "800.00",
    "tiers": None,
    "max_units_per_worker": 2,
    "cap_units": None,
    "cap_amount": None,
    "threshold_rate": None,
    "denominator": None,
    "sources": ["employer", "worker", "staff", "verifier"],
}
CONTRACT = {
    "id": 2,
    "reference": "CRUISE-GT-2025",
    "name": "Cruise hospitality placements from Guatemala",
    "pilot": {"id": 2, "name": "Cruise hospitality: Guatemala to cruise lines"},
    "payer": {"id": 11, "name": "Caribbean Star Cruise Line"},
    "provider": {"id": 21, "name": "Mar Abierto Talento Marítimo"},
    "currency": "USD",
    "start_date": "2025-02-01",
    "end_date": "2027-01-31",
    "signed_on": "2025-01-24",
    "cap_total": "264000.00",
    "tranche_period": "quarterly",
    "due_days": 30,
    "status": "active",
    "metrics": [
        METRIC_PLACED,
        {
            "id": 22,
            "code": "RETAINED_180",
            "name": "Worker still employed 180 days after starting",
            "kind": "retained_n",
            "retention_days": 180,
            "price": "500.00",
            "tiers": None,
            "max_units_per_worker": 2,
            "cap_units": None,
            "cap_amount": None,
            "threshold_rate": "0.8000",
            "denominator": "PLACED",
            "sources": ["employer", "worker", "staff", "verifier"],
        },
        {
            "id": 23,
            "code": "ZERO_FEE",
            "name": "Worker paid no recruitment fee or related cost",
            "kind": "zero_fee",
            "retention_days": None,
            "price": "250.00",
            "tiers": None,
            "max_units_per_worker": 1,
            "cap_units": None,
            "cap_amount": None,
            "threshold_rate": None,
            "denominator": None,
            "sources": ["recruiter", "worker", "employer"],
        },
        {
            "id": 24,
            "code": "TRAINED_B1",
            "name": "Worker passed English at B1 or above",
            "kind": "trained",
            "retention_days": None,
            "price": None,
            "tiers": [{"units": 60, "price": "300.00"}, {"units": None, "price": "250.00"}],
            "max_units_per_worker": 1,
            "cap_units": None,
            "cap_amount": "30000.00",
            "threshold_rate": None,
            "denominator": None,
            "sources": ["verifier", "staff", "training_provider"],
        },
    ],
}


def _line(claim: int, metric: str, amount: str, worker: int, kind: str = "payment", note: str = "") -> dict:
    return {
        "claim": claim,
        "metric": metric,
        "kind": kind,
        "amount": amount,
        "capped": "0.00",
        "reason": "",
        "note": note,
        "worker": worker,
    }


SCHEDULE = {
    "contract": 2,
    "reference": "CRUISE-GT-2025",
    "currency": "USD",
    "tranches": [
        {
            "code": "2026-Q1",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "due_date": "2026-04-30",
            "status": "paid",
            "total": "2400.00",
            "paid_on": "2026-04-28",
            "lines": [
                _line(5120, "PLACED", "800.00", 4790),
                _line(5131, "PLACED", "800.00", 4801),
                _line(5139, "PLACED", "800.00", 4806),
            ],
        },
        {
            "code": "2026-Q2",
            "start_date": "2026-04-01",
            "end_date": "2026-06-30",
            "due_date": "2026-07-30",
            "status": "open",
            "total": "1050.00",
            "paid_on": None,
            "lines": [
                _line(5144, "PLACED", "800.00", 4812),
                _line(5150, "PLACED", "800.00", 4822),
                _line(5210, "ZERO_FEE", "250.00", 4790),
                _line(5131, "PLACED", "-800.00", 4801, "adjustment", ADJUSTMENT_NOTE),
            ],
        },
    ],
    "totals": {
        "verified": "3450.00",
        "approved": "2400.00",
        "paid": "2400.00",
        "due_next": {"tranche": "2026-Q2", "due_date": "2026-07-30", "total": "1050.00"},
        "cap_remaining": "260550.00",
    },
}
# A funder reads the same schedule without the workers: its lines name no one.
SCHEDULE_FOR_FUNDER = {
    **SCHEDULE,
    "tranches": [
        {**tranche, "lines": [{k: v for k, v in line.items() if k != "worker"} for line in tranche["lines"]]}
        for tranche in SCHEDULE["tranches"]
    ],
}

CLAIM = {
    "id": 5144,
    "contract": 2,
    "metric": "PLACED",
    "worker": 4812,
    "unit": 1,
    "achieved_on": "2026-06-15",
    "status": "claimed",
    "verified_on": None,
    "claimed_at": "2026-06-19T14:02:51Z",
    "rejection_reason": "",
    "reversal_reason": "",
    "in_review": False,
    "pending_reason": "Waiting for the employer (an attestation or payroll), the worker's own answer, program staff "
    "or an independent verifier to confirm the employment.",
}
CLAIM_VERIFIED = {
    **CLAIM,
    "id": 5120,
    "worker": 4790,
    "achieved_on": "2026-01-12",
    "status": "verified",
    "verified_on": "2026-01-20",
    "claimed_at": "2026-01-14T09:15:03Z",
    "pending_reason": "",
}

CONTRACT_EXAMPLES = [OpenApiExample("Cruise hospitality", value=CONTRACT, response_only=True)]
SCHEDULE_EXAMPLES = [
    OpenApiExample("To staff and the provider", value=SCHEDULE, response_only=True),
    OpenApiExample("For the payer without workers", value=SCHEDULE_FOR_FUNDER, response_only=True),
]
CLAIM_EXAMPLES = [
    OpenApiExample("Claimed", value=CLAIM, response_only=True),
    OpenApiExample("Verified", value=CLAIM_VERIFIED, response_only=True),
]
CLAIM_CREATE_EXAMPLES = [
    OpenApiExample(
        "A placement", value={"metric": 21, "worker": 4812, "unit": 1, "achieved_on": "2026-06-15"}, request_only=True
    ),
    OpenApiExample(
        "A second season's placement",
        value={"metric": 21, "worker": 4790, "unit": 2, "achieved_on": "2027-01-18"},
        request_only=True,
    ),
    OpenApiExample("Claimed", value=CLAIM, response_only=True, status_codes=["201"]),
]
BAD_CLAIM = [
    error_example("Another recruiter's worker", "unknown worker", "worker"),
    error_example("In the future", "An outcome cannot be achieved in the future.", "achieved_on"),
]
DUPLICATE_CLAIM = error_example(
    "Already claimed",
    "A claim for this metric, worker and unit already exists: claim 5144.",
    existing_id=5144,
)
NOT_A_PROVIDER = error_example("A funder", "Only the contract's provider, or program staff, may claim outcomes.")
BAD_SCENARIO = [
    error_example("A negative price", "must not be negative", "metrics[0].price"),
]

DECISION = {
    "id": 90211,
    "claim": 5120,
    "contract": 2,
    "metric": "PLACED",
    "worker": 4790,
    "decision": "verified",
    "rule": "placed",
    "reason": "Employment started on 12 Jan 2026, confirmed independently.",
    "facts": {
        "for": [
            "Employment started on 12 Jan 2026",
            "Employer attestation from employer, 12 Jan 2026",
        ],
        "against": [],
    },
    "decided_at": "2026-01-20T02:30:14Z",
}
DECISION_EXAMPLES = [
    OpenApiExample("Verified on the employer's attestation", value=DECISION, response_only=True),
    OpenApiExample(
        "Sent to review",
        value={
            **DECISION,
            "id": 90240,
            "decision": "needs_review",
            "reason": "A source reports a fee: the outcome is not payable.",
            "facts": {"for": ["The recruiter declared no fee was charged"], "against": ["Fee reported: Medical costs"]},
        },
        response_only=True,
    ),
]
NOT_STAFF = error_example("A recruiter", "Only program staff read what the automatic rules decided.")
