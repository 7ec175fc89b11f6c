"""The job paths on a real Celery worker and Redis: delivery, acks_late and redelivery, not eager mode."""

from __future__ import annotations

import datetime

import psycopg2
import pytest
from django.db import connection

from financing.models import PaymentLine
from financing.services import claim_verify
from financing.tasks import schedule_recompute_task
from tests import factories as f
from tests.celery_worker import celery_worker, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def placed_contract(verified: int):  # noqa: ANN201
    contract = f.RbfContractFactory(cap_total=None)
    metric = f.OutcomeMetricFactory(contract=contract, code="PLACED")
    for day in range(1, verified + 1):
        f.OutcomeClaimFactory(
            metric=metric,
            achieved_on=datetime.date(2026, 1, 1),
            status="verified",
            verified_on=datetime.date(2026, 1, day),
        )
    return contract, metric


def line_count(contract) -> int:  # noqa: ANN001
    return PaymentLine.objects.filter(tranche__contract=contract).count()


def test_a_claim_verified_through_the_service_reaches_the_schedule_through_the_worker(tmp_path):
    contract, metric = placed_contract(verified=2)
    pending = f.OutcomeClaimFactory(metric=metric, achieved_on=datetime.date(2026, 2, 1))

    with celery_worker(tmp_path) as worker:
        claim_verify(claim=pending, user=f.StaffUserFactory(), verified_on=datetime.date(2026, 2, 10))
        wait_for(lambda: line_count(contract) == 3, timeout=60, what="the recompute to write 3 lines", worker=worker)

    assert PaymentLine.objects.filter(claim=pending).get().amount == metric.price


def test_a_task_killed_mid_run_is_redelivered_and_leaves_no_duplicate_lines(tmp_path):
    contract, _ = placed_contract(verified=4)
    # Hold the contract's row lock from another connection, so the task blocks in the middle of its run.
    blocker = psycopg2.connect(**connection.get_connection_params())
    cursor = blocker.cursor()
    cursor.execute("SELECT id FROM financing_rbfcontract WHERE id = %s FOR UPDATE", [contract.pk])

    try:
        with celery_worker(tmp_path) as worker:
            schedule_recompute_task.delay(contract.pk)
            wait_for(lambda: _waiting_on_lock(contract), timeout=60, what="the task to start", worker=worker)
            first_child = worker.children()
            worker.kill_child()  # the pool process dies mid-task: the message was not acknowledged
            wait_for(
                lambda: worker.children() and worker.children() != first_child,
                timeout=60,
                what="a new pool process",
                worker=worker,
            )
            blocker.rollback()  # let the redelivered task through
            wait_for(lambda: line_count(contract) == 4, timeout=60, what="the redelivered task", worker=worker)
            wait_for(lambda: "succeeded" in worker.output(), timeout=30, what="the task to finish", worker=worker)
            assert "WorkerLostError" in worker.output()
    finally:
        blocker.close()

    assert line_count(contract) == 4
    assert PaymentLine.objects.filter(tranche__contract=contract).values("claim").distinct().count() == 4


def _waiting_on_lock(contract) -> bool:  # noqa: ANN001
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
            ["%financing_rbfcontract%FOR UPDATE%"],
        )
        return cursor.fetchone()[0] > 0
