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
