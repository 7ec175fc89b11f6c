"""The purge of old ``Idempotency-Key`` records: the service (``lamp.idempotency.idempotency_records_purge``),
its daily task and beat entry, and ``manage.py purge_idempotency_records``."""

from __future__ import annotations

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from lamp import idempotency
from lamp.idempotency import idempotency_records_purge, ttl
from lamp.models import IdempotencyRecord
from lamp.tasks import purge_idempotency_records_task
from tests import factories as f
from tests.celery_worker import celery_worker, wait_for
from workers.models import FeeReport

pytestmark = pytest.mark.django_db


def record(*, age: datetime.timedelta, key: str | None = None, user=None) -> IdempotencyRecord:  # noqa: ANN001
    made = IdempotencyRecord.objects.create(
        user=user or f.UserFactory(),
        key=key or f"key-{age}",
        method="POST",
        path="/api/v1/fee-reports/",
        request_fingerprint="0" * 64,
        status_code=201,
        response_body='{"id": 1}',
    )
    IdempotencyRecord.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)  # it is auto_now_add
    return made


def ages(hours: list[float]) -> dict[float, IdempotencyRecord]:
    user = f.UserFactory()
    return {h: record(age=datetime.timedelta(hours=h), key=f"k{h}", user=user) for h in hours}


def left() -> set[int]:
    return set(IdempotencyRecord.objects.values_list("pk", flat=True))


def test_the_retention_is_the_key_lifetime_24_hours_by_default():
    assert ttl() == datetime.timedelta(hours=24)


def test_records_older_than_the_retention_are_deleted_and_younger_ones_kept():
    made = ages([0, 1, 23.9, 24.1, 48, 24 * 30])

    deleted = idempotency_records_purge()

    assert deleted == 3
    assert left() == {made[h].pk for h in (0, 1, 23.9)}
    assert idempotency_records_purge() == 0  # safe to run twice


def test_a_longer_retention_keeps_more_and_a_shorter_one_is_refused():
    made = ages([1, 30, 50])

    assert idempotency_records_purge(older_than=datetime.timedelta(hours=48)) == 1
    assert left() == {made[1].pk, made[30].pk}
    with pytest.raises(ValueError, match="write twice"):
        idempotency_records_purge(older_than=datetime.timedelta(hours=2))
    assert left() == {made[1].pk, made[30].pk}


def test_the_retention_follows_the_key_lifetime_setting(settings):  # noqa: ANN001 - pytest-django's settings
    settings.IDEMPOTENCY_TTL_HOURS = 72
    made = ages([30, 80])
    assert idempotency_records_purge() == 1
    assert left() == {made[30].pk}


def test_the_purge_deletes_in_batches(monkeypatch):
    monkeypatch.setattr(idempotency, "PURGE_BATCH_SIZE", 2)
    user = f.UserFactory()
    old = [record(age=datetime.timedelta(days=2), key=f"old-{n}", user=user) for n in range(5)]
    young = record(age=datetime.timedelta(hours=1), key="young", user=user)

    assert idempotency_records_purge() == len(old)
    assert left() == {young.pk}


def test_a_retried_post_inside_the_window_still_gets_the_first_answer_after_a_purge():
    worker = f.WorkerFactory()
    user = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    client = APIClient()
    client.force_authenticate(user)
    body = {"worker": worker.pk, "category": "medical", "amount": "350.00", "currency": "GTQ"}
    headers = {"Idempotency-Key": "fee-2026-0001"}
    stale = record(age=datetime.timedelta(hours=30), user=user, key="fee-2025-0999")

    first = client.post("/api/v1/fee-reports/", body, format="json", headers=headers)
    nearly_a_day_ago = timezone.now() - datetime.timedelta(hours=23)
    IdempotencyRecord.objects.filter(key="fee-2026-0001").update(created_at=nearly_a_day_ago)
    assert idempotency_records_purge() == 1
    retry = client.post("/api/v1/fee-reports/", body, format="json", headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert FeeReport.objects.count() == 1
    assert not IdempotencyRecord.objects.filter(pk=stale.pk).exists()


def test_the_task_purges_and_says_how_many(eager_tasks):  # noqa: ANN001
    ages([1, 25, 26])
    assert purge_idempotency_records_task.delay().get() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_beat_runs_the_task_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-records"]
    assert entry["task"] == purge_idempotency_records_task.name == "lamp.tasks.purge_idempotency_records_task"
    schedule = entry["schedule"]
    assert schedule.hour == {3} and schedule.minute == {15} and len(schedule.day_of_week) == 7


def test_the_command_purges_with_the_default_or_a_longer_retention():
    made = ages([1, 30, 60])
    out = io.StringIO()

    call_command("purge_idempotency_records", "--older-than", "48", stdout=out)
    assert out.getvalue().strip() == "Deleted 1 idempotency record older than 48 h."
    assert left() == {made[1].pk, made[30].pk}

    out = io.StringIO()
    call_command("purge_idempotency_records", stdout=out)
    assert out.getvalue().strip() == "Deleted 1 idempotency record older than 24 h."
    assert left() == {made[1].pk}


@pytest.mark.parametrize("hours", ["2", "-5", "nan", "inf"])
def test_the_command_refuses_a_retention_shorter_than_the_key_lifetime(hours):
    made = ages([3, 30])
    with pytest.raises(CommandError, match="--older-than"):
        call_command("purge_idempotency_records", "--older-than", hours, stdout=io.StringIO())
    assert left() == {made[3].pk, made[30].pk}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_task_runs_on_a_real_worker(tmp_path):
    ages([1, 30])
    with celery_worker(tmp_path) as worker:
        purge_idempotency_records_task.delay()
        wait_for(lambda: IdempotencyRecord.objects.count() == 1, timeout=60, what="the purge", worker=worker)
