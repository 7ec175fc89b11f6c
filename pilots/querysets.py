"""What partners see of organisations, pilots, their partners and job openings (tenancy: ``lamp.tenancy``)."""

from __future__ import annotations

from typing import Self

from django.db import models
from django.db.models import Exists, OuterRef

from lamp.tenancy import TenantQuerySet, model_named


class OrganisationQuerySet(TenantQuerySet):
    """Partners see their own organisation; the names of counterparties come with the records that name them."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(pk=organisation_id)

    def for_funder(self, organisation_id: int) -> Self:
        return self.filter(pk=organisation_id)


class PilotQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        """Pilots the recruiter is assigned to, or provides a contract in."""
        assigned = model_named("recruitment.RecruiterAssignment").objects.filter(
            pilot=OuterRef("pk"), recruiter__organisation_id=organisation_id
        )
        contracts = model_named("financing.RbfContract").objects
        provides = contracts.filter(pilot=OuterRef("pk"), provider_id=organisation_id)
        return self.filter(Exists(assigned) | Exists(provides))

    def for_funder(self, organisation_id: int) -> Self:
        """Pilots of the contracts the funder pays."""
        pays = model_named("financing.RbfContract").objects.filter(pilot=OuterRef("pk"), payer_id=organisation_id)
        return self.filter(Exists(pays))


class _OfVisiblePilotQuerySet(TenantQuerySet):
    """Rows that belong to a pilot, seen by whoever sees the pilot."""

    def _of_pilots(self, pilots: models.QuerySet) -> Self:
        return self.filter(pilot__in=pilots.values("pk"))


class PilotPartnerQuerySet(_OfVisiblePilotQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self._of_pilots(model_named("pilots.Pilot").objects.for_recruiter(organisation_id))

    def for_funder(self, organisation_id: int) -> Self:
        return self._of_pilots(model_named("pilots.Pilot").objects.for_funder(organisation_id))


class JobOpeningQuerySet(_OfVisiblePilotQuerySet):
    """Job openings of the pilots a recruiter works in. Funders read contracts and schedules, not openings."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self._of_pilots(model_named("pilots.Pilot").objects.for_recruiter(organisation_id))

