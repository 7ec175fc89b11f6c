"""Celery tasks of the platform's own housekeeping: thin, safe to run twice, each calling one service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from lamp.idempotency import idempotency_records_purge

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(acks_late=True, **RETRY)
def purge_idempotency_records_task() -> int:
    """Delete the ``Idempotency-Key`` records that no longer count (beat: daily); how many were deleted."""
    return idempotency_records_purge()
