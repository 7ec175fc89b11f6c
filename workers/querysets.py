"""Tenancy of workers and what hangs off them (see ``lamp.tenancy``).

A recruiter sees the workers it sourced, with their journey, employment, training and evidence.
All of it is personal data: funders see none of it.
"""

from __future__ import annotations

from typing import Self

from django.db.models import Subquery

from lamp.tenancy import TenantQuerySet, model_named


def recruiter_of(organisation_id: int) -> Subquery:
    """The recruiter profile of an organisation (at most one), as a scalar subquery.

    Filtering ``recruiter_id = (subquery)`` rather than joining the recruiter table lets PostgreSQL walk
    the ``(recruiter, id)`` index in order: a recruiter's first page of workers reads 51 index entries
    instead of sorting all of its workers.
    """
    recruiters = model_named("recruitment.Recruiter").objects.filter(organisation_id=organisation_id)
    return Subquery(recruiters.order_by().values("pk")[:1])


class WorkerQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(recruiter_id=recruiter_of(organisation_id))


class WorkerRecordQuerySet(TenantQuerySet):
    """Rows about one worker (a ``worker`` foreign key: journey events, evidence, employment, training)."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(worker__recruiter__organisation_id=organisation_id)


class FeeReportQuerySet(TenantQuerySet):
    """Fees the recruiter's own workers reported. Personal data: never a funder's."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(worker__recruiter__organisation_id=organisation_id)
