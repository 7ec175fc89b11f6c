"""History of changes, kept by PostgreSQL triggers (django-pghistory), with the acting user."""

from __future__ import annotations

from typing import TypeVar

import pghistory
from django.db import models

M = TypeVar("M", bound=type[models.Model])


def tracked(model: M) -> M:
    """Keep every insert, update and delete of ``model`` in history, with the acting user.

    Triggers rather than signals, so ``update()`` and bulk writes are kept too; statement-level, so
    a bulk write of 100,000 rows costs one trigger call rather than 100,000. The user comes from
    ``pghistory.HistoryMiddleware`` in requests and from ``acting_as`` in services and tasks.
    """
    trackers = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
    return pghistory.track(*trackers, level=pghistory.Statement)(model)


def acting_as(user: models.Model | None, **metadata: object) -> pghistory.context:
    """Attribute the history written inside the block to ``user`` (``None``: the system itself).

    Requests get this from the middleware; services, commands and tasks that act for someone wrap
    their writes in it: ``with acting_as(request_user): ...``.
    """
    return pghistory.context(user=user.pk if user is not None else None, **metadata)
