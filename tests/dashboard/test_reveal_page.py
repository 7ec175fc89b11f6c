"""The staff worker page's personal data: masked on the page, revealed by a POST with a reason (logged, never
cached, the values in that answer only), and the access log of those reveals."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from workers.models import PersonalDataAccess

pytestmark = pytest.mark.django_db

REASON = "Checking the visa application form."
#: Every way the page could print each value in full.
FULL_VALUES = (
    "1993-03-09",
    "09 Mar 1993",
    "9 March 1993",
    "P55501234",
    "+502 5555 0142",
    "5555 0142",
    "rosa.tzul@example.org",
)


@pytest.fixture
def worker():  # noqa: ANN201
    return f.WorkerFactory(
        given_names="Rosa",
        family_names="Tzul",
        date_of_birth=datetime.date(1993, 3, 9),
        phone="+502 5555 0142",
        email="rosa.tzul@example.org",
        identity_document_number="P55501234",
    )


def page(worker) -> str:  # noqa: ANN001
    return reverse("programme:worker", args=[worker.pk])


def reveal(worker) -> str:  # noqa: ANN001
    return reverse("programme:worker-reveal", args=[worker.pk])


def access_log(worker) -> str:  # noqa: ANN001
    return reverse("programme:worker-access-log", args=[worker.pk])


HTMX = {"HTTP_HX_REQUEST": "true"}
EVERY_FIELD = ["date_of_birth", "identity_document_number", "phone", "email"]


def test_the_page_holds_no_decrypted_value_before_a_reveal(staff_client, worker):
    response = staff_client.get(page(worker))

    html = response.content.decode()
    assert response.status_code == 200
    for value in FULL_VALUES:
        assert value not in html, value
    for masked in ("1993-••-••", "•••••1234", worker.phone_masked, "r••••••••@example.org"):
        assert masked in html
    assert 'data-full="' not in html
    assert reveal(worker) in html and 'name="reason"' in html
    assert PersonalDataAccess.objects.count() == 0  # opening the page reveals nothing


def test_the_page_leaves_the_access_log_to_its_own_request(staff_client, staff_user, worker):
    # The page keeps its query budget (tests/dashboard/test_workers_pages.py): the log is loaded apart.
    PersonalDataAccess.objects.create(
        user=staff_user,
        worker=worker,
        fields=["phone"],
        reason=REASON,
        channel="dashboard",
        expires_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
    )
    with CaptureQueriesContext(connection) as ctx:
        html = staff_client.get(page(worker)).content.decode()
    assert not [q for q in ctx.captured_queries if "workers_personaldataaccess" in q["sql"]]
    assert access_log(worker) in html and REASON not in html


def test_a_reveal_shows_the_values_in_its_answer_only_and_writes_one_access_row(staff_client, staff_user, worker):
    response = staff_client.post(reveal(worker), {"fields": EVERY_FIELD, "reason": REASON}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    for value in ("1993-03-09", "P55501234", "+502 5555 0142", "rosa.tzul@example.org"):
        assert value in html
    assert "<html" not in html  # the fragment htmx swaps in, not a page
    assert "no-store" in response["Cache-Control"]
    assert response["HX-Trigger"] == "access-logged"
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.worker, access.fields, access.reason, access.channel) == (
        staff_user,
        worker,
        EVERY_FIELD,
        REASON,
        "dashboard",
    )
    shown_until = re.search(r'data-expires-at="([^"]+)"', html).group(1)
    assert datetime.datetime.fromisoformat(shown_until) == access.expires_at
    # The page itself stays masked after the reveal: the values were in that answer only.
    again = staff_client.get(page(worker)).content.decode()
    assert "P55501234" not in again and "1993-03-09" not in again


def test_only_the_chosen_fields_are_revealed(staff_client, worker):
    html = staff_client.post(reveal(worker), {"fields": ["phone"], "reason": REASON}, **HTMX).content.decode()

    assert "+502 5555 0142" in html
    assert "P55501234" not in html and "1993-03-09" not in html and "rosa.tzul@example.org" not in html


def test_without_javascript_the_reveal_answers_the_page_with_the_values(staff_client, worker):
    response = staff_client.post(reveal(worker), {"fields": ["identity_document_number"], "reason": REASON})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "<h1>Rosa Tzul</h1>" in html and "P55501234" in html
    assert PersonalDataAccess.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"fields": ["phone"]}, "reason"),
        ({"fields": ["phone"], "reason": "because"}, "reason"),
        ({"reason": REASON}, "fields"),
        ({"fields": ["salary"], "reason": REASON}, "fields"),
    ],
)
def test_a_refused_reveal_says_why_and_writes_nothing(staff_client, worker, data, field):
    response = staff_client.post(reveal(worker), data, **HTMX)

    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="has-error"' in html and f'id="id_{field}' in html
    for value in FULL_VALUES:
        assert value not in html
    assert PersonalDataAccess.objects.count() == 0


def test_a_reveal_is_a_post(staff_client, worker):
    assert staff_client.get(reveal(worker)).status_code == 405
    assert PersonalDataAccess.objects.count() == 0


def test_no_one_but_staff_reveals_on_the_dashboard(client, worker):
    own_recruiter = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    funder = f.UserFactory(role="funder", organisation=f.OrganisationFactory(kind="funder"))
    for user in (own_recruiter, funder):
        client.force_login(user)
        response = client.post(reveal(worker), {"fields": ["phone"], "reason": REASON}, **HTMX)
        assert response.status_code == 403
        assert "5555 0142" not in response.content.decode()
    client.logout()
    assert client.post(reveal(worker), {"fields": ["phone"], "reason": REASON}).status_code == 302  # to log in
    assert PersonalDataAccess.objects.count() == 0


def test_staff_read_the_access_log_of_the_worker(staff_client, staff_user, worker):
    other = f.WorkerFactory()
    staff_client.post(reveal(worker), {"fields": ["phone", "email"], "reason": REASON}, **HTMX)
    staff_client.post(reveal(other), {"fields": ["phone"], "reason": "Another worker entirely."}, **HTMX)

    fragment = staff_client.get(access_log(worker), **HTMX)
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert REASON in html and "Phone, Email" in html and str(staff_user) in html
    assert "Another worker entirely." not in html
    assert "5555 0142" not in html  # the log says what was read, never the values

    full = staff_client.get(access_log(worker)).content.decode()
    assert "<html" in full and REASON in full


def test_the_access_log_is_staff_only(client, worker):
    client.force_login(f.RecruiterUserFactory(organisation=worker.recruiter.organisation))
    assert client.get(access_log(worker)).status_code == 403


def test_an_empty_access_log_says_so(staff_client, worker):
    assert "No one has revealed" in staff_client.get(access_log(worker), **HTMX).content.decode()
