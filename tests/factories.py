"""factory_boy factories for every model. Related objects are built coherently: a worker's recruiter is
assigned to the worker's pilot, a claim's worker belongs to the claim's contract's pilot."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from financing import models as fin
from pilots import models as pil
from pilots.stages import Stage
from recruitment import models as rec
from workers import models as wrk


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pil.Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = pil.OrganisationKind.EMPLOYER
    country = "US"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pil.User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = pil.Role.STAFF
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()


class StaffUserFactory(UserFactory):
    is_staff = True


class SuperUserFactory(StaffUserFactory):
    is_superuser = True


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pil.Sector
        django_get_or_create = ("code",)

    code = "agriculture"
    name = "Agriculture"


class PilotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pil.Pilot

    name = factory.Sequence(lambda n: f"Pilot {n}")
    slug = factory.Sequence(lambda n: f"pilot-{n}")
    sector = factory.SubFactory(SectorFactory)
    origin_countries = factory.LazyFunction(lambda: ["GT", "MX"])
    destination_country = "US"
    pathway = "H-2A seasonal visa"
    status = pil.PilotStatus.ACTIVE
    start_date = datetime.date(2026, 1, 1)
    end_date = datetime.date(2026, 12, 31)
    target_cohort_size = 100


class PilotPartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pil.PilotPartner

    pilot = factory.SubFactory(PilotFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = pil.PartnerRole.EMPLOYER


class JobOpeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pil.JobOpening

    pilot = factory.SubFactory(PilotFactory)
    employer = factory.SubFactory(OrganisationFactory, kind=pil.OrganisationKind.EMPLOYER)
    title = "Farmworker, berries"
    positions = 20
    wage_amount = Decimal("16.55")
    wage_currency = "USD"
    wage_period = pil.WagePeriod.HOUR
    hours_per_week = Decimal("40.0")
    location = "Salinas, CA"
    location_country = "US"
    season_start = datetime.date(2026, 4, 1)
    season_end = datetime.date(2026, 10, 31)


class RecruiterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rec.Recruiter

    organisation = factory.SubFactory(OrganisationFactory, kind=pil.OrganisationKind.RECRUITER, country="GT")
    licence_number = factory.Sequence(lambda n: f"LIC-{n:05d}")
    licence_country = "GT"
    licence_expires_on = datetime.date(2027, 12, 31)
    zero_fee_pledge = True
    zero_fee_pledge_signed_on = datetime.date(2025, 11, 1)


class RecruiterUserFactory(UserFactory):
    """A user acting for a recruiter organisation (one with a ``Recruiter`` profile)."""

    role = pil.Role.RECRUITER
    organisation = factory.LazyFunction(lambda: RecruiterFactory().organisation)


class RecruiterAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rec.RecruiterAssignment

    recruiter = factory.SubFactory(RecruiterFactory)
    pilot = factory.SubFactory(PilotFactory)
    quota = 50
    assigned_on = datetime.date(2026, 1, 15)


class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = wrk.Worker

    given_names = factory.Sequence(lambda n: f"Ana {n}")
    family_names = "López"
    date_of_birth = datetime.date(1995, 6, 1)
    gender = wrk.Gender.FEMALE
    nationality = "GT"
    phone = "+502 5555 0100"
    identity_document_country = "GT"
    identity_document_number = factory.Sequence(lambda n: f"P{n:08d}")
    identity_document_hash = factory.LazyAttribute(
        lambda w: wrk.identity_document_hash(country=w.identity_document_country, number=w.identity_document_number)
    )
    recruiter = factory.SubFactory(RecruiterFactory)
    pilot = factory.SubFactory(PilotFactory)
    current_stage = Stage.REGISTERED
    stage_changed_on = datetime.date(2026, 1, 10)
    consent_given_at = factory.LazyFunction(timezone.now)


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = wrk.Evidence

    worker = factory.SubFactory(WorkerFactory)
    kind = wrk.EvidenceKind.EMPLOYER_ATTESTATION
    reference = factory.Sequence(lambda n: f"HR system record {n}")
    # A document program staff confirmed: a source independent of any payee.
    source = wrk.Source.STAFF


class JourneyEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = wrk.JourneyEvent

    worker = factory.SubFactory(WorkerFactory)
    pilot = factory.SelfAttribute("worker.pilot")
    season = 1
    stage = Stage.REGISTERED
    occurred_on = datetime.date(2026, 1, 10)


class EmploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = wrk.Employment

    worker = factory.SubFactory(WorkerFactory)
    job_opening = factory.SubFactory(JobOpeningFactory, pilot=factory.SelfAttribute("..worker.pilot"))
    start_date = datetime.date(2026, 4, 6)


class TrainingEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = wrk.TrainingEnrollment

    worker = factory.SubFactory(WorkerFactory)
    provider = factory.SubFactory(OrganisationFactory, kind=pil.OrganisationKind.TRAINING_PROVIDER, country="GT")
    course = "English for hospitality, B1"
    enrolled_on = datetime.date(2026, 2, 1)


class FeeReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = wrk.FeeReport

    worker = factory.SubFactory(WorkerFactory)
    recruiter = factory.SelfAttribute("worker.recruiter")
    category = wrk.FeeCategory.RECRUITMENT_FEE
    amount = Decimal("1500.00")
    currency = "GTQ"
    paid_to = "Sub-agent in Huehuetenango"
    source = wrk.FeeSource.WORKER_SURVEY


class FeeDeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = wrk.FeeDeclaration

    worker = factory.SubFactory(WorkerFactory)
    recruiter = factory.SelfAttribute("worker.recruiter")


class RbfContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fin.RbfContract

    reference = factory.Sequence(lambda n: f"RBF-{n:04d}")
    name = "Placement and retention outcomes"
    pilot = factory.SubFactory(PilotFactory)
    payer = factory.SubFactory(OrganisationFactory, kind=pil.OrganisationKind.FUNDER)
    provider = factory.SubFactory(OrganisationFactory, kind=pil.OrganisationKind.RECRUITER, country="GT")
    currency = "USD"
    start_date = datetime.date(2026, 1, 1)
    end_date = datetime.date(2026, 12, 31)
    cap_total = Decimal("100000.00")
    tranche_period = fin.TranchePeriod.QUARTERLY
    status = fin.ContractStatus.ACTIVE


class OutcomeMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fin.OutcomeMetric

    contract = factory.SubFactory(RbfContractFactory)
    code = factory.Sequence(lambda n: f"PLACED_{n}")
    name = "Worker placed in a job"
    kind = fin.MetricKind.PLACED
    price = Decimal("500.00")


class OutcomeClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fin.OutcomeClaim

    metric = factory.SubFactory(OutcomeMetricFactory)
    worker = factory.SubFactory(WorkerFactory, pilot=factory.SelfAttribute("..metric.contract.pilot"))
    achieved_on = datetime.date(2026, 1, 5)


class VerificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fin.Verification

    claim = factory.SubFactory(OutcomeClaimFactory)
    decision = fin.Decision.VERIFIED
    method = fin.VerificationMethod.AUTOMATIC
    rule = "placed"


class TrancheFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fin.Tranche

    contract = factory.SubFactory(RbfContractFactory)
    code = "2026-Q1"
    start_date = datetime.date(2026, 1, 1)
    end_date = datetime.date(2026, 3, 31)
    due_date = datetime.date(2026, 4, 30)


class PaymentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fin.PaymentLine

    tranche = factory.SubFactory(TrancheFactory)
    claim = factory.SubFactory(
        OutcomeClaimFactory,
        metric__contract=factory.SelfAttribute("...tranche.contract"),
        status=fin.ClaimStatus.VERIFIED,
        verified_on=datetime.date(2026, 1, 20),
    )
    verified_on = factory.SelfAttribute("claim.verified_on")
    amount = Decimal("500.00")


class DisbursementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = fin.Disbursement

    tranche = factory.SubFactory(
        TrancheFactory,
        status=fin.TrancheStatus.PAID,
        approved_by=factory.SubFactory(StaffUserFactory),
        approved_at=factory.LazyFunction(timezone.now),
    )
    amount = Decimal("1500.00")
    currency = "USD"
    paid_on = datetime.date(2026, 5, 15)
    reference = factory.Sequence(lambda n: f"WIRE-{n:06d}")
    recorded_by = factory.SubFactory(StaffUserFactory)


class ProviderRefundFactory(factory.django.DjangoModelFactory):
    """What a provider owes back for a tranche approved below zero (not yet repaid)."""

    class Meta:
        model = fin.ProviderRefund

    tranche = factory.SubFactory(
        TrancheFactory,
        status=fin.TrancheStatus.APPROVED,
        approved_by=factory.SubFactory(StaffUserFactory),
        approved_at=factory.LazyFunction(timezone.now),
    )
    amount = Decimal("500.00")
    currency = "USD"
    due = datetime.date(2026, 6, 15)
