"""Celery tasks: thin, by id, safe to run twice. Each calls one service.

One task per contract, never one per claim; retried with backoff and jitter on transient database
errors, never on an IntegrityError (that is the duplicate signal, and retrying cannot fix it).
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from financing import digests, services
from financing.models import ContractStatus, RbfContract

TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(acks_late=True, **RETRY)
def schedule_recompute_task(contract_id: int) -> dict[str, int]:
    result = services.schedule_recompute(contract_id=contract_id)
    return {"created": result.created, "updated": result.updated, "deleted": result.deleted}


@shared_task(acks_late=True, **RETRY)
def verify_pending_claims_task(contract_id: int) -> dict[str, int]:
    return services.verify_pending_claims(contract_id=contract_id).as_dict()


@shared_task(acks_late=True, **RETRY)
def fee_findings_apply_task(worker_ids: list[int]) -> int:
    """Reverse the verified zero-fee outcomes that fees newly reported about these workers contradict."""
    return services.fee_findings_apply(worker_ids=worker_ids)


@shared_task(acks_late=True, **RETRY)
def nightly_safety_net_task() -> int:
    """Re-run verification and the schedule of every active contract, in case an event was missed."""
    contract_ids = list(RbfContract.objects.filter(status=ContractStatus.ACTIVE).values_list("pk", flat=True))
    for contract_id in contract_ids:
        verify_pending_claims_task.delay(contract_id)
        schedule_recompute_task.delay(contract_id)
    return len(contract_ids)


@shared_task(acks_late=True, **RETRY)
def overdue_digest_task() -> int:
    """Email each pilot's staff its overdue tranches (the daily digest)."""
    return digests.overdue_digest_send()
