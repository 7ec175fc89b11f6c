"""Fee reports moved from ``recruitment`` to ``workers``, API tokens and idempotency records from ``pilots`` to
``lamp``: their migrations rename the tables, so the rows, their history and their content types survive.

The test takes the database back to before the move, writes rows the old way, and migrates forward again.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from lamp.models import ApiToken
from tests import factories as f
from workers.models import FeeReport

BEFORE = [
    ("lamp", None),
    ("pilots", "0005_idempotency_answer_encrypted"),
    ("recruitment", "0003_recorded_times_settable"),
    ("workers", "0004_worker_list_reads"),
]


def _migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _leaves() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_moves_keep_every_row_its_history_and_its_content_type() -> None:
    worker = f.WorkerFactory()
    user = f.StaffUserFactory()
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO recruitment_feereport (worker_id, recruiter_id, category, amount, currency, paid_to,"
                " recovered_by_wage_deduction, source, reported_at, note)"
                " VALUES (%s, %s, 'medical', 120, 'GTQ', 'Clinic', false, 'staff', now(), 'before the move')"
                " RETURNING id",
                [worker.pk, worker.recruiter_id],
            )
            (fee_id,) = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM recruitment_feereportevent WHERE pgh_obj_id = %s", [fee_id])
            assert cursor.fetchone() == (1,)  # the old trigger kept its history
            cursor.execute(
                "INSERT INTO pilots_apitoken (user_id, name, prefix, key_hash, created_at)"
                " VALUES (%s, 'CRM sync', 'abcdefgh', %s, now()) RETURNING id",
                [user.pk, "0" * 64],
            )
            (token_id,) = cursor.fetchone()
    finally:
        _migrate(_leaves())

    report = FeeReport.objects.get(pk=fee_id)
    assert (report.worker_id, report.note, report.amount_display) == (worker.pk, "before the move", "GTQ 120.00")
    assert report.events.count() == 1  # its history came along
    report.note = "after the move"
    report.save()
    assert report.events.count() == 2  # and the new triggers keep it going
    assert ApiToken.objects.get(pk=token_id).name == "CRM sync"
    labels = set(ContentType.objects.filter(model__in=["feereport", "apitoken"]).values_list("app_label", "model"))
    assert labels == {("workers", "feereport"), ("lamp", "apitoken")}
