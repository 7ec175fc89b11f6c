"""Clients for the dashboard, one per role, and a query budget helper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilots.models import Role
from tests import factories

#: The most queries any dashboard page may run, whatever the size of the data (the issue's budget).
PAGE_QUERY_BUDGET = 12


@pytest.fixture
def staff_client(client, staff_user):  # noqa: ANN001, ANN201 - pytest-django's client
    client.force_login(staff_user)
    return client


@pytest.fixture
def funder_org():  # noqa: ANN201
    return factories.OrganisationFactory(kind="funder", name="Fund for Fair Migration")


@pytest.fixture
def funder_user(funder_org):  # noqa: ANN001, ANN201
    return factories.UserFactory(role=Role.FUNDER, organisation=funder_org)


@pytest.fixture
def funder_client(client, funder_user):  # noqa: ANN001, ANN201
    client.force_login(funder_user)
    return client


@pytest.fixture
def recruiter():  # noqa: ANN201
    return factories.RecruiterFactory()


@pytest.fixture
def recruiter_user(recruiter):  # noqa: ANN001, ANN201
    return factories.RecruiterUserFactory(organisation=recruiter.organisation)


@pytest.fixture
def recruiter_client(client, recruiter_user):  # noqa: ANN001, ANN201
    client.force_login(recruiter_user)
    return client


@contextmanager
def page_queries(budget: int = PAGE_QUERY_BUDGET) -> Iterator[CaptureQueriesContext]:
    """Count a request's queries and fail, listing them, if there are more than ``budget``."""
    with CaptureQueriesContext(connection) as ctx:
        yield ctx
    assert len(ctx.captured_queries) <= budget, "\n".join(q["sql"][:300] for q in ctx.captured_queries)
