"""What ``financing`` does when a lower app announces a change (connected in ``FinancingConfig.ready``).

Thin on purpose: each receiver translates the announcement into one service call; the rules stay in
``financing.services``.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from financing import services
from workers.models import FeeReport


def on_worker_facts_changed(sender: type[models.Model], *, worker_ids: frozenset[int], **kwargs: Any) -> None:
    """New facts about workers have committed: apply fee findings, re-run verification where claims wait."""
    services.worker_facts_changed(worker_ids=worker_ids, fee_reported=sender is FeeReport)
