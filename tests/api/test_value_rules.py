"""Values the API used to accept and must refuse: each a 4xx in the API's error shape naming the field, with
nothing written. Birth dates of working age, consent given and not in the future, phone numbers (kept in
E.164), fee amounts at the currency's minor unit and paid within the worker's journey, journey events and
claims not in the future, and a bounded, throttled simulator."""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from financing import models as fin
from financing.scenario import ScenarioError, parse_scenario
from lamp.currencies import at_minor_unit
from pilots import models as pil
from pilots.stages import Stage
from tests import factories as f
from tests.financing.scenarios import worked_example
from workers import models as wrk
from workers.value_rules import age_on, plausible_birth_date, years_before

pytestmark = pytest.mark.django_db


def client_for(user: pil.User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def error_fields(response: Any) -> set[str | None]:
    body = response.json()
    assert set(body) >= {"detail", "errors"}, body
    return {error["field"] for error in body["errors"]}


def counts() -> tuple[int, ...]:
    return (
        wrk.Worker.objects.count(),
        wrk.JourneyEvent.objects.count(),
        wrk.FeeReport.objects.count(),
        wrk.DuplicateFlag.objects.count(),
        fin.OutcomeClaim.objects.count(),
    )


@pytest.fixture
def recruiter() -> dict[str, Any]:
    profile = f.RecruiterFactory()
    pilot = f.PilotFactory()
    f.RecruiterAssignmentFactory(recruiter=profile, pilot=pilot)
    worker = f.WorkerFactory(recruiter=profile, pilot=pilot)
    f.JourneyEventFactory(worker=worker, occurred_on=datetime.date(2026, 1, 10))
    return {
        "user": f.RecruiterUserFactory(organisation=profile.organisation),
        "profile": profile,
        "pilot": pilot,
        "worker": worker,
    }


def registration(pilot: pil.Pilot, **overrides: Any) -> dict[str, Any]:
    return {
        "given_names": "María José",
        "family_names": "Xol Caal",
        "date_of_birth": "1998-03-14",
        "gender": "female",
        "nationality": "GT",
        "phone": "+502 4444 1234",
        "identity_document_number": "G12345678",
        "consent_given_at": "2026-01-10T15:00:00Z",
        "pilot": pilot.pk,
        **overrides,
    }


def years_ago(years: int, days: int = 0) -> str:
    return (years_before(timezone.localdate(), years) + datetime.timedelta(days=days)).isoformat()


# --- Date of birth: a working age, 16 to 75, on the day of registration ------------------------------------


@pytest.mark.parametrize(
    "born",
    ["2099-01-01", "1800-01-01", (timezone.localdate() - datetime.timedelta(days=1)).isoformat(), "0001-01-01"],
)
def test_a_registration_born_out_of_working_age_is_refused_naming_date_of_birth(recruiter, born):
    before = counts()

    response = client_for(recruiter["user"]).post(
        "/api/v1/workers/", registration(recruiter["pilot"], date_of_birth=born), format="json"
    )

    assert response.status_code == 400, response.content
    assert error_fields(response) == {"date_of_birth"}
    assert counts() == before


@pytest.mark.parametrize(
    ("born", "accepted"),
    [
        (years_ago(16), True),  # sixteen today
        (years_ago(16, days=1), False),  # sixteen tomorrow
        (years_ago(76, days=1), True),  # seventy-six tomorrow: still 75
        (years_ago(76), False),  # seventy-six today
    ],
)
def test_the_working_age_bounds_are_16_and_75_years(recruiter, born, accepted):
    response = client_for(recruiter["user"]).post(
        "/api/v1/workers/", registration(recruiter["pilot"], date_of_birth=born), format="json"
    )

    assert response.status_code == (201 if accepted else 400), response.content


@pytest.mark.parametrize("born", ["2099-01-01", "1800-01-01", "2026-01-09"])
def test_a_patch_to_an_implausible_birth_date_is_refused_and_changes_nothing(recruiter, born):
    worker = recruiter["worker"]

    response = client_for(recruiter["user"]).patch(
        f"/api/v1/workers/{worker.pk}/", {"date_of_birth": born}, format="json"
    )

    assert response.status_code == 400, response.content
    assert error_fields(response) == {"date_of_birth"}
    worker.refresh_from_db()
    assert worker.date_of_birth == datetime.date(1995, 6, 1)


def test_the_birth_date_rule_is_a_function_of_the_day():
    today = datetime.date(2026, 3, 1)
    assert plausible_birth_date(datetime.date(2010, 3, 1), today) == datetime.date(2010, 3, 1)
    assert age_on(datetime.date(2008, 2, 29), datetime.date(2026, 2, 28)) == 17
    with pytest.raises(Exception, match="16 to 75"):
        plausible_birth_date(datetime.date(2010, 3, 2), today)


# --- Consent: required on registration, never in the future ----------------------------------------------


@pytest.mark.parametrize(
    "consent",
    [{"consent_given_at": "2099-01-01T00:00:00Z"}, {"consent_given_at": None}, {}],
    ids=["in 2099", "null", "missing"],
)
def test_consent_in_the_future_or_missing_is_refused(recruiter, consent):
    data = registration(recruiter["pilot"])
    del data["consent_given_at"]
    before = counts()

    response = client_for(recruiter["user"]).post("/api/v1/workers/", {**data, **consent}, format="json")

    assert response.status_code == 400, response.content
    assert error_fields(response) == {"consent_given_at"}
    assert counts() == before


def test_consent_an_hour_ahead_is_refused_a_minute_ahead_is_a_clock_difference(recruiter):
    client = client_for(recruiter["user"])
    ahead = timezone.now() + datetime.timedelta(hours=1)
    refused = client.post(
        "/api/v1/workers/", registration(recruiter["pilot"], consent_given_at=ahead.isoformat()), format="json"
    )
    slightly = timezone.now() + datetime.timedelta(minutes=1)
    accepted = client.post(
        "/api/v1/workers/", registration(recruiter["pilot"], consent_given_at=slightly.isoformat()), format="json"
    )

    assert refused.status_code == 400 and error_fields(refused) == {"consent_given_at"}
    assert accepted.status_code == 201, accepted.content


def test_consent_may_not_be_moved_into_the_future_by_an_edit(recruiter):
    worker = recruiter["worker"]

    response = client_for(recruiter["user"]).patch(
        f"/api/v1/workers/{worker.pk}/", {"consent_given_at": "2099-01-01T00:00:00Z"}, format="json"
    )

    assert response.status_code == 400 and error_fields(response) == {"consent_given_at"}


# --- Phone: a valid number, kept in E.164 -------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["call me maybe", "12", "+1 555 0100", "+502 4444 1234 5678 9999"])
def test_a_phone_that_is_no_number_is_refused_naming_phone(recruiter, phone):
    before = counts()

    response = client_for(recruiter["user"]).post(
        "/api/v1/workers/", registration(recruiter["pilot"], phone=phone), format="json"
    )

    assert response.status_code == 400, response.content
    assert error_fields(response) == {"phone"}
    assert counts() == before


@pytest.mark.parametrize(
    ("nationality", "phone", "stored"),
    [
        ("GT", "+502 4444 1234", "+50244441234"),
        ("GT", "4444-1234", "+50244441234"),
        ("MX", "55 1234 5678", "+525512345678"),
    ],
)
def test_a_phone_is_kept_in_e164_with_the_nationality_as_its_default_country(recruiter, nationality, phone, stored):
    response = client_for(recruiter["user"]).post(
        "/api/v1/workers/", registration(recruiter["pilot"], nationality=nationality, phone=phone), format="json"
    )

    assert response.status_code == 201, response.content
    worker = wrk.Worker.objects.get(pk=response.json()["id"])
    assert worker.phone == stored and worker.phone_masked.endswith(stored[-3:])


def test_a_patch_to_a_phone_that_is_no_number_is_refused_and_changes_nothing(recruiter):
    worker = recruiter["worker"]

    response = client_for(recruiter["user"]).patch(
        f"/api/v1/workers/{worker.pk}/", {"phone": "call me maybe"}, format="json"
    )

    assert response.status_code == 400 and error_fields(response) == {"phone"}
    worker.refresh_from_db()
    assert worker.phone == "+502 5555 0100"


# --- Fee reports: the currency's minor unit, and paid within the worker's journey ---------------------------


def fee(worker: wrk.Worker, **overrides: Any) -> dict[str, Any]:
    return {
        "worker": worker.pk,
        "category": "recruitment_fee",
        "amount": "350.00",
        "currency": "USD",
        "paid_on": "2026-01-05",
        **overrides,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"paid_on": "2099-01-01"}, "paid_on"),
        ({"paid_on": "0001-01-01"}, "paid_on"),
        ({"paid_on": "2023-12-31"}, "paid_on"),  # more than two years before registering (2026-01-10)
        ({"amount": "1.001"}, "amount"),
        ({"amount": "1500.5", "currency": "JPY"}, "amount"),
        ({"amount": "0.001", "currency": "EUR"}, "amount"),
        ({"amount": "1000000000"}, "amount"),
    ],
)
def test_a_fee_report_out_of_bounds_is_refused_naming_the_field(recruiter, changes, field):
    before = counts()

    response = client_for(recruiter["user"]).post(
        "/api/v1/fee-reports/", fee(recruiter["worker"], **changes), format="json"
    )

    assert response.status_code == 400, response.content
    assert error_fields(response) == {field}
    assert counts() == before


@pytest.mark.parametrize(
    "changes",
    [
        {"paid_on": "2024-01-10"},  # two years before registering: the recruitment fee paid long before
        {"amount": "1500", "currency": "JPY"},
        {"amount": "1500.00", "currency": "JPY"},  # the same 1,500 yen
        {"amount": "12.345", "currency": "KWD"},
        {"amount": "0"},  # no fee paid: no finding
    ],
)
def test_a_fee_report_within_bounds_is_recorded(recruiter, changes):
    response = client_for(recruiter["user"]).post(
        "/api/v1/fee-reports/", fee(recruiter["worker"], **changes), format="json"
    )

    assert response.status_code == 201, response.content


def test_a_fee_paid_after_the_journey_ended_is_refused(recruiter):
    worker = recruiter["worker"]
    wrk.Worker.objects.filter(pk=worker.pk).update(
        current_stage=Stage.WITHDRAWN, stage_changed_on=datetime.date(2026, 3, 1)
    )
    client = client_for(recruiter["user"])

    after = client.post("/api/v1/fee-reports/", fee(worker, paid_on="2026-03-02"), format="json")
    on_the_day = client.post("/api/v1/fee-reports/", fee(worker, paid_on="2026-03-01"), format="json")

    assert after.status_code == 400 and error_fields(after) == {"paid_on"}
    assert on_the_day.status_code == 201, on_the_day.content
    assert wrk.FeeReport.objects.count() == 1


def test_the_dashboard_fee_form_refuses_an_amount_below_the_minor_unit(client, recruiter):
    staff = f.StaffUserFactory()
    client.force_login(staff)
    worker = recruiter["worker"]

    response = client.post(
        reverse("programme:worker-fee", args=[worker.pk]),
        {"category": "recruitment_fee", "amount": "1.001", "currency": "USD", "source": "staff"},
    )

    assert response.status_code == 400
    assert "USD amounts have at most 2 decimals." in response.content.decode()
    assert wrk.FeeReport.objects.count() == 0


# --- Journey events and claims: never dated in the future ---------------------------------------------------


def test_a_journey_event_in_the_future_is_refused_naming_occurred_on(recruiter):
    worker = recruiter["worker"]
    before = counts()

    response = client_for(recruiter["user"]).post(
        f"/api/v1/workers/{worker.pk}/events/", {"stage": "screened", "occurred_on": "2099-01-01"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert error_fields(response) == {"occurred_on"}
    assert counts() == before


def test_a_staff_override_in_the_future_is_refused_naming_occurred_on(recruiter):
    worker = recruiter["worker"]

    response = client_for(f.StaffUserFactory()).post(
        f"/api/v1/workers/{worker.pk}/events/",
        {"stage": "deployed", "occurred_on": "2099-01-01", "override_reason": "Backfilled from paper"},
        format="json",
    )

    assert response.status_code == 400 and error_fields(response) == {"occurred_on"}


@pytest.mark.parametrize("achieved_on", ["9999-12-31", "2099-01-01", "2025-12-31", "0001-01-01"])
def test_a_claim_achieved_in_the_future_or_before_the_contract_is_refused(recruiter, achieved_on):
    contract = f.RbfContractFactory(provider=recruiter["profile"].organisation, pilot=recruiter["pilot"])
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED")
    before = counts()

    response = client_for(recruiter["user"]).post(
        "/api/v1/claims/",
        {"metric": metric.pk, "worker": recruiter["worker"].pk, "achieved_on": achieved_on},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert error_fields(response) == {"achieved_on"}
    assert counts() == before


# --- The simulator: bounded, and throttled apart -------------------------------------------------------------

SIMULATE = "/api/v1/contracts/simulate/"


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.update(start="0001-01-01"), "start"),
        (lambda s: s.update(end="9990-12-31"), "end"),
        (lambda s: s.update(end="2036-01-01"), "end"),  # ten years and a day
        (lambda s: s.update(start="1999-12-31"), "start"),
        (lambda s: s["claims"][0].update(achieved_on="9999-12-31"), "claims[0].achieved_on"),
        (lambda s: s["claims"][0].update(achieved_on="2027-01-02"), "claims[0].achieved_on"),
        (lambda s: s["claims"][1].update(achieved_on="2025-12-31"), "claims[1].achieved_on"),
        (lambda s: s["claims"][2].update(verified_on="2026-01-01"), "claims[2].verified_on"),
        (lambda s: s["claims"][0].update(verified_on="2101-01-01"), "claims[0].verified_on"),
    ],
)
def test_an_unbounded_scenario_is_a_400_naming_the_field(edit, field):
    scenario = worked_example()
    edit(scenario)

    response = client_for(f.StaffUserFactory()).post(SIMULATE, scenario, format="json")

    assert response.status_code == 400, response.content
    assert error_fields(response) == {field}


def test_ten_years_is_the_longest_period():
    scenario = {**worked_example(), "end": "2035-12-31"}

    response = client_for(f.StaffUserFactory()).post(SIMULATE, scenario, format="json")

    assert response.status_code == 200, response.content
    assert len(response.json()["tranches"]) == 40


def test_more_than_50000_claims_is_a_400_naming_claims():
    scenario = worked_example()
    claim = scenario["claims"][0]
    scenario["claims"] = [{**claim, "id": f"c{n}"} for n in range(50_001)]

    with pytest.raises(ScenarioError) as refused:
        parse_scenario(scenario)

    assert refused.value.field == "claims"
    scenario["claims"] = scenario["claims"][:50_000]
    assert len(parse_scenario(scenario)[1]) == 50_000


def test_a_funder_still_simulates_a_bounded_scenario():
    funder = f.UserFactory(role=pil.Role.FUNDER, organisation=f.OrganisationFactory(kind="funder"))

    response = client_for(funder).post(SIMULATE, worked_example(), format="json")

    assert response.status_code == 200
    assert response.json()["total"] == "1500.00"


def test_the_simulator_has_a_throttle_of_its_own(settings):
    cache.clear()
    settings.REST_FRAMEWORK = copy.deepcopy(settings.REST_FRAMEWORK)
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["simulate"] = "2/min"
    client = client_for(f.RecruiterUserFactory())
    try:
        answers = [client.post(SIMULATE, worked_example(), format="json") for _ in range(3)]
        other_endpoint = client.get("/api/v1/contracts/")
    finally:
        cache.clear()

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert set(answers[2].json()) >= {"detail", "errors"} and "Retry-After" in answers[2].headers
    assert other_endpoint.status_code == 200  # the rest of the API keeps its own budget


def test_amounts_compare_at_the_minor_unit():
    assert at_minor_unit(Decimal("1.10"), "USD") and not at_minor_unit(Decimal("1.001"), "USD")
    assert at_minor_unit(Decimal("1500.00"), "JPY") and not at_minor_unit(Decimal("0.5"), "JPY")
    assert at_minor_unit(Decimal("1.001"), "KWD") and not at_minor_unit(Decimal("NaN"), "USD")
