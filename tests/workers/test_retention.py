"""Retention: workers of a pilot closed more than RETENTION_YEARS_AFTER_PILOT_CLOSE years ago are erased by the
beat job, and only once a dry-run report announced them RETENTION_NOTICE_DAYS before."""

from __future__ import annotations

import datetime
import io

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from pilots.models import PilotStatus
from tests import factories as f
from workers import models as wrk
from workers.retention import retention_apply, retention_report
from workers.tasks import retention_task

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = timezone.localdate(NOW)


@pytest.fixture
def workers(settings) -> dict[str, wrk.Worker]:  # noqa: ANN001
    settings.RETENTION_YEARS_AFTER_PILOT_CLOSE = 5
    settings.RETENTION_NOTICE_DAYS = 14
    started = datetime.date(TODAY.year - 8, 1, 1)
    long_closed = f.PilotFactory(
        status=PilotStatus.CLOSED, start_date=started, end_date=datetime.date(TODAY.year - 6, 1, 1)
    )
    recently_closed = f.PilotFactory(
        status=PilotStatus.CLOSED, start_date=started, end_date=datetime.date(TODAY.year - 4, 1, 1)
    )
    running = f.PilotFactory(
        status=PilotStatus.ACTIVE, start_date=started, end_date=datetime.date(TODAY.year - 6, 1, 1)
    )
    return {
        "due": f.WorkerFactory(pilot=long_closed, given_names="Due"),
        "kept_by_a_case": f.WorkerFactory(pilot=long_closed, given_names="Case"),
        "recent": f.WorkerFactory(pilot=recently_closed, given_names="Recent"),
        "running": f.WorkerFactory(pilot=running, given_names="Running"),
    }


def test_the_dry_run_lists_who_would_be_erased_and_erases_no_one(workers) -> None:  # noqa: ANN001
    f.OutcomeClaimFactory(worker=workers["kept_by_a_case"], in_review=True)
    out = io.StringIO()
    call_command("retention_report", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"worker {workers['due'].pk}: would be erased." in text
    assert f"worker {workers['kept_by_a_case'].pk}: kept for now." in text
    assert f"worker {workers['recent'].pk}" not in text
    assert f"worker {workers['running'].pk}" not in text
    assert "Dry run: nothing kept." in text
    assert wrk.RetentionReport.objects.count() == 0
    assert wrk.Worker.objects.filter(erased_at__isnull=False).count() == 0


def test_the_job_erases_only_after_a_report_old_enough(workers) -> None:  # noqa: ANN001
    f.OutcomeClaimFactory(worker=workers["kept_by_a_case"], in_review=True)
    # The first run erases no one: nobody was announced. It makes the report, the notice of the next runs.
    first = retention_apply(now=NOW)
    assert first.erased == []
    assert set(first.due) == {workers["due"].pk, workers["kept_by_a_case"].pk}
    # A week later the notice is too fresh.
    assert retention_apply(now=NOW + datetime.timedelta(days=7)).erased == []
    # Past the notice, the announced worker still due is erased; the one with an open case is skipped.
    later = retention_apply(now=NOW + datetime.timedelta(days=15))
    assert later.erased == [workers["due"].pk]
    assert "waits for staff review" in later.skipped[workers["kept_by_a_case"].pk]
    erased = wrk.Worker.objects.get(pk=workers["due"].pk)
    assert str(erased) == f"Erased worker #{erased.pk}"
    record = wrk.WorkerErasure.objects.get(worker=erased)
    assert (record.trigger, record.erased_by) == (wrk.ErasureTrigger.RETENTION, None)
    assert set(wrk.Worker.objects.filter(erased_at__isnull=True).values_list("given_names", flat=True)) == {
        "Case",
        "Recent",
        "Running",
    }


def test_a_worker_not_announced_is_not_erased(workers) -> None:  # noqa: ANN001
    # A report made before the worker fell due does not name them: the job leaves them to the next notice.
    wrk.RetentionReport.objects.create(made_at=NOW - datetime.timedelta(days=30), cutoff=NOW.date(), worker_ids=[])
    assert retention_apply(now=NOW).erased == []
    assert wrk.Worker.objects.filter(erased_at__isnull=False).count() == 0


def test_a_pilot_reopened_since_the_report_is_not_erased(workers) -> None:  # noqa: ANN001
    retention_report(now=NOW)
    workers["due"].pilot.status = PilotStatus.ACTIVE
    workers["due"].pilot.save()
    assert retention_apply(now=NOW + datetime.timedelta(days=15)).erased == []


def test_the_command_keeps_the_report(workers) -> None:  # noqa: ANN001
    out = io.StringIO()
    call_command("retention_report", stdout=out)
    report = wrk.RetentionReport.objects.get()
    assert set(report.worker_ids) == {workers["due"].pk, workers["kept_by_a_case"].pk}
    assert f"Kept as report {report.pk}" in out.getvalue()


def test_the_task_runs_the_job_and_beat_schedules_it(workers) -> None:  # noqa: ANN001
    assert retention_task() == {"erased": 0, "skipped": 0, "due": 2}
    assert wrk.RetentionReport.objects.count() == 1
    entries = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "workers.tasks.retention_task" in entries
