"""No input breaks a request: JSON nested 100,000 deep, NUL characters and oversize bodies on every JSON write
endpoint of the API each get a 4xx in the API's error shape naming the field, and nothing is written."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from financing import models as fin
from lamp import parsers
from lamp.models import IdempotencyRecord
from pilots import models as pil
from tests import factories as f
from workers import models as wrk

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
MIB = 1024 * 1024


def client_for(user: pil.User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@dataclass
class World:
    staff: APIClient
    recruiter: APIClient
    employer: APIClient
    worker: wrk.Worker
    employment: wrk.Employment
    contract: fin.RbfContract
    refund: fin.ProviderRefund


@pytest.fixture
def world() -> World:
    refund = f.ProviderRefundFactory()
    contract = refund.tranche.contract
    worker = f.WorkerFactory(pilot=contract.pilot)
    f.RecruiterAssignmentFactory(recruiter=worker.recruiter, pilot=contract.pilot)
    employer = f.OrganisationFactory(kind=pil.OrganisationKind.EMPLOYER, country="US")
    opening = f.JobOpeningFactory(pilot=contract.pilot, employer=employer)
    employment = f.EmploymentFactory(worker=worker, job_opening=opening, start_date=datetime.date(2026, 4, 6))
    return World(
        staff=client_for(f.StaffUserFactory()),
        recruiter=client_for(f.RecruiterUserFactory(organisation=worker.recruiter.organisation)),
        employer=client_for(f.UserFactory(role=pil.Role.EMPLOYER, organisation=employer)),
        worker=worker,
        employment=employment,
        contract=contract,
        refund=refund,
    )


@dataclass(frozen=True)
class Endpoint:
    method: str
    route: str  # as the schema names it
    path: Callable[[World], str]
    who: str = "staff"

    def call(self, world: World, body: str | bytes, content_type: str = "application/json", **extra: str):
        client = getattr(world, self.who)
        return getattr(client, self.method.lower())(self.path(world), body, content_type=content_type, **extra)

    @property
    def is_import(self) -> bool:
        return self.route.endswith("/import/")


def _worker(world: World) -> str:
    return f"/api/v1/workers/{world.worker.pk}/"


def _tranche(world: World, what: str) -> str:
    return f"/api/v1/contracts/{world.contract.pk}/tranches/{world.refund.tranche.code}/{what}/"


#: Every JSON write endpoint of the API (``test_the_list_is_every_write_endpoint`` holds it to the router).
ENDPOINTS = [
    Endpoint("POST", "/api/v1/workers/", lambda w: "/api/v1/workers/"),
    Endpoint("PUT", "/api/v1/workers/{id}/", _worker),
    Endpoint("PATCH", "/api/v1/workers/{id}/", _worker),
    Endpoint("POST", "/api/v1/workers/{id}/events/", lambda w: _worker(w) + "events/"),
    Endpoint("POST", "/api/v1/workers/{id}/reveal/", lambda w: _worker(w) + "reveal/"),
    Endpoint("POST", "/api/v1/workers/{id}/erase/", lambda w: _worker(w) + "erase/"),
    Endpoint("POST", "/api/v1/workers/{id}/consent/", lambda w: _worker(w) + "consent/"),
    Endpoint("POST", "/api/v1/workers/{id}/consent/withdraw/", lambda w: _worker(w) + "consent/withdraw/"),
    Endpoint("POST", "/api/v1/workers/{id}/evidence/", lambda w: _worker(w) + "evidence/"),
    Endpoint("POST", "/api/v1/workers/{id}/employments/", lambda w: _worker(w) + "employments/"),
    Endpoint(
        "PATCH",
        "/api/v1/workers/{id}/employments/{employment_id}/",
        lambda w: _worker(w) + f"employments/{w.employment.pk}/",
    ),
    Endpoint("POST", "/api/v1/workers/{id}/fee-declaration/", lambda w: _worker(w) + "fee-declaration/", "recruiter"),
    Endpoint("POST", "/api/v1/fee-reports/", lambda w: "/api/v1/fee-reports/"),
    Endpoint("POST", "/api/v1/claims/", lambda w: "/api/v1/claims/"),
    Endpoint("POST", "/api/v1/contracts/simulate/", lambda w: "/api/v1/contracts/simulate/"),
    Endpoint("POST", "/api/v1/contracts/{id}/tranches/{code}/approve/", lambda w: _tranche(w, "approve")),
    Endpoint("POST", "/api/v1/contracts/{id}/tranches/{code}/payments/", lambda w: _tranche(w, "payments")),
    Endpoint(
        "POST",
        "/api/v1/contracts/{id}/refunds/{refund_id}/settle/",
        lambda w: f"/api/v1/contracts/{w.contract.pk}/refunds/{w.refund.pk}/settle/",
    ),
    Endpoint("POST", "/api/v1/workers/import/", lambda w: "/api/v1/workers/import/"),
    Endpoint("POST", "/api/v1/payroll/import/", lambda w: "/api/v1/payroll/import/", "employer"),
]
IDS = [f"{e.method} {e.route}" for e in ENDPOINTS]


def snapshot() -> dict[str, object]:
    """Every row the write endpoints could add or change."""
    return {
        "workers": list(wrk.Worker.objects.order_by("pk").values_list("pk", "updated_at", "current_stage")),
        "events": wrk.JourneyEvent.objects.count(),
        "evidence": wrk.Evidence.objects.count(),
        "employments": list(wrk.Employment.objects.order_by("pk").values_list("pk", "end_date", "note")),
        "fees": wrk.FeeReport.objects.count(),
        "declarations": wrk.FeeDeclaration.objects.count(),
        "claims": fin.OutcomeClaim.objects.count(),
        "tranches": list(fin.Tranche.objects.order_by("pk").values_list("pk", "status")),
        "disbursements": fin.Disbursement.objects.count(),
        "refunds": list(fin.ProviderRefund.objects.order_by("pk").values_list("pk", "settled_on")),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def assert_refused(response, status: int, field: str | None, words: str = "") -> dict:  # noqa: ANN001
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"detail", "errors"}
    assert [error["field"] for error in body["errors"]] == [field], body
    assert words in body["detail"]
    return body


def test_the_list_is_every_write_endpoint():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    writes = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch")
    }
    assert writes == {(e.method, e.route) for e in ENDPOINTS}


# --- Depth -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_json_nested_100000_deep_is_a_400_naming_the_body(world, endpoint):
    before = snapshot()
    response = endpoint.call(world, DEEP)
    assert_refused(response, 400, "body", "32 levels")
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_json_nested_deep_under_a_key_is_a_400_naming_the_key(world, endpoint):
    key = "rows" if endpoint.is_import else "note"
    before = snapshot()
    response = endpoint.call(world, json.dumps({"kind": "other", key: json.loads("[" * 40 + "]" * 40)}))
    assert_refused(response, 400, key, "32 levels")
    assert snapshot() == before


def test_json_at_the_depth_limit_is_read(world):
    """32 levels are read (and then refused by the simulator for what they say, not for their depth)."""
    nested = "[" * 31 + "]" * 31
    response = world.staff.post(
        "/api/v1/contracts/simulate/", '{"metrics": ' + nested + "}", content_type="application/json"
    )
    assert response.status_code == 400
    assert "levels" not in response.json()["detail"]
    refused = world.staff.post(
        "/api/v1/contracts/simulate/", '{"metrics": [' + nested + "]}", content_type="application/json"
    )
    assert_refused(refused, 400, "metrics", "32 levels")


def test_malformed_json_is_still_a_400(world):
    response = world.staff.post("/api/v1/workers/", '{"given_names": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[]", None),
        ('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', None),  # brackets in a string do not nest
        ('{"a": "\\"[[[", "b": 1}', None),  # nor after an escaped quote
        ('{"a": "\\\\", "b": ' + "[" * 33 + "]" * 33 + "}", "b"),  # an escaped backslash ends no string
        ('{"a": 1, "b": {"c": ' + "[" * 40 + "]" * 40 + "}}", "b"),
        ("[" * 33 + "]" * 33, "body"),
        ('[{"a": ' + "[" * 40 + "]" * 40 + "}]", "body"),
        ("[" * 40, "body"),  # brackets that never close
        ('{"r\\u00f6ws": ' + "[" * 40 + "]" * 40 + "}", "röws"),
    ],
)
def test_the_depth_scan(text, field):
    assert parsers.too_deep_field(text) == field
    if field is None:
        assert parsers.loads(text) is not None


def test_a_flat_body_of_megabytes_is_not_too_deep():
    assert parsers.too_deep_field("[" + "[1]," * 4_000_000 + "[]]") is None


# --- Evidence facts --------------------------------------------------------------------------------------------


def test_facts_nested_5000_deep_in_a_form_are_a_400_naming_facts(world):
    before = snapshot()
    response = world.staff.post(
        _worker(world) + "evidence/",
        {"kind": "other", "reference": "HR record", "facts": "{" * 1 + '"a":' + "[" * 5000 + "]" * 5000 + "}"},
        format="multipart",
    )
    assert_refused(response, 400, "facts", "levels")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        ({"a": json.loads("[" * 17 + "]" * 17)}, "16 levels"),
        ({"note": "x" * (64 * 1024)}, "At most 64"),
    ],
)
def test_facts_too_deep_or_too_large_are_a_400_naming_facts(world, facts, words):
    before = snapshot()
    body = {"kind": "other", "reference": "HR record", "facts": facts}
    response = world.staff.post(_worker(world) + "evidence/", body, format="json")
    assert_refused(response, 400, "facts", words)
    assert snapshot() == before


def test_a_nul_in_facts_is_a_400_naming_where(world):
    before = snapshot()
    body = {"kind": "other", "reference": "HR record", "facts": {"note": "a\x00b"}}
    as_json = world.staff.post(_worker(world) + "evidence/", body, format="json")
    assert_refused(as_json, 400, "facts.note", "Null characters")
    in_a_form = world.staff.post(
        _worker(world) + "evidence/", {**body, "facts": json.dumps(body["facts"])}, format="multipart"
    )
    assert_refused(in_a_form, 400, "facts", "Null characters")
    assert snapshot() == before


def test_facts_within_the_limits_are_kept(world):
    facts = {"a": json.loads("[" * 15 + "]" * 15), "note": "x" * 60_000}
    response = world.staff.post(
        _worker(world) + "evidence/",
        {"kind": "other", "reference": "HR record", "facts": facts},
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    assert wrk.Evidence.objects.get().facts == facts


# --- NUL -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if not e.is_import], ids=[i for i in IDS if "import" not in i]
)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reference": "W\u0000"}, "reference"),
        ({"no\u0000te": "x"}, "no\x00te"),
        ({"metrics": [{"code": "A", "tiers": [{"price": "1\u0000"}]}]}, "metrics[0].tiers[0].price"),
    ],
)
def test_a_nul_anywhere_in_a_json_body_is_a_400_naming_the_field(world, endpoint, body, field):
    before = snapshot()
    response = endpoint.call(world, json.dumps(body))
    assert_refused(response, 400, field, "Null characters")
    assert snapshot() == before


def rows(world: World, count: int) -> list[dict]:
    return [
        {
            "given_names": f"Eva {n}",
            "family_names": "Tzul",
            "date_of_birth": "1992-03-04",
            "gender": "female",
            "nationality": "GT",
            "pilot": world.worker.pilot_id,
            "consent_given_at": "2026-01-05T10:00:00Z",
        }
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"given_names": "Ana\u0000"}, "given_names"),
        ({"language_levels": {"en\u0000": "B1"}}, "language_levels"),
        ({"email\u0000": "a@example.org"}, "email\x00"),
    ],
)
def test_a_nul_in_one_row_of_a_json_import_refuses_that_row(world, change, field):
    sent = rows(world, 3)
    sent[1].update(change)
    before = snapshot()

    atomic = world.recruiter.post("/api/v1/workers/import/", {"rows": sent}, format="json")
    assert atomic.status_code == 400
    assert atomic.json()["errors"] == [
        {"row": 2, "field": f"rows[2].{field}", "message": "Null characters are not allowed."}
    ]
    assert snapshot() == before

    partial = world.recruiter.post("/api/v1/workers/import/?mode=partial", {"rows": sent}, format="json")
    assert partial.status_code == 201
    assert partial.json()["created"] == 2 and [e["row"] for e in partial.json()["errors"]] == [2]
    assert wrk.Worker.objects.count() == len(before["workers"]) + 2
    assert not any("\x00" in names for names in wrk.Worker.objects.values_list("given_names", flat=True))


def test_a_nul_in_a_csv_import_is_a_400_naming_the_file_and_its_line(world):
    text = "given_names,family_names,date_of_birth,gender,nationality,pilot\n"
    text += f"Ana,López,1995-06-01,female,GT,{world.worker.pilot_id}\n"
    text += f"Eva\x00,López,1995-06-01,female,GT,{world.worker.pilot_id}\n"
    before = snapshot()
    response = world.recruiter.post("/api/v1/workers/import/?mode=partial", text.encode(), content_type="text/csv")
    assert_refused(response, 400, "file", "on line 3")
    assert snapshot() == before


def test_a_nul_in_one_payroll_row_refuses_that_row(world):
    slip = {
        "worker": world.worker.pk,
        "period_start": "2026-04-06",
        "period_end": "2026-04-19",
        "currency": "USD",
        "gross": "1840.00",
        "net": "1840.00",
    }
    sent = [slip, {**slip, "period_start": "2026-04-20", "period_end": "2026-05-03", "currency": "US\u0000D"}]
    before = snapshot()
    atomic = world.employer.post("/api/v1/payroll/import/", {"rows": sent}, format="json")
    assert atomic.status_code == 400
    assert atomic.json()["errors"] == [
        {"row": 2, "field": "rows[2].currency", "message": "Null characters are not allowed."}
    ]
    assert snapshot() == before
    partial = world.employer.post("/api/v1/payroll/import/?mode=partial", {"rows": sent}, format="json")
    assert partial.status_code == 201 and partial.json()["created"] == 1


def test_too_many_deductions_on_a_pay_slip_are_refused(world):
    slip = {
        "worker": world.worker.pk,
        "period_start": "2026-04-06",
        "period_end": "2026-04-19",
        "currency": "USD",
        "gross": "51.00",
        "net": "0.00",
        "deductions": [{"purpose": "tax", "amount": "1.00"}] * 51,
    }
    before = snapshot()
    response = world.employer.post("/api/v1/payroll/import/", {"rows": [slip]}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["rows[1].deductions"]
    assert snapshot() == before


def test_a_nul_in_a_form_field_or_a_file_name_is_a_400_naming_it(world):
    before = snapshot()
    field = world.staff.post(_worker(world) + "evidence/", {"kind": "other", "refer\x00ence": "x"}, format="multipart")
    assert_refused(field, 400, "refer\x00ence", "Null characters")
    pdf = SimpleUploadedFile("visa\x00.pdf", b"%PDF-1.4 a document", content_type="application/pdf")
    name = world.staff.post(_worker(world) + "evidence/", {"kind": "other", "file": pdf}, format="multipart")
    assert_refused(name, 400, "file", "null character")
    assert snapshot() == before


@pytest.mark.parametrize("query", ["?search=a%00b", "?ordering=id%00", "?pi%00lot=1"])
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(world, query):
    response = world.staff.get("/api/v1/workers/" + query)
    parameter = query[1:].split("=")[0].replace("%00", "\x00")
    assert_refused(response, 400, parameter, "Null characters")


# --- Size ------------------------------------------------------------------------------------------------------


def padded(size: int, key: str = "note") -> str:
    """A JSON object of ``size`` bytes."""
    prefix = json.dumps({key: ""})[:-2]
    return prefix + "x" * (size - len(prefix) - 2) + '"}'


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_a_body_over_the_endpoints_limit_is_a_413_saying_the_limit(world, endpoint):
    limit = 16 * MIB if endpoint.is_import or "simulate" in endpoint.route else MIB
    if "evidence" in endpoint.route:
        limit = 11 * MIB
    before = snapshot()
    response = endpoint.call(world, padded(limit + 1))
    body = assert_refused(response, 413, "body", "at most")
    assert body["max_bytes"] == limit
    assert snapshot() == before


def test_the_parsers_count_what_they_read_whatever_content_length_said():
    """The middleware refuses by ``Content-Length``; the parsers count the bytes as they read them too (a
    server that streams a body of unknown length)."""
    request = RequestFactory().post("/api/v1/workers/1/events/")
    request.resolver_match = resolve("/api/v1/workers/1/events/")
    context = {"request": request}
    with pytest.raises(parsers.RequestBodyTooLarge):
        parsers.JSONParser().parse(io.BytesIO(padded(MIB + 1).encode()), "application/json", context)
    assert parsers.JSONParser().parse(io.BytesIO(padded(MIB).encode()), "application/json", context)
    with pytest.raises(parsers.RequestBodyTooLarge):
        parsers.FormParser().parse(io.BytesIO(b"a=" + b"x" * MIB), "application/x-www-form-urlencoded", context)


def test_a_note_of_a_megabyte_is_a_400_naming_note(world):
    before = snapshot()
    response = world.staff.post(
        _worker(world) + "events/", {"stage": "screened", "note": "x" * 1_000_000}, format="json"
    )
    assert_refused(response, 400, "note", "2000 characters")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("endpoint", "body", "field", "limit"),
    [
        ("events/", {"stage": "screened", "note": "x" * 2001}, "note", 2000),
        ("events/", {"stage": "screened", "override_reason": "x" * 2001}, "override_reason", 2000),
        (
            "fee-reports",
            {"category": "recruitment_fee", "amount": "1", "currency": "USD", "paid_to": "x" * 201},
            "paid_to",
            200,
        ),
        (
            "fee-reports",
            {"category": "recruitment_fee", "amount": "1", "currency": "USD", "note": "x" * 2001},
            "note",
            2000,
        ),
        ("evidence/", {"kind": "other", "reference": "x" * 301}, "reference", 300),
        ("evidence/", {"kind": "other", "reference": "r", "description": "x" * 301}, "description", 300),
        ("employments/", {"job_opening": 0, "start_date": "2026-04-06", "note": "x" * 2001}, "note", 2000),
    ],
)
def test_every_free_text_field_is_bounded(world, endpoint, body, field, limit):
    if endpoint == "fee-reports":
        url, body = "/api/v1/fee-reports/", {**body, "worker": world.worker.pk}
    else:
        url = _worker(world) + endpoint
    before = snapshot()
    response = world.staff.post(url, body, format="json")
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert f"{limit} characters" in json.dumps(response.json())
    assert snapshot() == before


def test_a_worker_edit_with_names_too_long_is_a_400(world):
    before = snapshot()
    response = world.staff.patch(_worker(world), {"given_names": "x" * 121}, format="json")
    assert_refused(response, 400, "given_names", "120 characters")
    assert snapshot() == before


def test_an_import_of_10000_rows_in_json_is_read(world):
    """The README's 10,000 rows (about 1.4 MB here, 3.3 MB with every field): over the default limit, under the
    import's. Every row names a pilot the recruiter is not assigned to, so the answer lists the rows."""
    sent = rows(world, 10_000)
    for row in sent:
        row.update(pilot=999_999, identity_document_number="P00000000", email="ana.lopez@example.org")
    body = json.dumps({"rows": sent})
    assert len(body) > MIB
    before = snapshot()
    response = world.recruiter.post("/api/v1/workers/import/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert len(response.json()["errors"]) >= 10_000
    assert snapshot() == before


@override_settings(REQUEST_BODY_MAX_BYTES=2048)
def test_the_default_limit_is_a_setting(world):
    response = world.staff.post(_worker(world) + "events/", padded(2049), content_type="application/json")
    assert assert_refused(response, 413, "body")["max_bytes"] == 2048
