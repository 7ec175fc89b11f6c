"""The dashboard says who supplied each fact, and which sources each metric counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from financing.models import MetricKind
from tests import factories as f
from workers.models import EvidenceKind, Source

pytestmark = pytest.mark.django_db


def test_the_worker_page_says_who_supplied_each_document_and_recorded_each_job(client, staff_user):
    client.force_login(staff_user)
    worker = f.WorkerFactory()
    grower = f.OrganisationFactory(kind="employer", name="Pacific Crest Berry Farms", country="US")
    f.EvidenceFactory(
        worker=worker, kind=EvidenceKind.PAYROLL_RECORD, source=Source.EMPLOYER, source_organisation=grower
    )
    job = f.EmploymentFactory(worker=worker)
    job.source = Source.RECRUITER
    job.save()

    html = client.get(reverse("programme:worker", args=[worker.pk])).content.decode()

    assert "Supplied by" in html and "Pacific Crest Berry Farms" in html
    assert "Recorded by" in html and "Recruiter" in html


def test_the_contract_page_names_the_sources_of_each_metric(client, staff_user):
    client.force_login(staff_user)
    contract = f.RbfContractFactory()
    f.OutcomeMetricFactory(contract=contract, code="PLACED", kind=MetricKind.PLACED)
    f.OutcomeMetricFactory(contract=contract, code="ZERO_FEE", kind=MetricKind.ZERO_FEE)

    html = client.get(reverse("financing:contract", args=[contract.pk])).content.decode()

    placed = "Confirmed by employer, the worker (own link), program staff or independent verifier; never by the payee."
    assert placed in html
    assert "Every one of: recruiter, the worker (own link) and employer, agreeing. Never the payee alone." in html


def test_the_pilot_page_counts_the_check_ins_answered_by_recruiter_never_who(client, staff_user):
    from workers.services import check_in_create

    client.force_login(staff_user)
    pilot = f.PilotFactory()
    recruiter = f.RecruiterFactory()
    f.RecruiterAssignmentFactory(recruiter=recruiter, pilot=pilot)
    workers = [f.WorkerFactory(pilot=pilot, recruiter=recruiter) for _ in range(3)]
    made = [check_in_create(worker=w, moment="day_30", created_by=None)[0] for w in workers]
    made[0].answered_at = made[0].created_at
    made[0].save()

    response = client.get(reverse("programme:pilot", args=[pilot.pk]))

    (row,) = response.context["page"].recruiters
    assert (row.check_ins.sent, row.check_ins.answered) == (3, 1)
    assert "33.3 %" in response.content.decode()


def test_a_recruiters_own_scorecard_withholds_fees_reported_by_fewer_than_five_workers(client, staff_user):
    recruiter = f.RecruiterFactory()
    for _ in range(2):
        f.FeeReportFactory(worker=f.WorkerFactory(recruiter=recruiter), category="medical")
    url = reverse("programme:scorecard", args=[recruiter.pk])

    client.force_login(f.RecruiterUserFactory(organisation=recruiter.organisation))
    own = client.get(url)
    assert own.context["fees_withheld"] and own.context["fees"] == []
    assert "Fewer than five of your workers reported paying a fee." in own.content.decode()
    assert "Medical costs" not in own.content.decode()

    client.force_login(staff_user)
    assert "Medical costs" in client.get(url).content.decode()


def test_the_try_terms_page_shows_who_confirms_each_metric_beside_its_prices(client, staff_user):
    client.force_login(staff_user)
    contract = f.RbfContractFactory()
    f.OutcomeMetricFactory(contract=contract, code="ZERO_FEE", kind=MetricKind.ZERO_FEE)

    html = client.get(reverse("financing:contract-try", args=[contract.pk])).content.decode()

    assert "Every one of: recruiter, the worker (own link) and employer, agreeing. Never the payee alone." in html
