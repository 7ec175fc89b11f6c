"""Celery tasks of the workers' check-ins: thin, safe to run twice, each calling services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from workers import retention, services

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(acks_late=True, **RETRY)
def check_ins_due_task() -> dict[str, int]:
    """Beat, daily: make the check-ins due by each pilot's moments, remind the unanswered, send the outbox."""
    made = services.check_ins_due()
    reminded = services.check_in_reminders()
    return {"made": made, "reminded": reminded, **services.outbox_send()}


@shared_task(acks_late=True, **RETRY)
def outbox_send_task() -> dict[str, int]:
    """Send the check-in links waiting in the outbox (enqueued when one is added)."""
    return services.outbox_send()


@shared_task(acks_late=True, **RETRY)
def retention_task() -> dict[str, int]:
    """Beat, daily: erase the workers whose retention ended and a report announced, then report who is next."""
    run = retention.retention_apply()
    return {"erased": len(run.erased), "skipped": len(run.skipped), "due": len(run.due)}
