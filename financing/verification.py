"""Automatic verification: each metric kind's rule, checked against employment, journey, fees and evidence.

A rule gives one of three answers for a claim: the outcome holds (verify it), not yet (leave it
claimed: day N is not reached, the attestation has not arrived), or the evidence disagrees (send it
to the staff review queue with the facts for and against). The rules are pure functions of a
worker's facts, and ``worker_facts`` reads the facts of many workers in a few queries. This module
reads and decides; it writes nothing: ``financing.services.verify_pending_claims`` applies the answers.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from financing.models import MetricKind
from pilots.stages import Stage
from workers.models import Employment, Evidence, EvidenceKind, FeeReport, TrainingEnrollment, Worker

logger = logging.getLogger(__name__)

NEVER_DEPLOYED = {Stage.WITHDRAWN, Stage.NOT_SELECTED, Stage.VISA_DENIED}


class Answer(StrEnum):
    VERIFY = "verify"
    WAIT = "wait"
    REVIEW = "review"


@dataclass(frozen=True)
class Verdict:
    answer: Answer
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    start: datetime.date
    end: datetime.date | None
    separation_reason: str


@dataclass(frozen=True)
class Course:
    course: str
    completed_on: datetime.date | None
    passed: bool | None
    has_certificate: bool


@dataclass
class WorkerFacts:
    """What the platform knows about one worker that bears on their outcomes."""

    stage: str
    jobs: list[Job] = field(default_factory=list)
    evidence_kinds: set[str] = field(default_factory=set)
    survey_fee_paid: list[bool] = field(default_factory=list)
    fees_paid: list[tuple[str, Decimal, str]] = field(default_factory=list)  # (category, amount, currency)
    courses: list[Course] = field(default_factory=list)


def placed(facts: WorkerFacts, *, today: datetime.date, retention_days: int | None = None) -> Verdict:
    """PLACED: an employment has started and an employer attestation is on file."""
    started = [job for job in facts.jobs if job.start <= today]
    attested = EvidenceKind.EMPLOYER_ATTESTATION in facts.evidence_kinds
    shown = {"employment_started": [job.start.isoformat() for job in started], "employer_attestation": attested}
    if started and facts.stage in NEVER_DEPLOYED:
        return Verdict(Answer.REVIEW, f"An employment is recorded, but the journey ended at '{facts.stage}'.", shown)
    if started and attested:
        return Verdict(Answer.VERIFY, "Employment started and the employer attested it.", shown)
    if attested and not facts.jobs:
        return Verdict(Answer.REVIEW, "The employer attested a placement, but no employment is recorded.", shown)
    return Verdict(Answer.WAIT, "Waiting for the employment to start and the employer's attestation.", shown)


def retained(facts: WorkerFacts, *, today: datetime.date, retention_days: int | None = None) -> Verdict:
    """RETAINED_N: an employment has lasted N days with no separation before day N."""
    days = retention_days or 0
    shown = {
        "retention_days": days,
        "employments": [
            {
                "start": j.start.isoformat(),
                "end": j.end.isoformat() if j.end else None,
                "separation": j.separation_reason,
            }
            for j in facts.jobs
        ],
    }
    started = [job for job in facts.jobs if job.start <= today]
    if not started:
        return Verdict(Answer.WAIT, "No employment has started yet.", shown)
    for job in started:
        day_n = job.start + datetime.timedelta(days=days)
        if (job.end is None or job.end >= day_n) and day_n <= today:
            return Verdict(Answer.VERIFY, f"Employed {days} days from {job.start} without separation.", shown)
    if all(job.end is not None and job.end < job.start + datetime.timedelta(days=days) for job in started):
        return Verdict(Answer.REVIEW, f"Every employment ended before day {days}.", shown)
    return Verdict(Answer.WAIT, f"Day {days} of the employment is not reached yet.", shown)


def zero_fee(facts: WorkerFacts, *, today: datetime.date, retention_days: int | None = None) -> Verdict:
    """ZERO_FEE: a worker survey reports no fee and no fee above zero is reported for the worker."""
    shown = {
        "survey_fee_paid": facts.survey_fee_paid,
        "fees_reported": [{"category": c, "amount": str(a), "currency": cur} for c, a, cur in facts.fees_paid],
    }
    if facts.fees_paid:
        return Verdict(Answer.REVIEW, "A fee above zero is reported for this worker.", shown)
    if any(facts.survey_fee_paid):
        return Verdict(Answer.REVIEW, "The worker's survey says a fee was paid.", shown)
    if facts.survey_fee_paid:
        return Verdict(Answer.VERIFY, "The worker's survey reports no fee and no fee is reported.", shown)
    return Verdict(Answer.WAIT, "Waiting for the worker's survey.", shown)


def trained(facts: WorkerFacts, *, today: datetime.date, retention_days: int | None = None) -> Verdict:
    """TRAINED: a course was completed and passed, with its certificate on file."""
    shown = {
        "courses": [
            {
                "course": c.course,
                "completed_on": c.completed_on.isoformat() if c.completed_on else None,
                "passed": c.passed,
                "certificate": c.has_certificate,
            }
            for c in facts.courses
        ]
    }
    done = [c for c in facts.courses if c.completed_on is not None and c.completed_on <= today]
    if any(c.passed and c.has_certificate for c in done):
        return Verdict(Answer.VERIFY, "Course completed and passed, certificate on file.", shown)
    if done and all(c.passed is False for c in done):
        return Verdict(Answer.REVIEW, "The course was completed but not passed.", shown)
    return Verdict(Answer.WAIT, "Waiting for the course to be completed, assessed and certified.", shown)


def manual(facts: WorkerFacts, *, today: datetime.date, retention_days: int | None = None) -> Verdict:
    return Verdict(Answer.WAIT, "This metric is verified by staff only.")


RULES: dict[str, Callable[..., Verdict]] = {
    MetricKind.PLACED: placed,
    MetricKind.RETAINED_N: retained,
    MetricKind.ZERO_FEE: zero_fee,
    MetricKind.TRAINED: trained,
    MetricKind.MANUAL: manual,
}


def worker_facts(*, worker_ids: Iterable[int], today: datetime.date) -> dict[int, WorkerFacts]:
    """The facts of many workers in five queries, whatever their number."""
    ids = list(worker_ids)
    facts: dict[int, WorkerFacts] = {}
    recruiter_of: dict[int, int] = {}
    for pk, stage, recruiter_id in Worker.objects.filter(pk__in=ids).values_list("pk", "current_stage", "recruiter_id"):
        facts[pk] = WorkerFacts(stage=stage)
        recruiter_of[pk] = recruiter_id
    # The models' default orderings name the worker, which joins its table: order by the column instead.
    jobs = Employment.objects.filter(worker_id__in=ids).order_by("worker_id", "-start_date", "-id")
    for worker_id, start, end, reason in jobs.values_list("worker_id", "start_date", "end_date", "separation_reason"):
        facts[worker_id].jobs.append(Job(start=start, end=end, separation_reason=reason))
    for worker_id, kind, data in Evidence.objects.filter(worker_id__in=ids).values_list("worker_id", "kind", "facts"):
        facts[worker_id].evidence_kinds.add(kind)
        if kind == EvidenceKind.WORKER_SURVEY and isinstance(data, dict) and isinstance(data.get("fee_paid"), bool):
            facts[worker_id].survey_fee_paid.append(data["fee_paid"])
    fees: defaultdict[int, list[tuple[str, Decimal, str]]] = defaultdict(list)
    for worker_id, recruiter_id, category, amount, currency in FeeReport.objects.filter(
        worker_id__in=ids, amount__gt=0
    ).values_list("worker_id", "recruiter_id", "category", "amount", "currency"):
        if recruiter_id == recruiter_of.get(worker_id):
            fees[worker_id].append((category, amount, currency))
    for worker_id, paid in fees.items():
        facts[worker_id].fees_paid = paid
    enrolments = TrainingEnrollment.objects.filter(worker_id__in=ids).order_by("worker_id", "-enrolled_on", "-id")
    for worker_id, course, completed, passed, certificate in enrolments.values_list(
        "worker_id", "course", "completed_on", "passed", "certificate_id"
    ):
        facts[worker_id].courses.append(
            Course(course=course, completed_on=completed, passed=passed, has_certificate=certificate is not None)
        )
    return facts
