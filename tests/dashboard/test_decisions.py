"""The automatic decisions page and API: every decision the rules made, visible to staff, with its facts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from financing.models import ClaimStatus, MetricKind
from financing.services import verify_pending_claims
from tests import factories as f
from workers.models import EvidenceKind

pytestmark = pytest.mark.django_db

URL = reverse("financing:decisions")
TODAY = datetime.date(2026, 10, 15)


@pytest.fixture
def decided():  # noqa: ANN201
    """One claim the rules verified and one they sent to review, in two contracts."""
    placed = f.OutcomeClaimFactory(metric__kind=MetricKind.PLACED, achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=placed.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=placed.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION)
    review = f.OutcomeClaimFactory(metric__kind=MetricKind.PLACED, achieved_on=datetime.date(2026, 1, 5))
    f.EmploymentFactory(worker=review.worker, start_date=datetime.date(2026, 4, 6))
    for claim in (placed, review):
        verify_pending_claims(contract_id=claim.metric.contract_id, today=TODAY)
        claim.refresh_from_db()
    assert placed.status == ClaimStatus.VERIFIED and review.in_review
    return {"verified": placed, "review": review}


def test_staff_see_every_automatic_decision_with_its_facts(client, staff_user, decided, django_assert_max_num_queries):
    client.force_login(staff_user)
    with django_assert_max_num_queries(6):
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Employment started on 06 Apr 2026, confirmed independently." in html
    assert "not the day the employment started" in html
    assert [row.claim_id for row, _ in response.context["items"]] == [decided["review"].pk, decided["verified"].pk]

    only = client.get(URL, {"decision": "verified", "contract": decided["verified"].metric.contract_id})
    assert [row.claim_id for row, _ in only.context["items"]] == [decided["verified"].pk]


@pytest.mark.parametrize("query", [{"decision": "approved"}, {"since": "2026-13-01"}, {"contract": "x"}])
def test_a_bad_filter_is_a_400_naming_it(client, staff_user, decided, query):
    client.force_login(staff_user)
    response = client.get(URL, query)
    assert response.status_code == 400
    (name,) = query
    form = response.context["form"]
    assert any(line.startswith(str(form.fields[name].label)) for line in form.error_lines)  # a lazy, translated label


def test_the_api_lists_the_decisions_for_staff_only(decided):
    staff, recruiter = APIClient(), APIClient()
    staff.force_authenticate(f.StaffUserFactory())
    recruiter.force_authenticate(f.RecruiterUserFactory())

    body = staff.get("/api/v1/decisions/").json()
    assert [row["claim"] for row in body["results"]] == [decided["review"].pk, decided["verified"].pk]
    assert body["results"][1]["decision"] == "verified" and body["results"][1]["facts"]["for"]
    assert staff.get("/api/v1/decisions/?decision=needs_review").json()["results"][0]["claim"] == decided["review"].pk
    assert staff.get("/api/v1/decisions/?since=nonsense").status_code == 400
    assert recruiter.get("/api/v1/decisions/").status_code == 403
    assert APIClient().get("/api/v1/decisions/").status_code == 401
