"""What ``workers`` announces when a worker's facts change, for the layers above it to act on.

The apps above (``financing`` verifies claims and pays for them) subscribe in their ``AppConfig.ready()``;
this app knows nothing of them. A service that changes a worker's facts (evidence, the journey, a fee)
calls ``worker_facts_changed_on_commit``: the announcement goes out once the transaction commits, so no
subscriber reads facts that may still roll back, and it carries only which workers changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models, transaction
from django.dispatch import Signal

#: Sent after commit with ``sender`` (the model whose rows changed: ``Evidence``, ``JourneyEvent``,
#: ``FeeReport``…) and ``worker_ids`` (a frozenset of the workers whose facts changed).
worker_facts_changed = Signal()


def worker_facts_changed_on_commit(*, sender: type[models.Model], worker_ids: Iterable[int]) -> None:
    """Announce, once the current transaction commits (at once outside one), that these workers' facts changed."""
    ids = frozenset(worker_ids)
    if ids:
        transaction.on_commit(lambda: worker_facts_changed.send(sender=sender, worker_ids=ids))
