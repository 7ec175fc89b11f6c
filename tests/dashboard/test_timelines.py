"""The history in words on the contract, claim and worker pages, and behind the admin's History button."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from financing import services
from financing.models import OutcomeClaim, RbfContract, Tranche
from tests import factories as f
from tests.dashboard.conftest import page_queries

pytestmark = pytest.mark.django_db

VERIFIED_ON = datetime.date(2026, 2, 20)


@pytest.fixture
def verifier():  # noqa: ANN201
    return f.StaffUserFactory(first_name="Ana", last_name="López")


@pytest.fixture
def approver():  # noqa: ANN201
    return f.StaffUserFactory(first_name="Daniel", last_name="Mensah")


@pytest.fixture
def contract(funder_org, recruiter) -> RbfContract:  # noqa: ANN001
    return f.RbfContractFactory(cap_total=None, payer=funder_org, provider=recruiter.organisation)


@pytest.fixture
def metric(contract):  # noqa: ANN001, ANN201
    return f.OutcomeMetricFactory(contract=contract, code="PLACED", price=Decimal("500.00"))


def verified_claims(metric, verifier, n: int = 1) -> list[OutcomeClaim]:  # noqa: ANN001
    claims = []
    for _ in range(n):
        worker = f.WorkerFactory(pilot=metric.contract.pilot)
        claim = services.claim_create(
            metric=metric, worker=worker, achieved_on=datetime.date(2026, 2, 3), claimed_by=None
        )
        claims.append(services.claim_verify(claim=claim, user=verifier, verified_on=VERIFIED_ON))
    services.schedule_recompute(contract_id=metric.contract_id)
    return claims


def approved_and_paid(metric, approver) -> Tranche:  # noqa: ANN001
    q1 = Tranche.objects.get(contract=metric.contract, code="2026-Q1")
    total = services.tranche_total(tranche=q1)
    services.tranche_approve(tranche=q1, user=approver)
    services.disbursement_record(
        tranche=q1, user=approver, amount=total, paid_on=datetime.date(2026, 5, 2), reference="WIRE-7"
    )
    return q1


def history(html: str) -> list[str]:
    """The history section's entries as text, in order."""
    section = html[html.index('<section class="card timeline"') :]
    section = section[: section.index("</section>")]
    items = re.findall(r'<li class="timeline-entry[^"]*">(.*?)</li>', section, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def contract_url(contract: RbfContract, query: str = "") -> str:
    """The contract's history, as the contract page loads it (htmx) into its history section."""
    return reverse("financing:contract-history", args=[contract.pk]) + query


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_contract_page_loads_its_history_once_shown(client, metric, verifier):
    client.force_login(verifier)
    page = client.get(reverse("financing:contract", args=[metric.contract.pk]) + "?history_tranche=3").content.decode()
    assert f'hx-get="{contract_url(metric.contract)}?history_tranche=3" hx-trigger="load"' in page
    # The section alone for htmx; a page of its own without JavaScript.
    fragment = client.get(contract_url(metric.contract), **HTMX)
    assert fragment.content.decode().lstrip().startswith('<section class="card timeline"')
    full = client.get(contract_url(metric.contract)).content.decode()
    assert f"History of contract {metric.contract.reference}" in full and "<!doctype html>" in full


def test_the_contract_page_tells_its_history(client, metric, verifier, approver):
    verified_claims(metric, verifier)
    approved_and_paid(metric, approver)
    client.force_login(verifier)

    entries = history(client.get(contract_url(metric.contract)).content.decode())
    assert entries[0].endswith(
        "— Daniel Mensah recorded a payment of USD 500.00 for tranche 2026-Q1 (ref WIRE-7), paid on 2 May 2026"
    )
    assert "— Daniel Mensah approved tranche 2026-Q1, USD 500.00" in entries[1]
    assert entries[-1].endswith(f"— the system created contract {metric.contract.reference}")


def test_the_contract_page_shows_one_tranches_history_on_asking(client, metric, verifier, approver):
    verified_claims(metric, verifier)
    q1 = approved_and_paid(metric, approver)
    client.force_login(verifier)

    entries = history(client.get(contract_url(metric.contract, f"?history_tranche={q1.pk}")).content.decode())
    assert len(entries) == 3  # opened, approved, paid
    assert all("2026-Q1" in entry for entry in entries)


@pytest.mark.parametrize(
    "query",
    ["?history_tranche=abc", "?history_tranche=%00", "?history_tranche=" + "9" * 60, "?history=-1", "?history=%00x"],
)
def test_bad_history_parameters_show_the_whole_history(client, metric, verifier, query):
    client.force_login(verifier)
    response = client.get(contract_url(metric.contract, query))
    assert response.status_code == 200
    assert any("created contract" in entry for entry in history(response.content.decode()))


def test_another_contracts_tranche_is_not_shown(client, metric, verifier):
    other = f.TrancheFactory()
    client.force_login(verifier)
    entries = history(client.get(contract_url(metric.contract, f"?history_tranche={other.pk}")).content.decode())
    assert not any(other.contract.reference in entry for entry in entries)
    assert any("created contract" in entry for entry in entries)


def test_a_long_history_is_shown_in_pages(client, metric, verifier):
    verified_claims(metric, verifier)
    for day in range(1, 60):
        RbfContract.objects.filter(pk=metric.contract_id).update(notes=f"note {day}")
    client.force_login(verifier)

    first = client.get(contract_url(metric.contract)).content.decode()
    assert len(history(first)) == 50 and "?history=2#timeline-h" in first
    second = client.get(contract_url(metric.contract, "?history=2")).content.decode()
    assert "?history=1#timeline-h" in second
    assert history(second)[-1].endswith(f"— the system created contract {metric.contract.reference}")


def test_the_contract_history_runs_the_same_queries_whatever_its_length(client, metric, verifier, approver):
    client.force_login(approver)
    verified_claims(metric, verifier)
    with page_queries() as small:
        assert client.get(contract_url(metric.contract), **HTMX).status_code == 200
    verified_claims(metric, verifier, n=5)
    approved_and_paid(metric, approver)
    for day in range(1, 30):
        RbfContract.objects.filter(pk=metric.contract_id).update(notes=f"note {day}")
    q1 = Tranche.objects.get(contract=metric.contract, code="2026-Q1")
    with page_queries() as large:
        assert client.get(contract_url(metric.contract, f"?history=1&history_tranche={q1.pk}")).status_code == 200
    # session, user, contract, its tranches, a page of its history
    assert len(large.captured_queries) == len(small.captured_queries) == 5


def test_the_funder_and_the_recruiter_read_the_contracts_history(client, metric, verifier, approver, funder_user):
    verified_claims(metric, verifier)
    approved_and_paid(metric, approver)
    recruiter_user = f.RecruiterUserFactory(organisation=metric.contract.provider)
    for user in (funder_user, recruiter_user):
        client.force_login(user)
        entries = history(client.get(contract_url(metric.contract)).content.decode())
        assert any("Daniel Mensah approved tranche 2026-Q1, USD 500.00" in entry for entry in entries)


def test_the_claim_page_tells_the_claims_history(client, metric, verifier):
    (claim,) = verified_claims(metric, verifier)
    services.claim_reverse(claim=claim, user=verifier, reason="The employer withdrew the attestation")
    client.force_login(verifier)

    with page_queries() as small:
        response = client.get(reverse("financing:claim", args=[claim.pk]))
    entries = history(response.content.decode())
    assert entries[0].endswith(f"— Ana López reversed claim {claim.pk}: The employer withdrew the attestation")
    assert any(f"Ana López verified claim {claim.pk}" in entry for entry in entries)
    for n in range(20):  # more history: the page reads the same
        OutcomeClaim.objects.filter(pk=claim.pk).update(pending_reason=f"waiting {n}")
    with page_queries() as large:
        assert client.get(reverse("financing:claim", args=[claim.pk])).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_worker_page_tells_the_workers_history_in_constant_queries(client, metric, verifier):
    (claim,) = verified_claims(metric, verifier)
    client.force_login(verifier)
    url = reverse("programme:worker", args=[claim.worker_id])
    with page_queries() as small:
        entries = history(client.get(url).content.decode())
    assert entries[0].endswith(f"— Ana López verified claim {claim.pk}")

    worker = claim.worker
    for start in (datetime.date(2025, 3, 1), datetime.date(2025, 6, 1), datetime.date(2025, 9, 1)):
        f.EmploymentFactory(worker=worker, start_date=start, end_date=start + datetime.timedelta(days=40))
    f.FeeReportFactory.create_batch(3, worker=worker)
    with page_queries() as large:
        assert client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


# --- The admin's History button ---------------------------------------------------------------------------


def admin_history(client, obj) -> list[str]:  # noqa: ANN001
    meta = obj._meta
    response = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "doesn’t have a change history" not in html and "doesn't have a change history" not in html
    return history(html)


def test_the_admin_history_of_a_claim_verified_from_the_dashboard_and_edited_in_the_admin(client, metric, verifier):
    (claim,) = verified_claims(metric, verifier)
    admin = f.SuperUserFactory(first_name="Rosa", last_name="Quispe")
    client.force_login(admin)
    change = reverse("admin:financing_outcomeclaim_change", args=[claim.pk])
    data = {
        "metric": claim.metric_id,
        "worker": claim.worker_id,
        "unit": claim.unit,
        "achieved_on": "2026-02-05",
        "claimed_by": "",
        "change_reason": "Start date misread from the letter",
        "verifications-TOTAL_FORMS": "0",
        "verifications-INITIAL_FORMS": "0",
    }
    saved = client.post(change, data)
    assert saved.status_code == 302

    entries = admin_history(client, claim)
    assert entries[0].endswith(
        f"— Rosa Quispe changed claim {claim.pk}: achieved on from 3 Feb 2026 to 5 Feb 2026"
        " Reason: Start date misread from the letter"
    )
    assert any(f"Ana López verified claim {claim.pk}" in entry for entry in entries)


def test_the_admin_history_of_a_tranche_a_contract_and_a_worker(client, metric, verifier, approver):
    (claim,) = verified_claims(metric, verifier)
    q1 = approved_and_paid(metric, approver)
    client.force_login(f.SuperUserFactory())

    assert admin_history(client, q1)[1].endswith("— Daniel Mensah approved tranche 2026-Q1, USD 500.00")
    assert any("Daniel Mensah approved tranche 2026-Q1" in entry for entry in admin_history(client, metric.contract))
    assert admin_history(client, claim.worker)[0].endswith(f"— Ana López verified claim {claim.pk}")
    # A payment's and a decision's History are their tranche's and their claim's.
    assert admin_history(client, q1.disbursements.get()) == admin_history(client, q1)
    assert admin_history(client, claim.verifications.get()) == admin_history(client, claim)
