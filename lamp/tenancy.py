"""Tenancy: who may see which rows, as ``QuerySet.visible_to(user)`` on every model.

Program staff see everything. A recruiter user sees its own organisation's world (its workers and
what hangs off them, the contracts it provides and their schedules, the pilots it works in); a funder
user sees the contracts it pays, their schedules and pilots, and no personal data. Anyone else, and a
partner user without an organisation, sees nothing. A scoped queryset makes another organisation's row
simply absent: a detail view answers 404, never a 403 that would confirm the row exists.

Each model's QuerySet says what a recruiter, a funder and an employer see (``for_recruiter`` /
``for_funder`` / ``for_employer``, given the organisation's id); ``visible_to`` picks the branch from the
user's role. An employer sees the workers employed in its own job openings, and what it told about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class Tenancy:
    """What a user acts as: program staff, or a recruiter, funder or employer organisation (its id), or nobody."""

    staff: bool = False
    recruiter: int | None = None
    funder: int | None = None
    employer: int | None = None


def tenancy_of(user: Any) -> Tenancy:
    """The tenancy of a user (or ``AnonymousUser``, or ``None``): inactive and anonymous users are nobody.

    An active, authenticated user says what it acts as (``User.tenancy`` in ``pilots``, which knows the
    roles): this module sits below every app and names none of them.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Tenancy()
    return user.tenancy


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
        if tenancy.employer is not None:
            return self.for_employer(tenancy.employer)
        return self.none()

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.none()

    def for_funder(self, organisation_id: int) -> Self:
        return self.none()

    def for_employer(self, organisation_id: int) -> Self:
        return self.none()


def model_named(label: str) -> type[models.Model]:
    """A model named by its label (``"financing.RbfContract"``), looked up when a query is built.

    What a partner may see of a lower app's rows can hang off a higher app's rows (a recruiter sees the
    pilots it provides a contract in): the lower queryset names that model by label, as a foreign key
    does, instead of importing it.
    """
    return apps.get_model(label)
