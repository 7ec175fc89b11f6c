"""Tenancy of workers and what hangs off them (see ``pilots.querysets``).

A recruiter sees the workers it sourced, with their journey, employment, training and evidence.
All of it is personal data: funders see none of it.
"""

from __future__ import annotations

from typing import Self

from pilots.querysets import TenantQuerySet


class WorkerQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(recruiter__organisation_id=organisation_id)


class WorkerRecordQuerySet(TenantQuerySet):
    """Rows about one worker (a ``worker`` foreign key: journey events, evidence, employment, training)."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(worker__recruiter__organisation_id=organisation_id)

