"""Cursor pages (``lamp.api_base.KeysetPagination``) of the big lists: claims, fee reports and workers.

Walking every page, forwards and back, in any offered order (ties and nulls included), gives every row once
and in order; each page is one query with no OFFSET and no count, so a deep page costs what the first does;
rows added meanwhile shift nothing; a cursor that is not the list's is a 400 naming ``cursor``.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from financing import models as fin
from tests import factories as f
from workers import models as wrk

pytestmark = pytest.mark.django_db


@pytest.fixture
def recruiter() -> dict[str, Any]:
    user = f.RecruiterUserFactory()
    profile = user.organisation.recruiter
    assignment = f.RecruiterAssignmentFactory(recruiter=profile)
    contract = f.RbfContractFactory(provider=user.organisation, pilot=assignment.pilot)
    client = APIClient()
    client.force_authenticate(user)
    return {
        "client": client,
        "user": user,
        "recruiter": profile,
        "pilot": assignment.pilot,
        "metric": f.OutcomeMetricFactory(contract=contract, code="PLACED"),
    }


def add_claims(world: dict[str, Any], count: int) -> None:
    """Claims with ties on every orderable field, and nulls in ``verified_on``."""
    for n in range(count):
        worker = f.WorkerFactory(recruiter=world["recruiter"], pilot=world["pilot"])
        achieved = datetime.date(2026, 1, 1 + n % 3)
        status, verified = [
            (fin.ClaimStatus.CLAIMED, None),
            (fin.ClaimStatus.VERIFIED, achieved + datetime.timedelta(days=n % 2)),
            (fin.ClaimStatus.REJECTED, None),
            (fin.ClaimStatus.VERIFIED, datetime.date(2026, 2, 1)),
        ][n % 4]
        f.OutcomeClaimFactory(
            metric=world["metric"],
            worker=worker,
            achieved_on=achieved,
            status=status,
            verified_on=verified,
            rejection_reason="No employer attestation on file." if status == fin.ClaimStatus.REJECTED else "",
        )
    f.OutcomeClaimFactory()  # another recruiter's: never listed


def add_fee_reports(world: dict[str, Any], count: int) -> None:
    """Fee reports with ties in ``reported_at`` and ``amount``, and nulls in ``paid_on``."""
    worker = f.WorkerFactory(recruiter=world["recruiter"], pilot=world["pilot"])
    moment = timezone.now().replace(microsecond=123456)
    for n in range(count):
        f.FeeReportFactory(
            worker=worker,
            reported_at=moment - datetime.timedelta(hours=n % 4),
            paid_on=None if n % 3 == 0 else datetime.date(2026, 3, 1 + n % 5),
            amount=Decimal("150.00") * (n % 3),
            category=[wrk.FeeCategory.MEDICAL, wrk.FeeCategory.TRAVEL_LODGING][n % 2],
            source=wrk.FeeSource.RECRUITER,  # a recruiter lists the fees it reported itself
        )
    f.FeeReportFactory(worker=worker)  # the worker's own report: never shown to the recruiter
    f.FeeReportFactory()  # another recruiter's: never listed


def add_workers(world: dict[str, Any], count: int) -> None:
    for _ in range(count):
        f.WorkerFactory(recruiter=world["recruiter"], pilot=world["pilot"])


LISTS = {
    "claims": (fin.OutcomeClaim, add_claims, ["id"]),
    "fee-reports": (wrk.FeeReport, add_fee_reports, ["-reported_at", "-id"]),
    "workers": (wrk.Worker, add_workers, ["id"]),
}
ORDERINGS = [
    ("claims", ""),
    ("claims", "-id"),
    ("claims", "verified_on"),
    ("claims", "-verified_on"),
    ("claims", "status,-achieved_on"),
    ("claims", "-achieved_on,verified_on"),
    ("fee-reports", ""),
    ("fee-reports", "reported_at"),
    ("fee-reports", "paid_on"),
    ("fee-reports", "-paid_on,amount"),
    ("fee-reports", "-amount,category"),
    ("workers", ""),
]


def in_order(rows: list[Any], ordering: list[str]) -> list[int]:
    """The ids of ``rows`` as PostgreSQL orders them: nulls last ascending and first descending, then by id."""
    if not {"id", "-id"} & set(ordering):
        ordering = [*ordering, "id"]

    def compare(a: Any, b: Any) -> int:
        for name in ordering:
            field, descending = name.lstrip("-"), name.startswith("-")
            x, y = getattr(a, field), getattr(b, field)
            if x == y:
                continue
            if x is None or y is None:
                after = x is None  # a null sorts after everything ascending
            else:
                after = x > y
            return (1 if after else -1) * (-1 if descending else 1)
        return 0

    return [row.pk for row in sorted(rows, key=functools.cmp_to_key(compare))]


def page(client: APIClient, url: str) -> tuple[dict[str, Any], list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json(), [query["sql"] for query in captured]


@pytest.mark.parametrize(("endpoint", "ordering"), ORDERINGS)
def test_walking_the_pages_gives_every_row_once_in_order_and_each_page_is_one_query(recruiter, endpoint, ordering):
    model, add, default = LISTS[endpoint]
    add(recruiter, 23)
    mine = list(model.objects.visible_to(recruiter["user"]))
    expected = in_order(mine, ordering.split(",") if ordering else default)
    url = f"/api/v1/{endpoint}/?page_size=5" + (f"&ordering={ordering}" if ordering else "")

    seen, pages, urls = [], [], []
    while url:
        body, queries = page(recruiter["client"], url)
        assert len(queries) == 1, queries  # the page: no count, nothing per row
        assert " OFFSET " not in queries[0].upper()
        urls.append(url)
        pages.append([row["id"] for row in body["results"]])
        seen += pages[-1]
        assert (body["previous"] is None) == (len(pages) == 1)
        url = body["next"]
    assert seen == expected
    assert [len(ids) for ids in pages] == [5, 5, 5, 5, 3]

    # And back: each previous link gives the page before, whole.
    back = [pages[-1]]
    body, _ = page(recruiter["client"], urls[-1])
    while body["previous"]:
        body, queries = page(recruiter["client"], body["previous"])
        assert len(queries) == 1
        back.append([row["id"] for row in body["results"]])
    assert back == pages[::-1]
    assert body["next"]  # the first page again, reached backwards, still leads on


def test_a_deep_page_runs_the_query_the_first_page_runs(recruiter):
    """Keyset, not offset: the hundredth page's query is the first page's with a ``WHERE`` on the cursor."""
    add_fee_reports(recruiter, 12)
    client = recruiter["client"]
    first, (first_sql,) = page(client, "/api/v1/fee-reports/?page_size=2")
    body = first
    for _ in range(4):
        body, (deep_sql,) = page(client, body["next"])
    assert "LIMIT 3" in first_sql and "LIMIT 3" in deep_sql
    assert " OFFSET " not in deep_sql.upper()
    assert '"reported_at" <' in deep_sql  # starts after the previous page's last row


def test_rows_added_meanwhile_do_not_shift_the_pages(recruiter):
    add_fee_reports(recruiter, 6)
    client = recruiter["client"]
    first, _ = page(client, "/api/v1/fee-reports/?page_size=3")
    rest = first["next"]
    f.FeeReportFactory(worker=wrk.FeeReport.objects.get(pk=first["results"][0]["id"]).worker)  # newest: page 1

    second, _ = page(client, rest)

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 6
    assert second["next"] is None


def cursor_of(url: str) -> str:
    return url.split("cursor=", 1)[1].split("&", 1)[0]


def encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "ordering"),
    [
        ("garbage", "id"),
        ("%%%", "id"),
        (encode({"o": "id", "p": ["not a number"]}), "id"),
        (encode({"o": "id", "p": [1, 2]}), "id"),
        (encode({"o": "verified_on,id", "p": ["2026-01-01", 3]}), "id"),  # made for another order
        (encode({"o": "id", "p": [None]}), "id"),  # an id is never null
        (encode({"p": [3]}), "id"),
        (encode({"o": "status,id", "p": ["claimed\u0000", 3]}), "status"),  # PostgreSQL refuses NUL
        (encode({"o": "verified_on,id", "p": ["2026-13-45", 3]}), "verified_on"),
        (base64.b64encode(b"\xff\xfe").decode(), "id"),
    ],
)
def test_a_cursor_that_is_not_the_lists_is_a_400_naming_cursor(recruiter, cursor, ordering):
    add_claims(recruiter, 3)
    response = recruiter["client"].get(f"/api/v1/claims/?cursor={cursor}&ordering={ordering}")
    assert response.status_code == 400, response.content
    assert [error["field"] for error in response.json()["errors"]] == ["cursor"]


def test_a_far_cursor_is_an_empty_page_not_an_error(recruiter):
    add_claims(recruiter, 3)
    response = recruiter["client"].get(f"/api/v1/claims/?cursor={encode({'o': '-id', 'p': [-(10**30)]})}&ordering=-id")
    assert response.status_code == 200 and response.json()["results"] == []
    response = recruiter["client"].get(f"/api/v1/claims/?cursor={encode({'o': 'id', 'p': [10**30]})}")
    assert response.status_code == 200 and response.json()["results"] == [] and response.json()["next"] is None


def test_a_cursor_is_refused_under_another_ordering(recruiter):
    add_claims(recruiter, 6)
    client = recruiter["client"]
    body, _ = page(client, "/api/v1/claims/?page_size=2&ordering=-achieved_on")
    cursor = cursor_of(body["next"])

    assert client.get(f"/api/v1/claims/?page_size=2&ordering=-achieved_on&cursor={cursor}").status_code == 200
    response = client.get(f"/api/v1/claims/?page_size=2&ordering=status&cursor={cursor}")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "cursor"


def test_page_size_is_capped_at_200_and_defaults_to_50(recruiter):
    add_fee_reports(recruiter, 205)
    client = recruiter["client"]
    assert len(client.get("/api/v1/fee-reports/").json()["results"]) == 50
    assert len(client.get("/api/v1/fee-reports/?page_size=1000").json()["results"]) == 200
