"""Tenancy of workers and what hangs off them (see ``lamp.tenancy``).

A recruiter sees the workers it sourced, with their journey, employment, training and evidence.
All of it is personal data: funders see none of it.
"""

from __future__ import annotations

from typing import Self

from django.db.models import Exists, OuterRef, Subquery

from lamp.tenancy import TenantQuerySet, model_named


def recruiter_of(organisation_id: int) -> Subquery:
    """The recruiter profile of an organisation (at most one), as a scalar subquery.

    Filtering ``recruiter_id = (subquery)`` rather than joining the recruiter table lets PostgreSQL walk
    the ``(recruiter, id)`` index in order: a recruiter's first page of workers reads 51 index entries
    instead of sorting all of its workers.
    """
    recruiters = model_named("recruitment.Recruiter").objects.filter(organisation_id=organisation_id)
    return Subquery(recruiters.order_by().values("pk")[:1])


def employed_by(organisation_id: int, worker: str = "pk") -> Exists:
    """Whether the worker (``worker``: the path to its id) has an employment in one of the employer's openings."""
    return Exists(
        model_named("workers.Employment").objects.filter(
            worker_id=OuterRef(worker), job_opening__employer_id=organisation_id
        )
    )


class WorkerQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(recruiter_id=recruiter_of(organisation_id))

    def for_employer(self, organisation_id: int) -> Self:
        """The workers employed in the employer's own job openings, and no one else."""
        return self.filter(employed_by(organisation_id))


class WorkerRecordQuerySet(TenantQuerySet):
    """Rows about one worker (a ``worker`` foreign key: journey events, evidence, employment, training)."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(worker__recruiter__organisation_id=organisation_id)


class EvidenceQuerySet(WorkerRecordQuerySet):
    """A recruiter sees the evidence about its workers except what the workers said themselves (the worker is
    protected: a recruiter never learns which worker said what); an employer sees what it supplied."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return super().for_recruiter(organisation_id).exclude(source="worker")

    def for_employer(self, organisation_id: int) -> Self:
        return self.filter(source_organisation_id=organisation_id)


class EmploymentQuerySet(WorkerRecordQuerySet):
    def for_employer(self, organisation_id: int) -> Self:
        """The employments in the employer's own job openings."""
        return self.filter(job_opening__employer_id=organisation_id)


class FeeReportQuerySet(TenantQuerySet):
    """Personal data: never a funder's. A recruiter sees the fees it reported itself, never who else reported
    one about its workers (a fee finding reaches it as the category on a reversed claim); an employer the fee
    findings of its own payroll."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(worker__recruiter__organisation_id=organisation_id, source="recruiter")

    def for_employer(self, organisation_id: int) -> Self:
        return self.filter(source_organisation_id=organisation_id)


class FeeDeclarationQuerySet(TenantQuerySet):
    """A recruiter's declarations about its own workers."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(recruiter__organisation_id=organisation_id)


class CheckInQuerySet(TenantQuerySet):
    """Check-ins are the worker's own voice: staff only. A recruiter or employer never sees one."""


class CheckInAnswerQuerySet(TenantQuerySet):
    """A worker's answers: staff only."""


class OutboxMessageQuerySet(TenantQuerySet):
    """Links on their way to workers: staff only."""
