"""POST /api/v1/contracts/simulate/: the simulator over HTTP, with field-named errors."""

from __future__ import annotations

import copy

import pytest
from rest_framework.test import APIClient

from tests.factories import RecruiterUserFactory, StaffUserFactory
from tests.financing.scenarios import worked_example

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/simulate/"

TEST_VECTOR = worked_example()


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffUserFactory())
    return client


def test_the_test_vector_over_http(api):
    response = api.post(URL, TEST_VECTOR, format="json")

    assert response.status_code == 200
    body = response.json()
    q1 = body["tranches"][0]
    assert [line["amount"] for line in q1["lines"]] == ["500.00", "500.00", "500.00", "0.00"]
    assert q1["lines"][3] == {
        "claim": "c4",
        "metric": "PLACED",
        "worker": "w4",
        "amount": "0.00",
        "capped": "500.00",
        "reason": "cap_units",
    }
    assert [t["total"] for t in body["tranches"]] == ["1500.00", "0.00", "0.00", "0.00"]
    assert body["total"] == "1500.00"


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s["claims"][0].update(metric="RETAINED"), "claims[0].metric"),
        (lambda s: s["metrics"][0].update(price="-1"), "metrics[0].price"),
        (lambda s: s.update(currency="XYZ"), "currency"),
        (lambda s: s.update(start="2026-13-01"), "start"),
        (lambda s: s["metrics"][0].update(threshold_rate="0.8"), "metrics[0].denominator"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, edit, field):
    scenario = copy.deepcopy(TEST_VECTOR)
    edit(scenario)

    response = api.post(URL, scenario, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["detail"]


def test_a_body_that_is_not_an_object_is_refused(api):
    response = api.post(URL, [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "scenario"


def test_any_signed_in_user_may_simulate_but_not_anonymous():
    client = APIClient()
    assert client.post(URL, TEST_VECTOR, format="json").status_code == 401
    client.force_authenticate(RecruiterUserFactory())
    assert client.post(URL, TEST_VECTOR, format="json").status_code == 200
