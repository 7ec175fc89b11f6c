"""The fee report endpoints: what they show, recording a fee through ``fee_report_record`` (the source
forced to ``recruiter`` for recruiters), filters, tenancy, bad input and query budgets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from pilots import models as pil
from tests import factories as f
from workers import models as wrk

pytestmark = pytest.mark.django_db


def client_for(user: pil.User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def world() -> dict[str, Any]:
    worker_a, worker_b = f.WorkerFactory(), f.WorkerFactory()
    return {
        "staff": f.StaffUserFactory(),
        "user_a": f.RecruiterUserFactory(organisation=worker_a.recruiter.organisation),
        "user_b": f.RecruiterUserFactory(organisation=worker_b.recruiter.organisation),
        "funder": f.UserFactory(role=pil.Role.FUNDER, organisation=f.OrganisationFactory(kind="funder")),
        "worker_a": worker_a,
        "worker_b": worker_b,
        "fee_a": f.FeeReportFactory(worker=worker_a, source=wrk.FeeSource.RECRUITER),
        # What worker a said themselves: never shown to its recruiter, who must not learn who reported a fee.
        "fee_a_worker": f.FeeReportFactory(worker=worker_a, source=wrk.FeeSource.WORKER),
        "fee_b": f.FeeReportFactory(worker=worker_b, category=wrk.FeeCategory.MEDICAL),
    }


def fee(worker: Any, /, **overrides: Any) -> dict[str, Any]:
    return {
        "worker": worker.pk,
        "category": "medical",
        "amount": "350.5",
        "currency": "GTQ",
        "paid_to": "Clínica San Juan",
        "paid_on": "2026-02-03",
        "source": "worker_survey",
        **overrides,
    }


def error_fields(response: Any) -> set[str | None]:
    return {error["field"] for error in response.json()["errors"]}


def test_a_fee_report_shows_its_worker_category_and_amount_as_money(world):
    report = world["fee_a"]

    body = client_for(world["user_a"]).get(f"/api/v1/fee-reports/{report.pk}/").json()

    assert body == {
        "id": report.pk,
        "worker": world["worker_a"].pk,
        "recruiter": world["worker_a"].recruiter_id,
        "category": "recruitment_fee",
        "amount": "1500.00",
        "currency": "GTQ",
        "paid_to": "Sub-agent in Huehuetenango",
        "paid_on": None,
        "recovered_by_wage_deduction": False,
        "source": "recruiter",
        "reported_by": None,
        "reported_at": body["reported_at"],
        "note": "",
    }


def test_a_recruiter_reports_a_fee_of_its_own_worker_as_the_recruiter(world):
    response = client_for(world["user_a"]).post("/api/v1/fee-reports/", fee(world["worker_a"]), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    report = wrk.FeeReport.objects.get(pk=body["id"])
    assert report.source == wrk.FeeSource.RECRUITER and body["source"] == "recruiter"  # not the one it sent
    assert report.recruiter_id == world["worker_a"].recruiter_id and report.reported_by == world["user_a"]
    assert report.amount == Decimal("350.5") and body["amount"] == "350.50"


def test_staff_choose_the_source_or_default_to_staff(world):
    client = client_for(world["staff"])
    survey = client.post("/api/v1/fee-reports/", fee(world["worker_b"]), format="json")
    plain = client.post("/api/v1/fee-reports/", {**fee(world["worker_b"]), "source": None}, format="json")
    unset = fee(world["worker_b"])
    del unset["source"]
    default = client.post("/api/v1/fee-reports/", unset, format="json")

    assert survey.status_code == 201 and survey.json()["source"] == "worker_survey"
    assert plain.status_code == 400 and error_fields(plain) == {"source"}
    assert default.status_code == 201 and default.json()["source"] == "staff"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"worker": "other"}, "worker"),  # another recruiter's worker: as unknown as a missing one
        ({"worker": 10**9}, "worker"),
        ({"worker": "abc"}, "worker"),
        ({"category": "bribe"}, "category"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"paid_on": "31/02/2026"}, "paid_on"),
        ({"recovered_by_wage_deduction": "perhaps"}, "recovered_by_wage_deduction"),
        ({"amount": None}, "amount"),
        ({"category": None}, "category"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, change, field):
    if change.get("worker") == "other":
        change = {"worker": world["worker_b"].pk}
    body = {**fee(world["worker_a"]), **change}
    body = {key: value for key, value in body.items() if value is not None}
    before = wrk.FeeReport.objects.count()

    response = client_for(world["user_a"]).post("/api/v1/fee-reports/", body, format="json")

    assert response.status_code == 400 and error_fields(response) == {field}, response.content
    assert wrk.FeeReport.objects.count() == before


def test_another_worker_is_refused_in_the_same_words_as_a_missing_one(world):
    client = client_for(world["user_a"])
    theirs = client.post("/api/v1/fee-reports/", fee(world["worker_b"]), format="json").json()
    missing = client.post("/api/v1/fee-reports/", fee(world["worker_b"], worker=10**9), format="json").json()
    assert theirs["detail"].replace(str(world["worker_b"].pk), "N") == missing["detail"].replace(str(10**9), "N")


def test_recruiters_see_only_their_workers_fees_and_funders_none(world):
    def ids(user: pil.User, query: str = "") -> set[int]:
        response = client_for(user).get(f"/api/v1/fee-reports/{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids(world["user_a"]) == {world["fee_a"].pk}
    assert ids(world["funder"]) == set()
    assert ids(world["staff"]) == {world["fee_a"].pk, world["fee_a_worker"].pk, world["fee_b"].pk}
    assert ids(world["user_a"], f"?worker={world['worker_b'].pk}") == set()
    assert ids(world["user_a"], f"?worker={world['worker_a'].pk}") == {world["fee_a"].pk}
    assert ids(world["staff"], "?category=medical") == {world["fee_b"].pk}
    assert ids(world["staff"], "?source=recruiter") == {world["fee_a"].pk}
    assert ids(world["staff"], "?source=worker") == {world["fee_a_worker"].pk}
    url = f"/api/v1/fee-reports/{world['fee_a_worker'].pk}/"
    assert client_for(world["user_a"]).get(url).status_code == 404  # the worker's own report, unseen
    assert client_for(world["staff"]).get("/api/v1/fee-reports/?category=bribe").status_code == 400

    url = f"/api/v1/fee-reports/{world['fee_b'].pk}/"
    assert client_for(world["user_a"]).get(url).status_code == 404
    assert client_for(world["funder"]).get(url).status_code == 404


def test_funders_and_anonymous_report_nothing_and_fees_are_never_changed(world):
    before = list(wrk.FeeReport.objects.values_list())
    assert (
        client_for(world["funder"]).post("/api/v1/fee-reports/", fee(world["worker_a"]), format="json").status_code
        == 403
    )
    assert client_for(None).post("/api/v1/fee-reports/", fee(world["worker_a"]), format="json").status_code == 401
    assert client_for(None).get("/api/v1/fee-reports/").status_code == 401
    url = f"/api/v1/fee-reports/{world['fee_a'].pk}/"
    for method in ("put", "patch", "delete"):
        assert getattr(client_for(world["staff"]), method)(url, {"amount": "0"}, format="json").status_code == 405
    assert list(wrk.FeeReport.objects.values_list()) == before


@pytest.mark.parametrize("url", ["/api/v1/fee-reports/", "/api/v1/fee-reports/?category=recruitment_fee", "detail"])
@pytest.mark.parametrize("who", ["user_a", "staff"])
def test_query_budgets_stay_constant_as_the_page_fills(world, url, who, django_assert_max_num_queries):
    client = client_for(world[who])
    if url == "detail":
        url = f"/api/v1/fee-reports/{world['fee_a'].pk}/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    f.FeeReportFactory.create_batch(2, worker=world["worker_a"])
    few = queries()
    f.FeeReportFactory.create_batch(27, worker=world["worker_a"])
    with django_assert_max_num_queries(1):  # the page (by cursor: no count), or the report
        many = queries()
    assert few == many
