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
        "carried_with": None,
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
            "overdue": False,
            "paid_on": "2026-04-28",
            "paid": "2400.00",
            "left_to_pay": "0.00",
            "payments": [
                {"amount": "1400.00", "paid_on": "2026-04-14", "reference": "CSCL-2026-0414"},
                {"amount": "1000.00", "paid_on": "2026-04-28", "reference": "CSCL-2026-0428"},
            ],
            "refund": None,
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
            "overdue": False,
            "paid_on": None,
            "paid": "0.00",
            "left_to_pay": "0.00",
            "payments": [],
            "refund": None,
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
        "paid": "2400.00",
        "awaiting_payment": "0.00",
        "owed_by_provider": "0.00",
        "due": "1050.00",
        "left_under_cap": "260550.00",
        "held_back": [
            {
                "metric": "RETAINED_180",
                "reason": "threshold_not_met",
                "units": 3,
                "amount": "2250.00",
                "tranche": "2026-Q2",
            }
        ],
        "overdue_tranches": 0,
        "due_next": {"tranche": "2026-Q2", "due_date": "2026-07-30", "total": "1050.00"},
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
    error_example("Too long a period", "the period is at most 10 years: end before 2036-01-01", "end"),
    error_example("Too many claims", "at most 50,000 items, not 50,001", "claims"),
    error_example(
        "Achieved outside the period", "must be within the period (2026-01-01 to 2026-12-31)", "claims[0].achieved_on"
    ),
]
THROTTLED_SIMULATION = [
    error_example("Throttled", "Request was throttled. Expected available in 12 seconds."),
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


# --- Approving and paying a tranche, settling a refund -------------------------------------------------------

PAYMENT = {"amount": "500.00", "paid_on": "2026-08-03", "reference": "CSCL-2026-0803"}
TRANCHE_APPROVED = {
    "code": "2026-Q2",
    "status": "approved",
    "total": "1050.00",
    "paid": "0.00",
    "left_to_pay": "1050.00",
    "payments": [],
    "refund": None,
}
TRANCHE_PARTLY_PAID = {**TRANCHE_APPROVED, "paid": "500.00", "left_to_pay": "550.00", "payments": [PAYMENT]}
TRANCHE_PAID = {
    **TRANCHE_APPROVED,
    "status": "paid",
    "paid": "1050.00",
    "left_to_pay": "0.00",
    "payments": [PAYMENT, {"amount": "550.00", "paid_on": "2026-08-20", "reference": "CSCL-2026-0820"}],
}
REFUND_DUE = {
    "id": 7,
    "tranche": "2027-Q1",
    "amount": "800.00",
    "due": "2027-05-30",
    "settled_on": None,
    "reference": "",
}
TRANCHE_OWED_BACK = {
    "code": "2027-Q1",
    "status": "approved",
    "total": "-800.00",
    "paid": "0.00",
    "left_to_pay": "0.00",
    "payments": [],
    "refund": REFUND_DUE,
}
APPROVE_EXAMPLES = [
    OpenApiExample("At the total reviewed", value={"expected_total": "1050.00"}, request_only=True),
    OpenApiExample("Approved, to pay", value=TRANCHE_APPROVED, response_only=True, status_codes=["200"]),
    OpenApiExample(
        "The contract's last tranche, below zero: owed back",
        value=TRANCHE_OWED_BACK,
        response_only=True,
        status_codes=["200"],
    ),
]
BAD_APPROVAL = [
    error_example("Out of order", "Approve tranche 2026-Q1 first: tranches are approved in order.", "status"),
    error_example("Total changed", "The tranche now totals 1850.00, not 1050.00: review it again.", "expected_total"),
]
NOT_APPROVER = [
    error_example("Not staff", "Only program staff approve tranches and record payments."),
    error_example(
        "Maker-checker",
        "Maker-checker: you verified claims this tranche pays, so another staff member must approve it.",
    ),
]
PAYMENT_EXAMPLES = [
    OpenApiExample("A part of the tranche", value=PAYMENT, request_only=True),
    OpenApiExample(
        "The rest",
        value={"amount": "550.00", "paid_on": "2026-08-20", "reference": "CSCL-2026-0820"},
        request_only=True,
    ),
    OpenApiExample("Partly paid", value=TRANCHE_PARTLY_PAID, response_only=True, status_codes=["201"]),
    OpenApiExample("Paid in full", value=TRANCHE_PAID, response_only=True, status_codes=["201"]),
]
BAD_PAYMENT = [
    error_example(
        "More than is left",
        "Tranche 2026-Q2 has USD 550.00 left to pay (total USD 1,050.00, paid USD 500.00): a payment is more than "
        "zero and at most that.",
        "amount",
    ),
    error_example("Not approved", "Tranche 2026-Q3 must be approved before it is paid.", "tranche"),
    error_example(
        "Reference already recorded",
        "A payment with reference CSCL-2026-0803 is already recorded for tranche 2026-Q2.",
        "reference",
    ),
]
NOT_STAFF_PAYMENT = error_example("Not staff", "Only program staff approve tranches and record payments.")
REFUND_EXAMPLES = [
    OpenApiExample(
        "The whole amount",
        value={"amount": "800.00", "settled_on": "2027-05-12", "reference": "MATM-REFUND-0512"},
        request_only=True,
    ),
    OpenApiExample(
        "Settled",
        value={**REFUND_DUE, "settled_on": "2027-05-12", "reference": "MATM-REFUND-0512"},
        response_only=True,
        status_codes=["200"],
    ),
]
BAD_REFUND = [
    error_example(
        "Not the amount owed", "The provider owes USD 800.00: record the repayment of exactly that.", "amount"
    ),
    error_example(
        "Already settled", "This refund was already settled on 2027-05-12 (reference MATM-REFUND-0512).", "refund"
    ),
]
