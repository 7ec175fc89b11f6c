"""Tenancy of recruiter profiles and their pilot assignments (see ``lamp.tenancy``)."""

from __future__ import annotations

from typing import Self

from lamp.tenancy import TenantQuerySet


class RecruiterQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(organisation_id=organisation_id)


class RecruiterAssignmentQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(recruiter__organisation_id=organisation_id)
