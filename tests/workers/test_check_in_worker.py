"""The daily check-in job on a real Celery worker and Redis: it makes the check-ins due and sends them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pilots.stages import CheckInMoment, Stage
from tests import factories as f
from tests.celery_worker import celery_worker, wait_for
from workers.models import CheckIn, OutboxMessage, OutboxStatus
from workers.tasks import check_ins_due_task

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_the_daily_job_makes_the_due_check_ins_and_the_outbox_sends_them(tmp_path):
    worker = f.WorkerFactory(current_stage=Stage.VISA_ISSUED, email="ana@example.org", phone=None)
    assert timezone.localdate()  # the job works on today's date

    with celery_worker(tmp_path) as running:
        check_ins_due_task.delay()
        wait_for(
            lambda: OutboxMessage.objects.filter(status=OutboxStatus.SENT).exists(),
            timeout=60,
            what="the check-in's email to be sent",
            worker=running,
        )

    check_in = CheckIn.objects.get(worker=worker)
    assert check_in.moment == CheckInMoment.PRE_DEPARTURE
    assert OutboxMessage.objects.get(check_in=check_in).channel == "email"
