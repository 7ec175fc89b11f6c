"""Tenancy of recruiter profiles, their pilot assignments and fee reports (see ``pilots.querysets``)."""

from __future__ import annotations

from typing import Self

from pilots.querysets import TenantQuerySet


class RecruiterQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(organisation_id=organisation_id)


class RecruiterAssignmentQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(recruiter__organisation_id=organisation_id)


class FeeReportQuerySet(TenantQuerySet):
    """Fees the recruiter's own workers reported. Personal data: never a funder's."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(worker__recruiter__organisation_id=organisation_id)
