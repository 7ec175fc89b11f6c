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
