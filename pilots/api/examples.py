"""Examples for the OpenAPI schema of the pilot and job opening endpoints, shaped as the serializers give them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

PILOT = {
    "id": 2,
    "name": "Cruise hospitality: Guatemala to cruise lines",
    "slug": "cruise-hospitality",
    "sector": {"code": "cruise-hospitality", "name": "Cruise hospitality"},
    "origin_countries": ["GT"],
    "destination_country": "US",
    "corridor": "GT → US",
    "pathway": "Seafarer visa (C1/D)",
    "status": "active",
    "start_date": "2025-02-03",
    "end_date": "2027-06-30",
    "target_cohort_size": 120,
    "required_stages": [
        "registered",
        "screened",
        "in_training",
        "trained",
        "matched",
        "visa_pending",
        "visa_issued",
        "deployed",
        "working",
        "completed",
        "returned",
    ],
    "description": "English and hospitality training in Guatemala, then contracts at sea with a cruise line; "
    "the destination is the cruise line's country.",
}
PILOT_H2A = {
    **PILOT,
    "id": 1,
    "name": "H-2A agriculture: Guatemala and Mexico to the United States",
    "slug": "h2a-agriculture",
    "sector": {"code": "agriculture", "name": "Agriculture"},
    "origin_countries": ["GT", "MX"],
    "corridor": "GT, MX → US",
    "pathway": "H-2A seasonal visa",
    "start_date": "2025-01-06",
    "end_date": "2026-12-18",
    "target_cohort_size": 240,
    "required_stages": [
        "registered",
        "screened",
        "matched",
        "visa_pending",
        "visa_issued",
        "deployed",
        "working",
        "completed",
        "returned",
    ],
    "description": "Seasonal farm work on H-2A visas, recruited at zero cost to the worker; workers who return "
    "home on time are invited back the next season.",
}

JOB_OPENING = {
    "id": 8,
    "pilot": 2,
    "employer": {"id": 11, "name": "Caribbean Star Cruise Line"},
    "title": "Assistant waiter",
    "positions": 24,
    "wage_amount": "1150.00",
    "wage_currency": "USD",
    "wage_period": "month",
    "hours_per_week": "77.0",
    "location": "MS Caribbean Star (homeport Miami)",
    "location_country": "BS",
    "season_start": "2025-06-02",
    "season_end": "2026-05-31",
}
JOB_OPENING_H2A = {
    "id": 1,
    "pilot": 1,
    "employer": {"id": 7, "name": "Pacific Crest Berry Farms"},
    "title": "Farmworker, strawberries",
    "positions": 18,
    "wage_amount": "19.97",
    "wage_currency": "USD",
    "wage_period": "hour",
    "hours_per_week": "48.0",
    "location": "Salinas, California",
    "location_country": "US",
    "season_start": "2025-03-03",
    "season_end": "2025-11-14",
}

PILOT_EXAMPLES = [
    OpenApiExample("Cruise hospitality", value=PILOT, response_only=True),
    OpenApiExample("H-2A agriculture", value=PILOT_H2A, response_only=True),
]
JOB_OPENING_EXAMPLES = [
    OpenApiExample("At sea", value=JOB_OPENING, response_only=True),
    OpenApiExample("H-2A farm work", value=JOB_OPENING_H2A, response_only=True),
]
