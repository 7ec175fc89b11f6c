"""Every staff list as a CSV file: as filtered and sorted, every page of it, streamed row by row.

The files carry the columns their list shows and nothing more of a person (no phone, date of birth or full
document number); a cell that a spreadsheet would run as a formula is written as text.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from financing import list_selectors
from financing.models import ClaimStatus, Decision
from lamp.listing import csv_cell
from tests import factories as f
from workers.models import Worker
from workers.selectors import CSV_HEADER

pytestmark = pytest.mark.django_db

WORKERS_CSV, CLAIMS_CSV = reverse("workers:list-csv"), reverse("financing:claims-csv")
CONTRACTS_CSV, DECISIONS_CSV = reverse("financing:contracts-csv"), reverse("financing:decisions-csv")


def read(response) -> list[list[str]]:  # noqa: ANN001
    """The streamed file's rows, header first."""
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)  # written while read, never built whole in memory
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- Workers ----------------------------------------------------------------------------------------------


@pytest.fixture
def many_workers():  # noqa: ANN201
    """2,300 workers (more than a chunk of the server-side cursor) in two pilots, written in one go."""
    pilots = [f.PilotFactory(name="Alpha pilot"), f.PilotFactory(name="Bravo pilot")]
    recruiter = f.RecruiterFactory(organisation__name="Cosecha Justa")
    workers = f.WorkerFactory.build_batch(2300, pilot=pilots[0], recruiter=recruiter)
    for n, worker in enumerate(workers):
        worker.family_names = f"Family{n % 97:02d}"
        worker.given_names = f"Given{n:04d}"
        if n % 3 == 0:
            worker.pilot = pilots[1]
    Worker.objects.bulk_create(workers, batch_size=1000)
    return pilots


def test_the_workers_csv_has_every_row_as_filtered_and_sorted(staff_client, many_workers):
    response = staff_client.get(WORKERS_CSV, {"pilot": many_workers[1].pk, "sort": "-name"})

    rows = read(response)
    assert rows[0] == list(CSV_HEADER)
    expected = list(
        Worker.objects.filter(pilot=many_workers[1])
        .order_by("-family_names", "-given_names", "-id")
        .values_list("pk", "given_names", "family_names", "identity_document_masked")
    )
    assert len(expected) == 767
    assert [(int(r[0]), r[1], r[2], r[9]) for r in rows[1:]] == expected  # every row, in the list's order
    assert {r[5] for r in rows[1:]} == {"Bravo pilot"}
    assert {r[6] for r in rows[1:]} == {"Cosecha Justa"}


def test_the_workers_csv_of_the_whole_list_streams_every_worker(staff_client, many_workers):
    rows = read(staff_client.get(WORKERS_CSV))

    assert [int(r[0]) for r in rows[1:]] == list(Worker.objects.order_by("-id").values_list("pk", flat=True))


def test_the_workers_csv_holds_no_personal_data_the_list_does_not_show(staff_client):
    worker = f.WorkerFactory(
        given_names='=HYPERLINK("http://x")', phone="+502 5555 0199", identity_document_number="P12345678"
    )
    f.JourneyEventFactory(worker=worker, occurred_on=datetime.date(2025, 5, 4))
    f.FeeReportFactory(worker=worker, recruiter=worker.recruiter, amount=Decimal("300.00"))

    (header, row) = read(staff_client.get(WORKERS_CSV))

    assert row[header.index("identity document (masked)")] == "•••••5678"
    assert row[header.index("registered on")] == "2025-05-04"
    assert row[header.index("fee reported")] == "yes"
    assert row[header.index("given names")] == '\'=HYPERLINK("http://x")'  # text, not a formula
    text = ",".join(row)
    for private in ("5555", "P12345678", "1995-06-01"):
        assert private not in text


def test_the_workers_csv_refuses_bad_filters_naming_them(staff_client):
    response = staff_client.get(WORKERS_CSV, {"stage": "flying", "sort": "salary"})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Sort: “salary” is not a column of this list" in body


@pytest.mark.parametrize("who", ["funder_client", "recruiter_client"])
def test_only_staff_export_workers(request, who):
    assert request.getfixturevalue(who).get(WORKERS_CSV).status_code == 403


def test_the_workers_csv_runs_the_same_queries_for_few_or_many(staff_client, django_assert_num_queries):
    f.WorkerFactory.create_batch(3)
    with django_assert_num_queries(5) as few:  # session, user, the filter form's pilots and recruiters, the rows
        read(staff_client.get(WORKERS_CSV))
    f.WorkerFactory.create_batch(30)
    with django_assert_num_queries(len(few.captured_queries)):
        read(staff_client.get(WORKERS_CSV))


# --- Claims -----------------------------------------------------------------------------------------------


def test_the_claims_csv_has_the_amounts_and_every_row_as_filtered_and_sorted(staff_client):
    contract = f.RbfContractFactory(currency="GTQ", reference="GT-1")
    tranche = f.TrancheFactory(contract=contract)
    lines = f.PaymentLineFactory.create_batch(25, tranche=tranche, amount="3875.50")
    f.OutcomeClaimFactory.create_batch(5, metric=lines[0].claim.metric)  # claimed: not in a "verified" export
    f.OutcomeClaimFactory(status=ClaimStatus.VERIFIED, verified_on=datetime.date(2026, 1, 9))  # no line: 0

    rows = read(staff_client.get(CLAIMS_CSV, {"status": "verified", "sort": "-amount"}))

    header = rows[0]
    assert header == list(list_selectors.CLAIM_CSV_HEADER)
    assert len(rows) == 1 + 26
    gtq = [r for r in rows[1:] if r[header.index("currency")] == "GTQ"]
    assert [int(r[0]) for r in gtq] == sorted((line.claim_id for line in lines), reverse=True)
    assert {r[header.index("amount")] for r in gtq} == {"3875.50"}  # in the currency's minor unit
    assert {r[header.index("status")] for r in rows[1:]} == {"Verified"}


def test_the_claims_csv_refuses_a_bad_filter(staff_client):
    response = staff_client.get(CLAIMS_CSV, {"status": "bogus"})

    assert response.status_code == 400
    assert "Status: bogus is not a claim status." in response.content.decode()


# --- Contracts and decisions -------------------------------------------------------------------------------


def test_the_contracts_csv_has_the_money_the_list_shows(staff_client):
    contract = f.RbfContractFactory(reference="H2A-1", cap_total=Decimal("1000.00"))
    f.PaymentLineFactory(tranche=f.TrancheFactory(contract=contract), amount="400.00")
    f.RbfContractFactory(reference="H2A-2")

    rows = read(staff_client.get(CONTRACTS_CSV, {"sort": "-verified"}))

    header = rows[0]
    assert [r[0] for r in rows[1:]] == ["H2A-1", "H2A-2"]
    first = dict(zip(header, rows[1], strict=True))
    assert (first["verified"], first["due in open tranches"], first["left under the cap"]) == (
        "400.00",
        "400.00",
        "600.00",
    )


def test_funders_export_only_the_contracts_they_pay(funder_client, funder_org):
    f.RbfContractFactory(reference="THEIRS", payer=funder_org)
    f.RbfContractFactory(reference="OTHER")

    rows = read(funder_client.get(CONTRACTS_CSV))

    assert [r[0] for r in rows[1:]] == ["THEIRS"]


def test_the_decisions_csv_as_filtered(staff_client):
    verified = f.VerificationFactory.create_batch(3, reason="Employer attestation")
    f.VerificationFactory(decision=Decision.NEEDS_REVIEW, reason="Sources disagree")

    rows = read(staff_client.get(DECISIONS_CSV, {"decision": "verified", "sort": "claim"}))

    assert [int(r[3]) for r in rows[1:]] == sorted(v.claim_id for v in verified)
    assert {r[1] for r in rows[1:]} == {"Verified"}


def test_csv_cells():
    assert csv_cell(None) == "" and csv_cell(Decimal("-5.00")) == "-5.00" and csv_cell(3) == "3"
    assert csv_cell("-1+1") == "'-1+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("Ana") == "Ana"
    assert csv_cell(datetime.date(2026, 1, 2)) == "2026-01-02"
