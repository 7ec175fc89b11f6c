"""Retention: the personal data of workers of a pilot closed more than ``RETENTION_YEARS_AFTER_PILOT_CLOSE``
years ago is erased (``workers.erasure.worker_erase``), announced first.

The safeguard: a dry run (``retention_report``) lists who falls due and is kept (``RetentionReport``); the
job (``retention_apply``) erases only workers listed by a report made at least ``RETENTION_NOTICE_DAYS`` days
before who still fall due now, and skips, saying why, any with an open case. A pilot is closed when its status
is ``closed``; it closed on its ``end_date`` (a closed pilot with no end date never falls due: give it one).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from pilots.models import PilotStatus, User
from workers.erasure import ErasureRefused, open_cases, worker_erase
from workers.models import ErasureTrigger, RetentionReport, Worker
from workers.value_rules import years_before

REASON = "Retention period ended: the pilot closed more than {years} years ago (report {report})."


def retention_cutoff(today: datetime.date | None = None) -> datetime.date:
    """Pilots that ended on or before this day fall due: ``RETENTION_YEARS_AFTER_PILOT_CLOSE`` years ago."""
    return years_before(today or timezone.localdate(), settings.RETENTION_YEARS_AFTER_PILOT_CLOSE)


def workers_due(today: datetime.date | None = None) -> QuerySet[Worker]:
    """The workers not yet erased whose pilot closed on or before the cutoff."""
    return Worker.objects.filter(
        erased_at__isnull=True, pilot__status=PilotStatus.CLOSED, pilot__end_date__lte=retention_cutoff(today)
    ).order_by("pk")


@dataclass
class RetentionRun:
    """What a dry run or an erasure run found: the workers due, those erased, those skipped (id → why)."""

    due: list[int] = field(default_factory=list)
    erased: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    report: RetentionReport | None = None


def retention_report(
    *, made_by: User | None = None, record: bool = True, now: datetime.datetime | None = None
) -> RetentionRun:
    """The dry run: who falls due now, and which of them a case keeps (they would be skipped). Kept as a
    ``RetentionReport`` (the notice the job waits on) unless ``record`` is false."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    run = RetentionRun()
    for worker in workers_due(today).only("pk"):
        run.due.append(worker.pk)
        cases = open_cases(worker)
        if cases:
            run.skipped[worker.pk] = " ".join(case.description for case in cases)
    if record:
        run.report = RetentionReport.objects.create(
            made_by=made_by, made_at=now, cutoff=retention_cutoff(today), worker_ids=run.due
        )
    return run


def retention_apply(*, now: datetime.datetime | None = None) -> RetentionRun:
    """Erase the workers announced by the latest report at least ``RETENTION_NOTICE_DAYS`` old who still fall
    due, then make today's report (the notice of the next run). Safe to run twice."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    run = RetentionRun()
    notice = RetentionReport.objects.filter(
        made_at__lte=now - datetime.timedelta(days=settings.RETENTION_NOTICE_DAYS)
    ).first()
    if notice is not None:
        announced = set(notice.worker_ids)
        for worker in workers_due(today).filter(pk__in=announced):
            try:
                worker_erase(
                    worker=worker,
                    user=None,
                    reason=REASON.format(years=settings.RETENTION_YEARS_AFTER_PILOT_CLOSE, report=notice.pk),
                    trigger=ErasureTrigger.RETENTION,
                )
            except ErasureRefused as refused:
                run.skipped[worker.pk] = refused.message
                continue
            run.erased.append(worker.pk)
    latest = retention_report(now=now)
    run.due, run.report = latest.due, latest.report
    run.skipped.update(latest.skipped)
    return run
