"""A claim's page: its lines and verifications in a fixed number of queries; reversing it with a reason (the
adjustment the recompute makes is then on the page); reopening one's own decision within the undo window;
and running the verification rules of a contract now."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from financing import services
from financing.models import (
    ClaimStatus,
    ContractStatus,
    Decision,
    LineKind,
    MetricKind,
    PaymentLine,
    Tranche,
    Verification,
    VerificationMethod,
)
from tests import factories as f
from workers.models import EvidenceKind, Source

#: The schedule recompute a service enqueues runs in-process, as it does on the embedded defaults.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def maker():  # noqa: ANN201
    return f.StaffUserFactory(first_name="María", last_name="Castillo")


@pytest.fixture
def world(maker):  # noqa: ANN001, ANN201
    """Two placements verified by María in 2026-Q1, and the schedule that pays them."""
    metric = f.OutcomeMetricFactory(code="PLACED", price=Decimal("500.00"), contract__reference="H2A-2026")
    claims = [f.OutcomeClaimFactory(metric=metric) for _ in range(2)]
    for claim in claims:
        services.claim_verify(claim=claim, user=maker, verified_on=datetime.date(2026, 2, 10), recompute=False)
        claim.refresh_from_db()
    services.schedule_recompute(contract_id=metric.contract_id)
    return {"metric": metric, "contract": metric.contract, "claims": claims}


def claim_url(claim, name: str = "claim") -> str:  # noqa: ANN001
    return reverse(f"financing:{name}", args=[claim.pk])


def client_of(client, user):  # noqa: ANN001, ANN201
    client.force_login(user)
    return client


def approve_q1(world) -> Tranche:  # noqa: ANN001
    q1 = Tranche.objects.get(contract=world["contract"], code="2026-Q1")
    return services.tranche_approve(tranche=q1, user=f.StaffUserFactory())


# --- Who sees it, and what it shows --------------------------------------------------------------------------


def test_recruiters_and_funders_are_refused_and_anonymous_visitors_log_in(client, world):
    claim = world["claims"][0]
    assert client.get(claim_url(claim))["Location"].startswith(reverse("login"))
    recruiter = f.RecruiterUserFactory(organisation=world["contract"].provider)
    funder = f.UserFactory(role="funder", organisation=world["contract"].payer)
    for user in (recruiter, funder):
        client_of(client, user)
        assert client.get(claim_url(claim)).status_code == 403
        assert client.post(claim_url(claim, "claim-reverse"), {"reason": "No"}).status_code == 403
        assert client.post(claim_url(claim, "claim-reopen")).status_code == 403
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED


def test_an_unknown_claim_is_a_404(staff_client):
    assert staff_client.get(reverse("financing:claim", args=[999_999])).status_code == 404


def test_the_page_shows_the_claim_its_line_and_who_verified_it_on_which_facts(staff_client, world, maker):
    claim = world["claims"][0]
    response = staff_client.get(claim_url(claim))
    assert response.status_code == 200
    html = response.content.decode()
    assert "PLACED" in html and str(claim.worker.given_names) in html and "H2A-2026" in html
    assert "USD 500.00 for each verified unit, at most 1 per worker" in html  # the metric's terms in words
    (line,) = response.context["page"].lines
    assert (line.tranche.code, line.kind, line.amount) == ("2026-Q1", LineKind.PAYMENT, Decimal("500.00"))
    assert "2026-Q1" in html and "USD 500.00" in html
    ((row, _facts),) = response.context["page"].verifications
    assert row.decision == Decision.VERIFIED and row.decided_by == maker
    assert "María Castillo" in html


def test_an_automatic_decision_says_which_rule_and_the_facts(staff_client):
    claim = f.OutcomeClaimFactory(metric__kind=MetricKind.PLACED, achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION, source=Source.EMPLOYER)
    assert services.verify_pending_claims(contract_id=claim.metric.contract_id).verified == 1
    html = staff_client.get(claim_url(claim)).content.decode()
    assert "the automatic rule “placed”" in html
    assert "Employment started on 06 Apr 2026, confirmed independently." in html
    assert "Only a staff member&#x27;s own decision can be reopened" in html  # no undo of a rule's verification


def test_the_page_runs_the_same_queries_whatever_the_lines_and_verifications(
    staff_client, world, maker, django_assert_num_queries
):
    claim = world["claims"][0]
    with django_assert_num_queries(6):  # session, user, the claim, its lines, its verifications, its history
        assert staff_client.get(claim_url(claim)).status_code == 200
    approve_q1(world)
    services.claim_reverse(claim=claim, user=f.StaffUserFactory(), reason="Attestation withdrawn")
    services.schedule_recompute(contract_id=world["contract"].pk)
    for _ in range(10):
        f.VerificationFactory(claim=claim, decision=Decision.NEEDS_REVIEW, facts={"for": ["x"], "against": ["y"]})
    assert PaymentLine.objects.filter(claim=claim).count() == 2
    with django_assert_num_queries(6):
        assert staff_client.get(claim_url(claim)).status_code == 200


# --- Reversing a verified claim ------------------------------------------------------------------------------


def test_reversing_a_claim_of_an_approved_tranche_shows_its_adjustment(
    staff_client, world, django_capture_on_commit_callbacks
):
    claim = world["claims"][0]
    approve_q1(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(claim_url(claim, "claim-reverse"), {"reason": "Attestation withdrawn"})
    assert response.status_code == 302 and response["Location"] == claim_url(claim) + "#lines"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVERSED and claim.reversal_reason == "Attestation withdrawn"
    (adjustment,) = PaymentLine.objects.filter(claim=claim, kind=LineKind.ADJUSTMENT)
    assert adjustment.amount == Decimal("-500.00") and adjustment.tranche.code == "2026-Q2"

    page = staff_client.get(claim_url(claim))
    html = page.content.decode()
    assert [line.kind for line in page.context["page"].lines] == [LineKind.PAYMENT, LineKind.ADJUSTMENT]
    assert page.context["page"].net == Decimal("0.00")
    assert "Adjustment" in html and "-USD 500.00" in html and "Attestation withdrawn" in html
    assert f"Claim {claim.pk} reversed: Attestation withdrawn." in html


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001, "bad\x00byte"])
def test_a_reversal_needs_a_sound_reason_and_changes_nothing_without_one(staff_client, world, reason):
    claim = world["claims"][0]
    response = staff_client.post(claim_url(claim, "claim-reverse"), {"reason": reason})
    assert response.status_code == 400
    assert "reason" in response.context["reverse_form"].errors
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED


def test_only_a_verified_claim_is_reversed_with_the_services_words(staff_client):
    claim = f.OutcomeClaimFactory()
    response = staff_client.post(claim_url(claim, "claim-reverse"), {"reason": "Wrong"})
    assert response.status_code == 400
    assert response.context["reverse_form"].non_field_errors() == [
        "Only a verified claim can be reversed; this one is claimed."
    ]


def test_the_providers_user_may_not_reverse_in_the_service(world):
    provider_user = f.RecruiterUserFactory(organisation=world["contract"].provider)
    with pytest.raises(PermissionDenied):
        services.claim_reverse(claim=world["claims"][0], user=provider_user, reason="Mine")


# --- Reopening one's own decision within the undo window -----------------------------------------------------


def test_the_maker_reopens_a_verification_and_the_claim_goes_back_to_review(
    client, world, maker, django_capture_on_commit_callbacks
):
    claim = world["claims"][0]
    client_of(client, maker)
    page = client.get(claim_url(claim))
    assert page.context["page"].reopen_refusal is None
    assert claim_url(claim, "claim-reopen") in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(claim_url(claim, "claim-reopen"), {"reason": "Clicked the wrong claim"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.verified_on, claim.in_review) == (ClaimStatus.CLAIMED, None, True)
    row = claim.verifications.order_by("-decided_at", "-id").first()
    assert (row.decision, row.method, row.decided_by) == (Decision.NEEDS_REVIEW, VerificationMethod.STAFF, maker)
    assert "Reopened by María Castillo: the verified decision of" in row.reason
    assert row.reason.endswith("Clicked the wrong claim") and row.facts["undone"] == "verified"
    assert not PaymentLine.objects.filter(claim=claim).exists()  # its line left the open tranche
    assert claim.pk in [item.claim.pk for item in client.get(reverse("financing:queue")).context["items"]]


def test_a_rejection_can_be_reopened_too(maker):
    claim = f.OutcomeClaimFactory()
    services.claim_reject(claim=claim, user=maker, reason="No attestation")
    services.claim_reopen(claim=claim, user=maker)
    claim.refresh_from_db()
    assert (claim.status, claim.rejection_reason, claim.in_review) == (ClaimStatus.CLAIMED, "", True)


def _refusal(claim, user) -> str:  # noqa: ANN001
    with pytest.raises(ValidationError) as refused:
        services.claim_reopen(claim=claim, user=user)
    return " ".join(refused.value.messages)


def test_only_the_staff_member_who_decided_may_reopen(client, world):
    claim = world["claims"][0]
    other = f.StaffUserFactory()
    assert _refusal(claim, other) == "Only María Castillo, who made this decision, may reopen it."
    response = client_of(client, other).post(claim_url(claim, "claim-reopen"))
    assert response.status_code == 400
    assert "Only María Castillo, who made this decision" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED


def test_after_the_undo_window_a_verification_is_reversed_instead(world, maker, settings):
    claim = world["claims"][0]
    Verification.objects.filter(claim=claim).update(decided_at=timezone.now() - datetime.timedelta(minutes=11))
    assert "within 10 minutes" in _refusal(claim, maker) and "Reverse the claim instead" in _refusal(claim, maker)
    settings.DECISION_UNDO_MINUTES = 30
    services.claim_reopen(claim=claim, user=maker)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLAIMED


def test_not_once_its_tranche_is_approved(world, maker):
    claim = world["claims"][0]
    approve_q1(world)
    assert _refusal(claim, maker) == (
        "Its payment line is in tranche 2026-Q1, which is approved: reverse the claim instead, with a reason."
    )


def test_not_a_claim_that_waits_nor_a_reopened_one_again(world, maker):
    assert _refusal(f.OutcomeClaimFactory(), maker) == (
        "Only a verified or rejected claim can be reopened; this one is claimed."
    )
    claim = world["claims"][0]
    services.claim_reopen(claim=claim, user=maker)
    assert "this one is claimed" in _refusal(claim, maker)


def test_not_by_anyone_but_staff(world):
    with pytest.raises(PermissionDenied):
        services.claim_reopen(claim=world["claims"][0], user=f.RecruiterUserFactory())


# --- Running the verification rules of a contract now --------------------------------------------------------


def test_run_the_rules_now_says_what_they_did(staff_client, django_capture_on_commit_callbacks):
    contract = f.RbfContractFactory()
    placed = f.OutcomeClaimFactory(metric__contract=contract, achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=placed.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=placed.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION, source=Source.EMPLOYER)
    f.OutcomeClaimFactory(metric=placed.metric)  # no employment: it waits
    wrong_day = f.OutcomeClaimFactory(metric=placed.metric, achieved_on=datetime.date(2026, 1, 5))
    f.EmploymentFactory(worker=wrong_day.worker, start_date=datetime.date(2026, 4, 6))

    page = staff_client.get(reverse("financing:contract", args=[contract.pk])).content.decode()
    url = reverse("financing:contract-verify-now", args=[contract.pk])
    assert url in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("financing:contract", args=[contract.pk])
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [
        "The rules verified 1, sent 1 to review, 1 still wait. "
        "The claims sent to review are first in the verification queue."
    ]
    placed.refresh_from_db()
    assert placed.status == ClaimStatus.VERIFIED
    assert PaymentLine.objects.filter(claim=placed).exists()  # the schedule recompute the service enqueued ran


def test_run_the_rules_now_is_staffs_and_an_active_contracts(client, staff_user):
    contract = f.RbfContractFactory()
    url = reverse("financing:contract-verify-now", args=[contract.pk])
    for user in (
        f.RecruiterUserFactory(organisation=contract.provider),
        f.UserFactory(role="funder", organisation=contract.payer),
    ):
        assert client_of(client, user).post(url).status_code == 403
    staff = client_of(client, staff_user)
    assert staff.get(url).status_code == 405
    assert staff.post(reverse("financing:contract-verify-now", args=[999_999])).status_code == 404
    contract.status = ContractStatus.CLOSED
    contract.save()
    response = staff.post(url)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"The rules run on an active contract's claims; {contract.reference} is closed."
    ]


# --- The automatic decisions page ---------------------------------------------------------------------------


def test_the_decisions_page_names_the_rule_and_links_the_claim(staff_client):
    claim = f.OutcomeClaimFactory(metric__kind=MetricKind.PLACED, achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))
    f.EvidenceFactory(worker=claim.worker, kind=EvidenceKind.EMPLOYER_ATTESTATION, source=Source.EMPLOYER)
    services.verify_pending_claims(contract_id=claim.metric.contract_id)
    html = staff_client.get(reverse("financing:decisions")).content.decode()
    assert "rule “placed”" in html and claim_url(claim) in html


def test_a_reversal_by_a_fee_finding_reads_as_the_fee_against_it(staff_client, maker):
    claim = f.OutcomeClaimFactory(metric__kind=MetricKind.ZERO_FEE)
    services.claim_verify(claim=claim, user=maker, verified_on=datetime.date(2026, 2, 10))
    f.FeeReportFactory(worker=claim.worker, category="medical", amount=Decimal("1500.00"), currency="GTQ")
    assert services.fee_findings_apply(worker_ids=[claim.worker_id]) == 1
    response = staff_client.get(reverse("financing:decisions"), {"decision": "reversed"})
    ((row, facts),) = response.context["items"]
    assert row.claim_id == claim.pk and row.rule == MetricKind.ZERO_FEE
    assert facts.facts_against == ["Fee reported after verification: Medical costs, GTQ 1,500.00"]
    assert "Fee finding after verification: Medical costs." in response.content.decode()
