"""History in words: each kind of event, done through the services, read back as a person would say it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pghistory.models import Context

from financing import services
from financing.models import OutcomeClaim, RbfContract, Tranche
from financing.timeline import claim_timeline, contract_timeline, tranche_timeline, worker_timeline
from lamp.history import MAX_PAGE, Trail, acting_as, day_words, page_number, read_changes
from tests import factories as f
from workers import services as worker_services
from workers.models import Employment, EvidenceKind, FeeCategory, FeeSource, Source

pytestmark = pytest.mark.django_db

Q1_END = datetime.date(2026, 2, 20)


def texts(line) -> list[str]:  # noqa: ANN001
    return [entry.text for entry in line.entries]


@pytest.fixture
def approver():  # noqa: ANN201
    return f.StaffUserFactory(first_name="Daniel", last_name="Mensah")


@pytest.fixture
def verifier():  # noqa: ANN201
    return f.StaffUserFactory(first_name="Ana", last_name="López")


@pytest.fixture
def metric():  # noqa: ANN201
    contract = f.RbfContractFactory(cap_total=None)
    return f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))


def placed_worker(metric):  # noqa: ANN001, ANN201
    """A worker whose employment started on 3 Feb 2026, attested by the employer on 10 Feb."""
    worker = f.WorkerFactory(pilot=metric.contract.pilot)
    job = f.JobOpeningFactory(pilot=worker.pilot)
    f.EmploymentFactory(worker=worker, job_opening=job, start_date=datetime.date(2026, 2, 3), source=Source.EMPLOYER)
    f.EvidenceFactory(
        worker=worker,
        kind=EvidenceKind.EMPLOYER_ATTESTATION,
        source=Source.EMPLOYER,
        source_organisation=job.employer,
        facts={"employment_started_on": "2026-02-03"},
        uploaded_at=datetime.datetime(2026, 2, 10, 9, tzinfo=datetime.UTC),
    )
    return worker


def claim_for(metric, worker=None, achieved_on=datetime.date(2026, 2, 3)):  # noqa: ANN001, ANN201
    worker = worker or f.WorkerFactory(pilot=metric.contract.pilot)
    return services.claim_create(metric=metric, worker=worker, achieved_on=achieved_on, claimed_by=None)


def test_the_rules_verify_a_claim_on_the_facts_they_weighed(metric, verifier):
    worker = placed_worker(metric)
    claim = claim_for(metric, worker)
    assert services.verify_pending_claims(contract_id=metric.contract_id, today=Q1_END).verified == 1

    line = claim_timeline(claim=claim, viewer=verifier)
    rules = line.entries[0]
    assert rules.actor == "rules"
    assert rules.text.startswith(f"the rules verified claim {claim.pk}: Employment started on 03 Feb 2026; ")
    assert "Employer attestation from employer, 10 Feb 2026" in rules.text
    assert rules.detail == "Employment started on 03 Feb 2026, confirmed independently."
    assert texts(line)[-1] == f"the system claimed PLACED (claim {claim.pk}), achieved on 3 Feb 2026"
    assert line.entries[-1].actor == "system"


def test_staff_verify_then_another_approves_and_records_the_payment(metric, verifier, approver):
    claim = claim_for(metric)
    services.claim_verify(claim=claim, user=verifier, verified_on=Q1_END, reason="Called the employer")
    services.schedule_recompute(contract_id=metric.contract_id)
    q1 = Tranche.objects.get(contract=metric.contract, code="2026-Q1")
    services.tranche_approve(tranche=q1, user=approver)
    services.disbursement_record(
        tranche=q1, user=approver, amount=Decimal("500.00"), paid_on=datetime.date(2026, 5, 2), reference="WIRE-7"
    )

    claim_words = texts(claim_timeline(claim=claim, viewer=approver))
    assert f"Ana López verified claim {claim.pk}: Called the employer" in claim_words
    assert f"the schedule put claim {claim.pk} in tranche 2026-Q1: USD 500.00" in claim_words

    tranche_words = texts(tranche_timeline(tranche=q1, viewer=approver))
    assert tranche_words[:2] == [
        "Daniel Mensah recorded a payment of USD 500.00 for tranche 2026-Q1 (ref WIRE-7), paid on 2 May 2026",
        "Daniel Mensah approved tranche 2026-Q1, USD 500.00",
    ]
    assert tranche_words[-1] == "the system opened tranche 2026-Q1: 1 Jan 2026 to 31 Mar 2026, due 30 Apr 2026"
    # The contract's history has the same, and every tranche the schedule opened, but no claim.
    contract_words = texts(contract_timeline(contract=metric.contract, viewer=approver))
    assert tranche_words[0] in contract_words and tranche_words[1] in contract_words
    assert not any("claim" in words for words in contract_words)


def test_reject_and_reverse_read_with_their_reasons(metric, verifier):
    rejected, reversed_ = claim_for(metric), claim_for(metric)
    services.claim_reject(claim=rejected, user=verifier, reason="No employer attestation")
    services.claim_verify(claim=reversed_, user=verifier, verified_on=Q1_END)
    services.schedule_recompute(contract_id=metric.contract_id)
    services.claim_reverse(claim=reversed_, user=verifier, reason="The employer withdrew the attestation")
    services.schedule_recompute(contract_id=metric.contract_id)

    assert texts(claim_timeline(claim=rejected, viewer=verifier))[0] == (
        f"Ana López rejected claim {rejected.pk}: No employer attestation"
    )
    words = texts(claim_timeline(claim=reversed_, viewer=verifier))
    assert f"Ana López reversed claim {reversed_.pk}: The employer withdrew the attestation" in words
    assert f"the schedule took claim {reversed_.pk} out of tranche 2026-Q1 (USD 500.00)" in words


def test_a_reversal_after_approval_reads_as_an_adjustment(metric, verifier, approver):
    claim = claim_for(metric)
    services.claim_verify(claim=claim, user=verifier, verified_on=Q1_END)
    services.schedule_recompute(contract_id=metric.contract_id)
    services.tranche_approve(tranche=Tranche.objects.get(contract=metric.contract, code="2026-Q1"), user=approver)
    services.claim_reverse(claim=claim, user=verifier, reason="Found false")
    services.schedule_recompute(contract_id=metric.contract_id)

    words = texts(claim_timeline(claim=claim, viewer=verifier))
    assert words[0] == f"the schedule adjusted claim {claim.pk} in tranche 2026-Q2 by -USD 500.00"


def test_an_edit_with_a_reason_reads_as_what_changed_and_why(metric, verifier):
    claim = claim_for(metric, achieved_on=datetime.date(2026, 2, 3))
    services.claim_verify(claim=claim, user=verifier, verified_on=Q1_END)
    claim.achieved_on = datetime.date(2026, 2, 5)
    services.claim_edit(claim=claim, user=verifier, reason="Start date misread from the letter")

    edit = claim_timeline(claim=claim, viewer=verifier).entries[0]
    assert edit.text == f"Ana López changed claim {claim.pk}: achieved on from 3 Feb 2026 to 5 Feb 2026"
    assert edit.detail == "Reason: Start date misread from the letter"


def test_a_reopened_decision_says_what_was_undone(metric, verifier):
    claim = claim_for(metric)
    services.claim_reject(claim=claim, user=verifier, reason="No attestation")
    services.claim_reopen(claim=claim, user=verifier, reason="Wrong claim")

    reopened = claim_timeline(claim=claim, viewer=verifier).entries[0]
    assert reopened.text == f"Ana López reopened claim {claim.pk}, undoing its decision (rejected)"
    assert reopened.detail == "Reason: Wrong claim"


def test_a_partner_reads_decisions_and_reasons_but_not_the_facts_or_the_review(metric, verifier):
    worker = placed_worker(metric)
    claim = claim_for(metric, worker)
    services.verify_pending_claims(contract_id=metric.contract_id, today=Q1_END)
    waiting = claim_for(metric)
    services.claim_send_to_review(
        claim=waiting, rule="placed", reason="The worker says on 3 Mar they left", facts={"against": ["left"]}
    )
    recruiter = f.RecruiterUserFactory(organisation=metric.contract.provider)

    assert texts(claim_timeline(claim=claim, viewer=recruiter))[0] == (
        f"the rules verified claim {claim.pk}: Employment started on 03 Feb 2026, confirmed independently."
    )
    assert texts(claim_timeline(claim=waiting, viewer=recruiter))[0] == (
        f"the rules sent claim {waiting.pk} to staff review"
    )
    staff_words = claim_timeline(claim=waiting, viewer=verifier).entries[0]
    assert staff_words.text.endswith(": The worker says on 3 Mar they left")
    assert staff_words.detail == "Against: left"


def test_a_workers_history_has_their_facts_and_their_claims(metric, verifier):
    worker = f.WorkerFactory(pilot=metric.contract.pilot)
    job = f.JobOpeningFactory(pilot=worker.pilot, title="Picker")
    employment = worker_services.employment_save(
        employment=Employment(worker=worker, job_opening=job, start_date=datetime.date(2026, 2, 3)),
        recorded_by=verifier,
    )
    employment.end_date = datetime.date(2026, 3, 1)
    employment.separation_reason = "resigned"
    worker_services.employment_save(employment=employment, recorded_by=verifier)
    with acting_as(None):  # as the worker's own link reports it: no user
        f.FeeReportFactory(
            worker=worker,
            category=FeeCategory.MEDICAL,
            amount=Decimal("120.00"),
            currency="USD",
            paid_to="Clinic",
            source=FeeSource.WORKER,
        )
    claim = claim_for(metric, worker)

    words = texts(worker_timeline(worker_id=worker.pk, viewer=verifier))
    employer = job.employer.name
    assert words == [
        f"the system claimed PLACED (claim {claim.pk}), achieved on 3 Feb 2026",
        "the system recorded a fee of USD 120.00 (Medical costs), paid to Clinic",
        f"Ana López recorded the end of the employment at {employer} on 1 Mar 2026 (Resigned)",
        f"Ana López recorded an employment at {employer} (Picker) from 3 Feb 2026",
    ]
    # What the worker said in their own voice is program staff's only.
    recruiter = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    assert not any("fee" in words for words in texts(worker_timeline(worker_id=worker.pk, viewer=recruiter)))


def test_a_history_is_read_in_pages(metric, verifier):
    claim = claim_for(metric)
    for day in (4, 5, 6):
        claim.achieved_on = datetime.date(2026, 2, day)
        services.claim_edit(claim=claim, user=verifier)

    first = claim_timeline(claim=claim, viewer=verifier, per_page=2)
    assert first.has_more and first.next_page == 2 and first.previous_page is None
    assert [e.text.rsplit(" ", 3)[-3] for e in first.entries] == ["6", "5"]
    second = claim_timeline(claim=claim, viewer=verifier, page=2, per_page=2)
    assert not second.has_more and second.previous_page == 1
    assert texts(second)[-1].startswith("the system claimed PLACED")


@pytest.mark.parametrize(("raw", "page"), [("2", 2), (None, 1), ("", 1), ("-3", 1), ("x", 1), ("9" * 40, MAX_PAGE)])
def test_a_page_asked_for_is_a_page_that_exists(raw, page):
    assert page_number(raw) == page


def test_reading_a_history_is_one_query_whatever_its_length(metric, verifier, approver):
    claims = [claim_for(metric) for _ in range(3)]
    for claim in claims:
        services.claim_verify(claim=claim, user=verifier, verified_on=Q1_END)
    services.schedule_recompute(contract_id=metric.contract_id)

    def count(contract: RbfContract) -> int:
        with CaptureQueriesContext(connection) as ctx:
            contract_timeline(contract=contract, viewer=approver)
            claim_timeline(claim=claims[0], viewer=approver)
            worker_timeline(worker_id=claims[0].worker_id, viewer=approver)
        return len(ctx.captured_queries)

    small = count(metric.contract)
    for code, start in (("2027-Q1", 1), ("2027-Q2", 4), ("2027-Q3", 7)):
        f.TrancheFactory(
            contract=metric.contract,
            code=code,
            start_date=datetime.date(2027, start, 1),
            end_date=datetime.date(2027, start + 2, 28),
            due_date=datetime.date(2027, start + 3, 28),
        )
    for claim in claims:
        services.claim_reverse(claim=claim, user=verifier, reason="Found false")
    services.schedule_recompute(contract_id=metric.contract_id)
    assert count(metric.contract) == small == 3


def test_nested_acting_as_keeps_each_blocks_own_user_and_action(metric, verifier):
    claim = claim_for(metric)
    with acting_as(verifier, action="outer"):
        OutcomeClaim.objects.filter(pk=claim.pk).update(pending_reason="first")
        with acting_as(None, action="inner", reason="nightly"):
            OutcomeClaim.objects.filter(pk=claim.pk).update(pending_reason="second")
        OutcomeClaim.objects.filter(pk=claim.pk).update(pending_reason="third")

    events = OutcomeClaim.pgh_event_model.objects.filter(pgh_obj_id=claim.pk, pgh_label="update").order_by("pgh_id")
    kept = [(e.pending_reason, {k: v for k, v in e.pgh_context.metadata.items() if k != "at"}) for e in events]
    assert kept[0] == ("first", {"user": verifier.pk, "action": "outer"})
    assert kept[1] == ("second", {"user": None, "action": "inner", "reason": "nightly"})
    assert kept[2] == ("third", {"user": verifier.pk, "action": "outer"})
    # Each block is dated by the clock: the inner one began after the outer one.
    assert events[1].pgh_context.metadata["at"] > events[0].pgh_context.metadata["at"]
    assert Context.objects.filter(metadata__action="outer").count() == 1


def test_changes_come_with_the_row_before_them(metric, verifier):
    claim = claim_for(metric)
    claim.achieved_on = datetime.date(2026, 2, 5)
    services.claim_edit(claim=claim, user=verifier)

    edit, insert = read_changes([Trail(OutcomeClaim, Q(pgh_obj_id=claim.pk))], limit=10)
    assert insert.is_insert and insert.before is None
    assert [(field.name, old, new) for field, old, new in edit.changed()] == [
        ("achieved_on", datetime.date(2026, 2, 3), datetime.date(2026, 2, 5))
    ]
    assert edit.actor_id == verifier.pk and edit.actor_name == "Ana López"


def test_a_negative_balance_carried_forward_reads_on_both_tranches(metric, verifier, approver):
    claim = claim_for(metric)
    services.claim_verify(claim=claim, user=verifier, verified_on=Q1_END)
    services.schedule_recompute(contract_id=metric.contract_id)
    services.tranche_approve(tranche=Tranche.objects.get(contract=metric.contract, code="2026-Q1"), user=approver)
    services.claim_reverse(claim=claim, user=verifier, reason="Found false")
    services.schedule_recompute(contract_id=metric.contract_id)
    q2, q3 = (Tranche.objects.get(contract=metric.contract, code=code) for code in ("2026-Q2", "2026-Q3"))
    services.tranche_approve(tranche=q2, user=approver)

    q2_words = texts(tranche_timeline(tranche=q2, viewer=approver))
    assert "Daniel Mensah approved tranche 2026-Q2, -USD 500.00" in q2_words
    assert "Daniel Mensah carried the negative balance of tranche 2026-Q2, -USD 500.00, into tranche 2026-Q3" in (
        q2_words
    )
    assert "tranche 2026-Q3 took -USD 500.00 carried forward from tranche 2026-Q2" in texts(
        tranche_timeline(tranche=q3, viewer=approver)
    )
    contract_words = texts(contract_timeline(contract=metric.contract, viewer=approver))
    assert sum("carried" in words for words in contract_words) == 1  # once, not once per tranche


def test_what_the_provider_owes_back_and_its_repayment_read_on_the_tranche(verifier, approver):
    contract = f.RbfContractFactory(cap_total=None, end_date=datetime.date(2026, 6, 30))
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))
    claim = claim_for(metric)
    services.claim_verify(claim=claim, user=verifier, verified_on=Q1_END)
    services.schedule_recompute(contract_id=contract.pk)
    services.tranche_approve(tranche=Tranche.objects.get(contract=contract, code="2026-Q1"), user=approver)
    services.claim_reverse(claim=claim, user=verifier, reason="Found false")
    services.schedule_recompute(contract_id=contract.pk)
    q2 = Tranche.objects.get(contract=contract, code="2026-Q2")
    services.tranche_approve(tranche=q2, user=approver)
    services.refund_settle(
        refund=q2.refund, user=approver, amount=Decimal("500.00"), settled_on=timezone.localdate(), reference="R-1"
    )

    words = texts(tranche_timeline(tranche=q2, viewer=approver))
    assert words[0] == (
        "Daniel Mensah recorded the provider's repayment of USD 500.00 for tranche 2026-Q2 (ref R-1), "
        f"on {day_words(timezone.localdate())}"
    )
    assert words[1].startswith(
        "Daniel Mensah recorded that the provider owes back USD 500.00 for tranche 2026-Q2, due "
    )
