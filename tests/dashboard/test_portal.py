"""The recruiter portal: its pages, what a recruiter sees and never sees, its API tokens, and the contract
page and schedule CSV opened to the contract's provider.

``world`` gives the recruiter one contract (2025, so its tranches have ended) with claims in every state,
and another recruiter a contract, worker and claim of its own that must stay invisible.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from financing.models import (
    ClaimStatus,
    Decision,
    OutcomeClaim,
    RbfContract,
    Tranche,
    TrancheStatus,
    VerificationMethod,
)
from financing.services import schedule_recompute
from lamp.models import ApiToken
from lamp.tokens import api_token_authenticate, api_token_create
from pilots.stages import Stage
from tests import factories as f

pytestmark = pytest.mark.django_db

REJECTION = "No employer attestation on file for this placement."
REVERSAL = "Fee finding after verification: Medical examinations."
#: What a review's reason and facts may say about the worker's own voice: never shown to the recruiter.
WORKER_VOICE = "The worker says on 02 Mar 2025 the worker no longer works there"
PENDING = "Waiting for the employer attestation or payroll to confirm the employment."


@dataclass
class World:
    contract: RbfContract
    workers: list
    verified: OutcomeClaim
    rejected: OutcomeClaim
    reversed: OutcomeClaim
    waiting: OutcomeClaim
    in_review: OutcomeClaim
    other_contract: RbfContract
    other_worker: object
    other_claim: OutcomeClaim


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def _decide(claim: OutcomeClaim, decision: str, *, by=None, reason: str = "", facts=None) -> None:  # noqa: ANN001
    f.VerificationFactory(
        claim=claim,
        decision=decision,
        method=VerificationMethod.STAFF if by else VerificationMethod.AUTOMATIC,
        decided_by=by,
        rule="" if by else "placed",
        reason=reason,
        facts=facts or {},
    )


def _build(recruiter, funder_org, *, extra_workers: int = 0) -> World:  # noqa: ANN001
    staff = f.StaffUserFactory()
    contract = f.RbfContractFactory(
        reference="H2A-PORTAL",
        payer=funder_org,
        provider=recruiter.organisation,
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 12, 31),
        cap_total=Decimal("10000.00"),
    )
    f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=contract.pilot)
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))
    workers = [
        f.WorkerFactory(pilot=contract.pilot, recruiter=recruiter, given_names=name, current_stage=Stage.WORKING)
        for name in ("Ana", "Juan", "Rosa", "Luis", "Marta")
    ]
    workers += f.WorkerFactory.create_batch(extra_workers, pilot=contract.pilot, recruiter=recruiter)
    day = datetime.date(2025, 2, 3)
    verified = f.OutcomeClaimFactory(
        metric=metric, worker=workers[0], achieved_on=day, verified_on=day, status=ClaimStatus.VERIFIED
    )
    _decide(verified, Decision.VERIFIED, reason="Employment confirmed by the worker's own answer (check-in).")
    rejected = f.OutcomeClaimFactory(
        metric=metric, worker=workers[1], achieved_on=day, status=ClaimStatus.REJECTED, rejection_reason=REJECTION
    )
    _decide(rejected, Decision.NEEDS_REVIEW, reason=WORKER_VOICE, facts={"against": [WORKER_VOICE]})
    _decide(rejected, Decision.REJECTED, by=staff, reason=REJECTION)
    reversed_ = f.OutcomeClaimFactory(
        metric=metric,
        worker=workers[2],
        achieved_on=day,
        verified_on=day,
        status=ClaimStatus.REVERSED,
        reversal_reason=REVERSAL,
    )
    _decide(reversed_, Decision.REVERSED, reason=REVERSAL, facts={"fee_report": 1, "source": "worker_survey"})
    waiting = f.OutcomeClaimFactory(metric=metric, worker=workers[3], achieved_on=day, pending_reason=PENDING)
    in_review = f.OutcomeClaimFactory(metric=metric, worker=workers[4], achieved_on=day, in_review=True)
    _decide(in_review, Decision.NEEDS_REVIEW, reason=WORKER_VOICE, facts={"against": [WORKER_VOICE]})
    # The worker's own voice about a fee: a recruiter never sees who reported it.
    f.FeeReportFactory(worker=workers[2], source="worker_survey", paid_to="Sub-agent in Huehuetenango")
    for extra in workers[5:]:
        f.OutcomeClaimFactory(
            metric=metric, worker=extra, achieved_on=day, status=ClaimStatus.VERIFIED, verified_on=day
        )
    schedule_recompute(contract_id=contract.pk)

    other = f.RecruiterFactory(organisation__name="Other Agency")
    other_contract = f.RbfContractFactory(reference="OTHER-1", provider=other.organisation, payer=funder_org)
    other_metric = f.OutcomeMetricFactory(contract=other_contract, code="PLACED")
    other_worker = f.WorkerFactory(pilot=other_contract.pilot, recruiter=other, given_names="Zacarías")
    other_claim = f.OutcomeClaimFactory(
        metric=other_metric, worker=other_worker, status=ClaimStatus.REJECTED, rejection_reason="Other reason"
    )
    return World(
        contract, workers, verified, rejected, reversed_, waiting, in_review, other_contract, other_worker, other_claim
    )


@pytest.fixture
def world(recruiter, funder_org) -> World:  # noqa: ANN001
    return _build(recruiter, funder_org)


def _url(name: str, *args: object) -> str:
    return reverse(f"programme:{name}", args=args)


# --- Who may open the portal --------------------------------------------------------------------------


def test_a_recruiter_lands_on_its_portal(world, recruiter_client):  # noqa: ANN001
    response = recruiter_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


@pytest.mark.parametrize("name", ["portal", "portal-workers", "portal-claims", "portal-contracts", "portal-tokens"])
def test_a_funder_is_refused_the_portal_and_a_visitor_logs_in(name, funder_client):  # noqa: ANN001
    assert funder_client.get(_url(name)).status_code == 403
    anonymous = Client().get(_url(name))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


# --- Home --------------------------------------------------------------------------------------------------


def test_home_shows_what_the_recruiter_has_and_what_it_will_be_paid_when(
    world,
    recruiter,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    with django_assert_num_queries(9):
        response = recruiter_client.get(_url("portal"))
    assert response.status_code == 200
    html = response.content.decode()
    assert recruiter.organisation.name in html
    assert "H2A-PORTAL" in html and "OTHER-1" not in html
    q1 = Tranche.objects.get(contract=world.contract, code="2025-Q1")
    assert q1.status == TrancheStatus.OPEN
    assert "2025-Q1" in html and "USD 500.00" in html  # the verified unit, due in Q1
    assert "overdue" in html  # Q1's due date passed long ago
    assert _url("scorecard", recruiter.pk) in html
    assert reverse("financing:contract", args=[world.contract.pk]) in html


def test_home_runs_the_same_queries_for_a_larger_world(
    recruiter,
    funder_org,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    _build(recruiter, funder_org, extra_workers=30)
    f.RbfContractFactory(provider=recruiter.organisation)  # a second contract, without tranches
    with django_assert_num_queries(9):
        assert recruiter_client.get(_url("portal")).status_code == 200


def test_home_amounts_add_up_per_contract(world, recruiter_client):  # noqa: ANN001
    contract = recruiter_client.get(_url("portal")).context["home"].contracts[0]
    assert contract.amounts.adds_up
    assert sum(u.amount for u in contract.upcoming) + contract.amounts.paid == contract.amounts.verified


# --- Workers -----------------------------------------------------------------------------------------------


def test_workers_list_shows_own_workers_with_their_stage_and_nothing_private(
    world,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    with django_assert_num_queries(4):  # session, user, the pilots offered, the page (a count that fits is free)
        response = recruiter_client.get(_url("portal-workers"))
    assert response.status_code == 200
    html = response.content.decode()
    for worker in world.workers:
        assert f"{worker.given_names} {worker.family_names}" in html
    assert "Zacarías" not in html
    assert "Working" in html
    masked = world.workers[0].identity_document_masked
    assert masked and masked in html
    assert world.workers[0].identity_document_number not in html
    assert "+502" not in html  # no phone
    # not who reported a fee (the random CSRF tokens are taken out: they may spell anything)
    words = re.sub(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*', "", html).lower()
    assert "fee" not in words.replace("feedback", "")


def test_workers_list_queries_stay_constant_across_pages(
    recruiter,
    funder_org,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    _build(recruiter, funder_org, extra_workers=120)
    with django_assert_num_queries(5):  # the page, and its count (bounded)
        first = recruiter_client.get(_url("portal-workers"))
    older = first.context["page"].older
    assert older is not None and len(first.context["page"].workers) == 50
    with django_assert_num_queries(5):  # a deeper page costs what the first does
        second = recruiter_client.get(_url("portal-workers"), {"cursor": str(older)})
    assert second.status_code == 200 and second.context["page"].matches == 125


def test_workers_search_by_name_and_document_and_filter_by_stage(world, recruiter_client):  # noqa: ANN001
    by_name = recruiter_client.get(_url("portal-workers"), {"q": "Rosa"}).context["page"].workers
    assert [w.pk for w in by_name] == [world.workers[2].pk]
    number = world.workers[1].identity_document_number
    by_number = recruiter_client.get(_url("portal-workers"), {"q": number}).context["page"].workers
    assert [w.pk for w in by_number] == [world.workers[1].pk]
    foreign = recruiter_client.get(_url("portal-workers"), {"q": world.other_worker.identity_document_number})
    assert foreign.context["page"].workers == []
    registered = recruiter_client.get(_url("portal-workers"), {"stage": "registered"}).context["page"].workers
    assert registered == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "flying"}, "stage"),
        ({"pilot": "abc"}, "pilot"),
        ({"cursor": "x' OR 1=1"}, "cursor"),
        ({"q": "a" * 500}, "q"),
        ({"q": "Ana\x00"}, "q"),
    ],
)
def test_workers_bad_filters_are_a_400_naming_the_field(world, recruiter_client, params, field):  # noqa: ANN001
    response = recruiter_client.get(_url("portal-workers"), params)
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_another_recruiters_pilot_is_not_a_filter(world, recruiter_client):  # noqa: ANN001
    response = recruiter_client.get(_url("portal-workers"), {"pilot": world.other_contract.pilot_id})
    assert response.status_code == 400 and "pilot" in response.context["form"].errors


def test_worker_page_shows_the_journey_and_claims_another_recruiters_worker_is_404(
    world,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    worker = world.workers[1]
    f.JourneyEventFactory(worker=worker, stage=Stage.REGISTERED, occurred_on=datetime.date(2025, 1, 2))
    f.JourneyEventFactory(
        worker=worker, stage=Stage.SCREENED, occurred_on=datetime.date(2025, 1, 9), note="Said on the phone: X"
    )
    with django_assert_num_queries(6):  # session, user, worker, journey, claims, their decisions
        response = recruiter_client.get(_url("portal-worker", worker.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Screened" in html and "09 Jan 2025" in html
    assert "Said on the phone" not in html
    assert REJECTION in html and WORKER_VOICE not in html
    assert recruiter_client.get(_url("portal-worker", world.other_worker.pk)).status_code == 404


# --- Claims ------------------------------------------------------------------------------------------------


def test_claims_list_shows_reasons_but_never_a_reviews_reason_or_facts(
    world,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    with django_assert_num_queries(6):
        response = recruiter_client.get(_url("portal-claims"))
    assert response.status_code == 200
    html = response.content.decode()
    assert REJECTION in html
    assert REVERSAL in html
    assert PENDING in html
    assert "In staff review" in html
    assert WORKER_VOICE not in html
    assert "check-in" not in html
    assert "worker_survey" not in html and "Huehuetenango" not in html
    assert "Other reason" not in html and f"#{world.other_claim.pk}<" not in html


def test_claims_list_queries_do_not_grow_with_claims(
    recruiter,
    funder_org,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    _build(recruiter, funder_org, extra_workers=60)
    with django_assert_num_queries(6):
        response = recruiter_client.get(_url("portal-claims"))
    assert len(response.context["rows"]) == 50
    with django_assert_num_queries(6):
        assert recruiter_client.get(_url("portal-claims"), {"page": 2}).status_code == 200


@pytest.mark.parametrize(
    ("status", "claim"),
    [
        ("rejected", "rejected"),
        ("reversed", "reversed"),
        ("waiting", "waiting"),
        ("in_review", "in_review"),
        ("verified", "verified"),
    ],
)
def test_claims_filtered_by_status(world, recruiter_client, status, claim):  # noqa: ANN001
    rows = recruiter_client.get(_url("portal-claims"), {"status": status}).context["rows"]
    assert [row.claim.pk for row in rows] == [getattr(world, claim).pk]


def test_claims_filtered_by_status_claimed_gives_both_kinds_of_waiting(world, recruiter_client):  # noqa: ANN001
    rows = recruiter_client.get(_url("portal-claims"), {"status": "claimed"}).context["rows"]
    assert {row.claim.pk for row in rows} == {world.waiting.pk, world.in_review.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "paid"}, "status"), ({"contract": "999999"}, "contract"), ({"page": "0"}, "page")],
)
def test_claims_bad_filters_are_a_400_naming_the_field(world, recruiter_client, params, field):  # noqa: ANN001
    response = recruiter_client.get(_url("portal-claims"), params)
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_claims_of_another_recruiters_contract_are_not_a_filter(world, recruiter_client):  # noqa: ANN001
    response = recruiter_client.get(_url("portal-claims"), {"contract": world.other_contract.pk})
    assert response.status_code == 400


def test_a_rejected_claims_page_says_why_and_when_but_not_what_the_worker_said(
    world,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    with django_assert_num_queries(5):
        response = recruiter_client.get(_url("portal-claim", world.rejected.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Why it was rejected" in html and REJECTION in html
    assert "Needs staff review" in html and "program staff" in html
    assert WORKER_VOICE not in html


def test_a_verified_claims_page_does_not_repeat_the_rules_reason(world, recruiter_client):  # noqa: ANN001
    html = recruiter_client.get(_url("portal-claim", world.verified.pk)).content.decode()
    assert "Verified" in html
    assert "worker's own answer" not in html and "check-in" not in html


def test_another_recruiters_claim_is_404(world, recruiter_client):  # noqa: ANN001
    assert recruiter_client.get(_url("portal-claim", world.other_claim.pk)).status_code == 404
    assert recruiter_client.get(_url("portal-claim", 987654321)).status_code == 404


# --- Contracts, the contract page and its CSV ---------------------------------------------------------


def test_contracts_page_lists_own_contracts_with_links_to_page_and_csv(
    world,
    recruiter_client,
    django_assert_num_queries,  # noqa: ANN001
):
    with django_assert_num_queries(5):
        response = recruiter_client.get(_url("portal-contracts"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "H2A-PORTAL" in html and "OTHER-1" not in html
    assert reverse("financing:contract-csv", args=[world.contract.pk]) in html


def test_the_provider_reads_its_contract_page_without_staff_actions(world, recruiter_client):  # noqa: ANN001
    response = recruiter_client.get(reverse("financing:contract", args=[world.contract.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "H2A-PORTAL" in html
    assert "/approve/" not in html and "/disburse/" not in html and "try-terms" not in html


def test_another_recruiters_contract_page_and_csv_are_404(world, recruiter_client):  # noqa: ANN001
    assert recruiter_client.get(reverse("financing:contract", args=[world.other_contract.pk])).status_code == 404
    assert recruiter_client.get(reverse("financing:contract-csv", args=[world.other_contract.pk])).status_code == 404


def test_the_provider_may_not_try_terms_or_act_on_a_tranche(world, recruiter_client):  # noqa: ANN001
    q1 = Tranche.objects.get(contract=world.contract, code="2025-Q1")
    assert recruiter_client.get(reverse("financing:contract-try", args=[world.contract.pk])).status_code == 403
    approve = recruiter_client.post(reverse("financing:tranche-approve", args=[q1.pk]), {"expected_total": "500"})
    assert approve.status_code == 403
    q1.refresh_from_db()
    assert q1.status == TrancheStatus.OPEN


def test_the_providers_schedule_csv_names_its_own_workers(world, recruiter_client):  # noqa: ANN001
    response = recruiter_client.get(reverse("financing:contract-csv", args=[world.contract.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["claim_id"] for row in rows] == [str(world.verified.pk)]
    (line,) = rows
    assert (line["tranche"], line["metric"], line["amount"], line["currency"]) == ("2025-Q1", "PLACED", "500.00", "USD")
    assert line["worker_id"] == str(world.workers[0].pk)
    assert line["worker_name"] == f"{world.workers[0].given_names} {world.workers[0].family_names}"


def test_the_payers_schedule_csv_still_names_no_worker(world, funder_user):  # noqa: ANN001
    response = _client(funder_user).get(reverse("financing:contract-csv", args=[world.contract.pk]))
    header = b"".join(response.streaming_content).decode().splitlines()[0]
    assert "worker" not in header


# --- API tokens --------------------------------------------------------------------------------------------


def test_tokens_page_lists_own_tokens_only(recruiter_user, recruiter_client, django_assert_num_queries):  # noqa: ANN001
    mine, _ = api_token_create(user=recruiter_user, name="Agency CRM")
    api_token_create(user=f.StaffUserFactory(), name="Someone else's")
    with django_assert_num_queries(4):
        response = recruiter_client.get(_url("portal-tokens"))
    html = response.content.decode()
    assert "Agency CRM" in html and f"lamp_{mine.prefix}" in html
    assert "Someone else" not in html


def test_creating_a_token_shows_its_secret_once_and_it_authenticates(recruiter_user, recruiter_client):  # noqa: ANN001
    response = recruiter_client.post(_url("portal-tokens"), {"name": "  Agency CRM sync ", "expires_in_days": "90"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("lamp_") and secret in response.content.decode()
    token = ApiToken.objects.get(user=recruiter_user)
    assert token.name == "Agency CRM sync"
    assert token.expires_at is not None and token.expires_at > timezone.now() + datetime.timedelta(days=89)
    assert api_token_authenticate(secret=secret).pk == token.pk
    again = recruiter_client.get(_url("portal-tokens")).content.decode()
    assert secret not in again and f"lamp_{token.prefix}" in again


def test_a_token_is_created_without_expiry_when_left_empty(recruiter_user, recruiter_client):  # noqa: ANN001
    assert recruiter_client.post(_url("portal-tokens"), {"name": "CRM", "expires_in_days": ""}).status_code == 201
    assert ApiToken.objects.get(user=recruiter_user).expires_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "CRM\x00"}, "name"),
        ({"name": "CRM", "expires_in_days": "0"}, "expires_in_days"),
        ({"name": "CRM", "expires_in_days": "-3"}, "expires_in_days"),
        ({"name": "CRM", "expires_in_days": "99999999999999999999"}, "expires_in_days"),
        ({"name": "CRM", "expires_in_days": "soon"}, "expires_in_days"),
    ],
)
def test_a_bad_token_request_is_a_400_naming_the_field_and_writes_nothing(recruiter_client, data, field):  # noqa: ANN001
    response = recruiter_client.post(_url("portal-tokens"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "secret" not in response.context
    assert not ApiToken.objects.exists()


def test_creating_a_token_needs_the_csrf_token(recruiter_user):  # noqa: ANN001
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter_user)
    assert client.post(_url("portal-tokens"), {"name": "CRM"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_revoking_asks_first_then_revokes(recruiter_user, recruiter_client):  # noqa: ANN001
    token, secret = api_token_create(user=recruiter_user, name="Agency CRM")
    confirm = recruiter_client.get(_url("portal-token-revoke", token.pk))
    assert confirm.status_code == 200 and "Revoke the token" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # a GET changes nothing
    response = recruiter_client.post(_url("portal-token-revoke", token.pk))
    assert response.status_code == 302 and response["Location"] == _url("portal-tokens")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == recruiter_user
    first = token.revoked_at
    recruiter_client.post(_url("portal-token-revoke", token.pk))  # twice: the first revocation stands
    token.refresh_from_db()
    assert token.revoked_at == first
    listed = recruiter_client.get(_url("portal-tokens")).content.decode()
    assert "Revoke…" not in listed


def test_the_api_refuses_a_revoked_token(recruiter_user, recruiter_client):  # noqa: ANN001
    token, secret = api_token_create(user=recruiter_user, name="Agency CRM")
    assert Client().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    recruiter_client.post(_url("portal-token-revoke", token.pk))
    assert Client().get("/api/v1/claims/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_another_users_token_cannot_be_revoked(recruiter_client):  # noqa: ANN001
    other, _ = api_token_create(user=f.StaffUserFactory(), name="Staff bot")
    assert recruiter_client.get(_url("portal-token-revoke", other.pk)).status_code == 404
    assert recruiter_client.post(_url("portal-token-revoke", other.pk)).status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


def test_staff_manage_their_own_tokens_too(staff_user, staff_client):  # noqa: ANN001
    assert staff_client.post(_url("portal-tokens"), {"name": "Reporting"}).status_code == 201
    assert ApiToken.objects.get().user == staff_user
