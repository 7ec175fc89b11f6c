"""A worker's facts are announced after commit (``workers.signals``), and ``financing`` acts on the announcement.

``workers`` imports nothing above it: what follows from a new fact (verification, a fee finding) is the
subscriber's. These tests listen to the signal as any subscriber would, and follow it through to the claims.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from financing.models import ClaimStatus, MetricKind
from tests import factories as f
from workers.models import Evidence, EvidenceKind, FeeReport, JourneyEvent
from workers.services import evidence_add, fee_report_record, journey_move
from workers.signals import worker_facts_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():  # noqa: ANN201
    """Every announcement made during the test, as ``(sender, worker_ids)``."""
    received: list[tuple[type, frozenset[int]]] = []

    def listen(sender, *, worker_ids, **kwargs):  # noqa: ANN001, ANN202
        received.append((sender, worker_ids))

    worker_facts_changed.connect(listen, dispatch_uid="tests.heard")
    yield received
    worker_facts_changed.disconnect(dispatch_uid="tests.heard")


def test_evidence_is_announced_only_once_its_transaction_commits(heard, django_capture_on_commit_callbacks):
    worker = f.WorkerFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        evidence_add(worker=worker, kind=EvidenceKind.EMPLOYER_ATTESTATION, reference="HR letter", uploaded_by=None)
    assert heard == []  # not before the commit: a rolled-back upload announces nothing
    for callback in callbacks:
        callback()
    assert heard == [(Evidence, frozenset({worker.pk}))]


def test_a_journey_move_is_announced(heard, django_capture_on_commit_callbacks):
    worker = f.WorkerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        journey_move(worker=worker, stage="screened", occurred_on=worker.stage_changed_on, recorded_by=None)
    assert heard == [(JourneyEvent, frozenset({worker.pk}))]


def test_a_fee_is_announced_and_a_zero_fee_report_is_not(heard, django_capture_on_commit_callbacks):
    worker = f.WorkerFactory()
    report = {"category": "medical", "currency": "GTQ", "source": "staff", "reported_by": None}
    with django_capture_on_commit_callbacks(execute=True):
        fee_report_record(worker=worker, amount=Decimal("0"), **report)
    assert heard == []  # nothing paid: no finding, nothing the rules read has changed for a claim
    with django_capture_on_commit_callbacks(execute=True):
        fee_report_record(worker=worker, amount=Decimal("80.00"), **report)
    assert heard == [(FeeReport, frozenset({worker.pk}))]


def test_a_refused_write_announces_nothing(heard, django_capture_on_commit_callbacks):
    worker = f.WorkerFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        fee_report_record(
            worker=worker, amount=Decimal("-5"), category="medical", currency="GTQ", source="staff", reported_by=None
        )
    assert heard == []


def test_financing_verifies_a_waiting_claim_when_the_evidence_is_announced(
    django_capture_on_commit_callbacks, eager_tasks
):
    metric = f.OutcomeMetricFactory(kind=MetricKind.PLACED)
    claim = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 4, 6))
    f.EmploymentFactory(worker=claim.worker, start_date=datetime.date(2026, 4, 6))

    with django_capture_on_commit_callbacks(execute=True):
        evidence_add(
            worker=claim.worker,
            kind=EvidenceKind.EMPLOYER_ATTESTATION,
            reference="HR letter",
            uploaded_by=f.StaffUserFactory(),
        )

    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED


def test_financing_leaves_claims_of_other_workers_alone(django_capture_on_commit_callbacks, eager_tasks):
    metric = f.OutcomeMetricFactory(kind=MetricKind.ZERO_FEE)
    mine = f.OutcomeClaimFactory(metric=metric, status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 5, 1))
    other = f.OutcomeClaimFactory(metric=metric, status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 5, 1))

    with django_capture_on_commit_callbacks(execute=True):
        fee_report_record(
            worker=mine.worker,
            amount=Decimal("300.00"),
            category="recruitment_fee",
            currency="USD",
            source="worker_survey",
            reported_by=None,
        )

    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.status == ClaimStatus.REVERSED
    assert mine.reversal_reason == "Fee finding after verification: Recruitment fee."  # no source, no amount
    assert other.status == ClaimStatus.VERIFIED
