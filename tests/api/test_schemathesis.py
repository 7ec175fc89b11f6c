"""Schemathesis against the platform's own OpenAPI schema: generated requests to every operation, as staff
and as a recruiter, must never get a server error and must get answers that match the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from lamp.tokens import api_token_create
from tests import factories as f

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


# Read at collection, from the application itself: describing the endpoints touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def requests_inside_the_test_transaction():  # noqa: ANN201
    """As Django's test client does: the end of a request must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def bearer_for(role: str) -> dict[str, str]:
    """A small world, and the token of a staff member or of the recruiter who owns part of it."""
    claim = f.OutcomeClaimFactory()
    recruiter_user = f.RecruiterUserFactory(organisation=claim.worker.recruiter.organisation)
    f.RecruiterAssignmentFactory(recruiter=claim.worker.recruiter, pilot=claim.metric.contract.pilot)
    user = f.StaffUserFactory() if role == "staff" else recruiter_user
    _token, secret = api_token_create(user=user, name="schemathesis")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def staff_bearer(db) -> dict[str, str]:  # noqa: ANN001
    return bearer_for("staff")


@pytest.fixture
def recruiter_bearer(db) -> dict[str, str]:  # noqa: ANN001
    return bearer_for("recruiter")


EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@EXAMPLES
def test_the_api_keeps_to_its_schema_for_staff(case, staff_bearer):  # noqa: ANN001
    case.call_and_validate(headers=staff_bearer, checks=CHECKS)


@schema.parametrize()
@EXAMPLES
def test_the_api_keeps_to_its_schema_for_a_recruiter(case, recruiter_bearer):  # noqa: ANN001
    case.call_and_validate(headers=recruiter_bearer, checks=CHECKS)
