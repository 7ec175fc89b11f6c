"""``manage.py seed_demo``: the demo world is complete, follows the journey rules, and comes out the same on
every run with the same seed."""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction

from financing.models import (
    ClaimStatus,
    Decision,
    MetricKind,
    OutcomeClaim,
    OutcomeMetric,
    RbfContract,
    VerificationMethod,
)
from financing.services import schedule_recompute
from pilots.models import Pilot, User
from pilots.stages import EXIT_FROM, Stage
from programme.demo import AS_OF, EXIT_RATES, PILOTS, demo_recruiter_workers
from workers.journey import check_move
from workers.models import (
    Employment,
    Evidence,
    EvidenceKind,
    FeeCategory,
    FeeReport,
    JourneyEvent,
    TrainingEnrollment,
    Worker,
    identity_document_hash,
)

APPS = ("pilots", "recruitment", "workers", "financing")
PASSWORD = "test-demo-password"

pytestmark = pytest.mark.django_db



def seed(**options: Any) -> str:
    options = {"workers": 60, "password": PASSWORD, **options}
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for label in APPS
        for model in apps.get_app_config(label).get_models()
    }


def fingerprint() -> list[tuple]:
    """What a second run must reproduce: the people, their journeys and the claims about them."""
    workers = Worker.objects.select_related("pilot").prefetch_related("journey_events", "claims__metric")
    return sorted(
        (
            w.pilot.slug,
            w.given_names,
            w.family_names,
            w.date_of_birth,
            w.phone,
            w.identity_document_number,
            w.current_stage,
            w.season,
            tuple((e.season, e.stage, e.occurred_on) for e in w.journey_events.all()),
            tuple(sorted((c.metric.code, c.unit, c.status, c.achieved_on, str(c.verified_on)) for c in w.claims.all())),
        )
        for w in workers
    )


def test_creates_the_four_pilots_with_their_partners_workers_and_contracts() -> None:
    # The default size: rarer parts of the story (bribes, early separations) need a few hundred workers.
    seed(workers=400)

    pilots = {pilot.slug: pilot for pilot in Pilot.objects.all()}
    assert set(pilots) == {spec.slug for spec in PILOTS}
    assert Stage.IN_TRAINING not in pilots["h2a-agriculture"].required_stages
    assert Stage.IN_TRAINING in pilots["cruise-hospitality"].required_stages
    for pilot in pilots.values():
        assert pilot.workers.exists(), pilot
        assert pilot.recruiter_assignments.exists(), pilot
        assert pilot.job_openings.exists(), pilot
        assert {p.role for p in pilot.partners.all()} >= {"employer", "recruiter", "implementer"}
        contract = RbfContract.objects.get(pilot=pilot)
        assert contract.status == "active"
        assert contract.provider.recruiter.assignments.filter(pilot=pilot).exists()
        metrics = {m.code: m for m in contract.metrics.all()}
        assert {"PLACED", "RETAINED_180", "ZERO_FEE"} <= set(metrics)
        retained = metrics["RETAINED_180"]
        assert (retained.retention_days, retained.denominator_metric) == (180, metrics["PLACED"])
        has_training = Stage.IN_TRAINING in pilot.required_stages
        assert any(m.kind == MetricKind.TRAINED for m in metrics.values()) == has_training
        assert OutcomeClaim.objects.filter(metric__contract=contract, status=ClaimStatus.VERIFIED).exists()
        assert TrainingEnrollment.objects.filter(worker__pilot=pilot).exists() == has_training
    (tiered,) = OutcomeMetric.objects.filter(tiers__isnull=False)
    assert tiered.price is None and tiered.tiers[-1]["units"] is None
    assert OutcomeClaim.objects.filter(metric=tiered, status=ClaimStatus.VERIFIED).count() > sum(
        tier["units"] for tier in tiered.tiers[:-1]
    ), "the demo reaches the last tier"
    assert Worker.objects.filter(season__gt=1).exists()
    assert Employment.objects.exclude(separation_reason__in=["", "contract_completed"]).exists()
    assert Evidence.objects.filter(kind=EvidenceKind.WORKER_SURVEY, facts__fee_paid=False).exists()
    assert FeeReport.objects.filter(category=FeeCategory.ILLEGITIMATE).exists()
    assert OutcomeClaim.objects.filter(status=ClaimStatus.CLAIMED).exists()
    assert OutcomeClaim.objects.filter(status=ClaimStatus.REJECTED).exists()
    # Each contract's payment schedule is built, and is what the recompute gives for its claims.
    for contract in RbfContract.objects.all():
        assert contract.tranches.exists()
        assert not schedule_recompute(contract_id=contract.pk, force=True).changed
    assert apps.get_model("financing", "PaymentLine").objects.exists()


def test_every_journey_follows_the_rules() -> None:
    seed()
    events = defaultdict(list)
    for event in JourneyEvent.objects.order_by("worker_id", "recorded_at", "id"):
        events[event.worker_id].append(event)
    employments = defaultdict(list)
    for employment in Employment.objects.all():
        employments[employment.worker_id].append(employment)

    for worker in Worker.objects.select_related("pilot"):
        history = events[worker.pk]
        assert (history[0].season, history[0].stage) == (1, Stage.REGISTERED)
        for previous, event in itertools.pairwise(history):
            assert event.occurred_on > previous.occurred_on
            assert event.pilot_id == worker.pilot_id
            if event.season != previous.season:
                assert (previous.stage, event.stage, event.season) == (
                    Stage.RETURNED,
                    Stage.REGISTERED,
                    previous.season + 1,
                )
            else:
                check_move(current=previous.stage, requested=event.stage, required=worker.pilot.required_stages)
        last = history[-1]
        assert (worker.current_stage, worker.stage_changed_on, worker.season) == (
            last.stage,
            last.occurred_on,
            last.season,
        )
        assert last.occurred_on <= AS_OF
        stages = {event.stage for event in history}
        assert stages <= set(worker.pilot.required_stages) | set(EXIT_FROM)
        deployed_on = sorted(event.occurred_on for event in history if event.stage == Stage.DEPLOYED)
        starts = sorted(employment.start_date for employment in employments[worker.pk])
        for start, deployed in zip(starts, deployed_on, strict=True):
            assert start >= deployed


def test_exits_are_only_drawn_where_the_journey_allows_them() -> None:
    for stage, exits in EXIT_RATES.items():
        for exit_stage, _rate in exits:
            assert stage in EXIT_FROM[exit_stage], (stage, exit_stage)


def test_claims_belong_to_the_provider_and_are_decided_within_the_contract() -> None:
    seed()
    claims = OutcomeClaim.objects.select_related("metric__contract", "worker__recruiter").prefetch_related(
        "verifications"
    )
    assert claims
    for claim in claims:
        contract = claim.metric.contract
        assert claim.worker.pilot_id == contract.pilot_id
        assert claim.worker.recruiter.organisation_id == contract.provider_id
        decisions = [v.decision for v in claim.verifications.all()]
        if claim.status == ClaimStatus.VERIFIED:
            assert claim.achieved_on <= claim.verified_on <= min(contract.end_date, AS_OF)
            assert claim.verified_on >= contract.start_date
            assert decisions == [Decision.VERIFIED]
        elif claim.status == ClaimStatus.REJECTED:
            assert claim.rejection_reason
            assert decisions == [Decision.REJECTED]
        else:
            assert decisions in ([], [Decision.NEEDS_REVIEW])
        for verification in claim.verifications.all():
            if verification.method == VerificationMethod.STAFF:
                assert verification.decided_by.username == "staff"
            else:
                assert verification.rule and verification.decided_by is None


def test_identity_hashes_match_the_decrypted_document_numbers() -> None:
    seed()
    workers = list(Worker.objects.all())
    assert workers
    for worker in workers:
        assert worker.identity_document_hash == identity_document_hash(
            country=worker.identity_document_country.code, number=worker.identity_document_number
        )
    assert len({w.identity_document_hash for w in workers}) == len(workers)


def test_a_second_run_creates_nothing() -> None:
    seed()
    before = row_counts()

    output = seed(workers=90)

    assert row_counts() == before
    assert "already exist" in output


def test_the_same_seed_gives_the_same_world() -> None:
    savepoint = transaction.savepoint()
    seed(seed=7)
    first = fingerprint()
    transaction.savepoint_rollback(savepoint)
    assert not Worker.objects.exists()

    seed(seed=7)

    assert fingerprint() == first


def test_another_seed_gives_another_world() -> None:
    savepoint = transaction.savepoint()
    seed(seed=7)
    first = fingerprint()
    transaction.savepoint_rollback(savepoint)

    seed(seed=8)

    assert fingerprint() != first


def test_the_logins_work_and_are_printed(client: Any) -> None:
    output = seed()

    assert PASSWORD in output
    for username in ("staff", "recruiter", "funder"):
        assert username in output
        assert client.login(username=username, password=PASSWORD), username
    staff, recruiter, funder = (User.objects.get(username=name) for name in ("staff", "recruiter", "funder"))
    assert staff.is_staff and staff.is_superuser and staff.role == "staff"
    assert recruiter.role == "recruiter" and hasattr(recruiter.organisation, "recruiter")
    assert funder.role == "funder" and funder.organisation.kind == "funder"


def test_a_rerun_sets_the_password_it_prints(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-environment")

    output = seed(password="")

    assert "from-the-environment" in output
    assert client.login(username="staff", password="from-the-environment")
    assert not client.login(username="staff", password=PASSWORD)


def test_scales_up_in_bulk() -> None:
    seed(workers=2000)

    assert demo_recruiter_workers().count() == Worker.objects.count() == 2000
    assert JourneyEvent.objects.count() > 2000 * 3


def test_refuses_a_negative_number_of_workers() -> None:
    with pytest.raises(CommandError, match="workers"):
        seed(workers=-1)
