"""Tenancy: who may see which rows, as ``QuerySet.visible_to(user)`` on every model.

Program staff see everything. A recruiter user sees its own organisation's world (its workers and
what hangs off them, the contracts it provides and their schedules, the pilots it works in); a funder
user sees the contracts it pays, their schedules and pilots, and no personal data. Anyone else, and a
partner user without an organisation, sees nothing. A scoped queryset makes another organisation's row
simply absent: a detail view answers 404, never a 403 that would confirm the row exists.

Each model's QuerySet says what a recruiter and a funder see (``for_recruiter`` / ``for_funder``,
given the organisation's id); ``visible_to`` picks the branch from the user's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef


@dataclass(frozen=True)
class Tenancy:
    """What a user acts as: program staff, or a recruiter or funder organisation (its id), or nobody."""

    staff: bool = False
    recruiter: int | None = None
    funder: int | None = None


def tenancy_of(user: Any) -> Tenancy:
    """The tenancy of a user (or ``AnonymousUser``, or ``None``): inactive and anonymous users are nobody."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Tenancy()
    if user.is_program_staff:
        return Tenancy(staff=True)
    # Imported here: pilots.models imports this module for its managers.
    from pilots.models import Role

    if user.organisation_id is None:
        return Tenancy()
    if user.role == Role.RECRUITER:
        return Tenancy(recruiter=user.organisation_id)
    if user.role == Role.FUNDER:
        return Tenancy(funder=user.organisation_id)
    return Tenancy()


class TenantQuerySet(models.QuerySet):
    """A QuerySet with ``visible_to(user)``; subclasses say what recruiters and funders see."""

    def visible_to(self, user: Any) -> Self:
        tenancy = tenancy_of(user)
        if tenancy.staff:
            return self.all()
        if tenancy.recruiter is not None:
            return self.for_recruiter(tenancy.recruiter)
        if tenancy.funder is not None:
            return self.for_funder(tenancy.funder)
        return self.none()

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.none()

    def for_funder(self, organisation_id: int) -> Self:
        return self.none()


def _model(label: str) -> type[models.Model]:
    """A model of another app, looked up when a query is built (the apps import each other's models)."""
    return apps.get_model(label)


class OrganisationQuerySet(TenantQuerySet):
    """Partners see their own organisation; the names of counterparties come with the records that name them."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(pk=organisation_id)

    def for_funder(self, organisation_id: int) -> Self:
        return self.filter(pk=organisation_id)


class PilotQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        """Pilots the recruiter is assigned to, or provides a contract in."""
        assigned = _model("recruitment.RecruiterAssignment").objects.filter(
            pilot=OuterRef("pk"), recruiter__organisation_id=organisation_id
        )
        provides = _model("financing.RbfContract").objects.filter(pilot=OuterRef("pk"), provider_id=organisation_id)
        return self.filter(Exists(assigned) | Exists(provides))

    def for_funder(self, organisation_id: int) -> Self:
        """Pilots of the contracts the funder pays."""
        pays = _model("financing.RbfContract").objects.filter(pilot=OuterRef("pk"), payer_id=organisation_id)
        return self.filter(Exists(pays))


class _OfVisiblePilotQuerySet(TenantQuerySet):
    """Rows that belong to a pilot, seen by whoever sees the pilot."""

    def _of_pilots(self, pilots: models.QuerySet) -> Self:
        return self.filter(pilot__in=pilots.values("pk"))


class PilotPartnerQuerySet(_OfVisiblePilotQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self._of_pilots(_model("pilots.Pilot").objects.for_recruiter(organisation_id))

    def for_funder(self, organisation_id: int) -> Self:
        return self._of_pilots(_model("pilots.Pilot").objects.for_funder(organisation_id))


class JobOpeningQuerySet(_OfVisiblePilotQuerySet):
    """Job openings of the pilots a recruiter works in. Funders read contracts and schedules, not openings."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self._of_pilots(_model("pilots.Pilot").objects.for_recruiter(organisation_id))

