"""Automatic verification: each metric kind's rule, on sources independent of the payee.

A rule gives one of three answers for one claim: the outcome holds (verify it), not yet (leave it claimed,
saying what it waits for: day N is not reached, no independent source has confirmed it), or the evidence
disagrees (send it to the staff review queue with the facts for and against).

**The payee's word never pays the payee.** Every fact carries who supplied it (``workers.models.Source``
and the organisation). A fact confirms an outcome only when its source is one the metric names
(``OutcomeMetric.required_sources``) and it did not come from the contract's provider, the party being paid.
The payee's own evidence is shown beside the others, but where it is the only support the claim waits,
"needs an independent source", and is never verified automatically.

**Each unit is a distinct outcome event.** Unit *k* of ``PLACED``, ``RETAINED_N`` and ``ZERO_FEE`` is the
worker's *k*-th employment (by start date): unit 2 needs a second job. Unit *k* of ``TRAINED`` is the
*k*-th course passed. A claim's ``achieved_on`` must be the date of its event (the start of the employment,
day N of it, the course's completion) and lie in the contract's period; otherwise it goes to review.

The rules are pure functions of a worker's facts and one claim's terms (``Outcome``); ``worker_facts`` reads
the facts of many workers in a fixed number of queries. This module reads and decides and writes nothing:
``financing.services.verify_pending_claims`` applies the answers.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from financing.models import MetricKind, OutcomeClaim
from pilots.stages import Stage
from workers.models import (
    Employment,
    Evidence,
    EvidenceKind,
    FeeCategory,
    FeeDeclaration,
    FeeReport,
    Source,
    TrainingEnrollment,
    Worker,
)

NEVER_DEPLOYED = {Stage.WITHDRAWN, Stage.NOT_SELECTED, Stage.VISA_DENIED}

#: How each source is named in what a rule says it waits for.
SOURCE_WORDS: dict[str, Any] = {
    Source.EMPLOYER: gettext_lazy("the employer (an attestation or payroll)"),
    Source.WORKER: gettext_lazy("the worker's own answer"),
    Source.STAFF: gettext_lazy("program staff"),
    Source.VERIFIER: gettext_lazy("an independent verifier"),
    Source.RECRUITER: gettext_lazy("the recruiter's declaration"),
    Source.TRAINING_PROVIDER: gettext_lazy("the training provider's result"),
    Source.PARTNER: gettext_lazy("a partner organisation"),
}
#: For ``ZERO_FEE``, what each of the three voices is.
ZERO_FEE_WORDS: dict[str, Any] = {
    Source.RECRUITER: gettext_lazy("the recruiter's declaration that no fee was charged"),
    Source.WORKER: gettext_lazy("the worker's own answer about fees"),
    Source.EMPLOYER: gettext_lazy("the employer's payroll"),
}
#: Sources that speak for the worker: the worker's own link, or a survey taken by staff or a verifier.
WORKER_VOICES = frozenset({Source.WORKER, Source.STAFF, Source.VERIFIER})
#: Evidence that speaks of a job: its start, that it goes on, or its end.
EMPLOYMENT_EVIDENCE = frozenset({EvidenceKind.EMPLOYER_ATTESTATION, EvidenceKind.PAYROLL_RECORD})


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
class Supplied:
    """Who supplied a fact: a source and, for a partner, its organisation."""

    source: str
    organisation_id: int | None = None

    def label(self) -> str:
        return str(Source(self.source).label) if self.source in Source.values else self.source


@dataclass(frozen=True)
class Job:
    id: int
    start: datetime.date
    end: datetime.date | None
    separation_reason: str
    by: Supplied = Supplied(Source.UNRECORDED)


@dataclass(frozen=True)
class Document:
    """A piece of evidence: what it is, who supplied it, on which day, and what it states."""

    kind: str
    by: Supplied
    on: datetime.date
    data: dict[str, Any] = field(default_factory=dict)

    def date(self, key: str) -> datetime.date | None:
        try:
            return datetime.date.fromisoformat(str(self.data.get(key)))
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Course:
    course: str
    completed_on: datetime.date | None
    passed: bool | None
    has_certificate: bool
    result_by: Supplied = Supplied(Source.UNRECORDED)
    certificate_by: Supplied | None = None


@dataclass(frozen=True)
class Fee:
    category: str
    amount: Decimal
    currency: str
    source: str


@dataclass
class WorkerFacts:
    """What the platform knows about one worker that bears on their outcomes, each fact with its source."""

    stage: str
    recruiter_id: int | None = None
    jobs: list[Job] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    fees_paid: list[Fee] = field(default_factory=list)
    declared_no_fee: bool = False
    courses: list[Course] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """The claim a rule decides: its unit and date, and the terms of its metric and contract."""

    unit: int = 1
    achieved_on: datetime.date | None = None
    retention_days: int | None = None
    payee_id: int | None = None
    sources: tuple[str, ...] = ()
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None

    def counts(self, by: Supplied) -> bool:
        """Whether a fact supplied so confirms this outcome: a named source, and not the payee."""
        if by.source == Source.UNRECORDED or by.source not in self.sources:
            return False
        return by.organisation_id is None or by.organisation_id != self.payee_id

    def by_payee(self, by: Supplied) -> bool:
        return by.organisation_id is not None and by.organisation_id == self.payee_id

    def wanted(self) -> str:
        names = [str(SOURCE_WORDS.get(source, source)) for source in self.sources]
        return _either(names)


def outcome_of(claim: OutcomeClaim) -> Outcome:
    """The terms a claim is decided on; needs its metric and the metric's contract loaded."""
    metric = claim.metric
    contract = metric.contract
    return Outcome(
        unit=claim.unit,
        achieved_on=claim.achieved_on,
        retention_days=metric.retention_days,
        payee_id=contract.provider_id,
        sources=metric.required_sources,
        period_start=contract.start_date,
        period_end=contract.end_date,
    )


def listed(names: list[str], last: str) -> str:
    """``a, b and c`` (``last`` is ``"and"``) or ``a, b or c``: the names as a sentence lists them."""
    if len(names) <= 1:
        return "".join(names)
    values = {"names": ", ".join(names[:-1]), "last": names[-1]}
    if last == "and":
        return _("%(names)s and %(last)s") % values
    if last == "or":
        return _("%(names)s or %(last)s") % values
    return f"{values['names']} {last} {values['last']}"


def _either(names: list[str]) -> str:
    return listed(names, "or")


def _all(names: list[str]) -> str:
    return listed(names, "and")


def _day(day: datetime.date) -> str:
    """A day as the pages write it (``02 Dec 2026``, ``02 dic 2026`` in Spanish): the ``day`` filter's format."""
    return formats.date_format(day, "d M Y")


def _facts(for_: list[str], against: list[str], **more: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"for": for_, "against": against}
    facts.update({key: value for key, value in more.items() if value not in (None, [], "")})
    return facts


def _period_problem(outcome: Outcome) -> str | None:
    day = outcome.achieved_on
    if day is None:
        return None
    if outcome.period_start and day < outcome.period_start:
        return _("The claimed date %(day)s is before the contract's period (from %(start)s).") % {
            "day": _day(day),
            "start": _day(outcome.period_start),
        }
    if outcome.period_end and day > outcome.period_end:
        return _("The claimed date %(day)s is after the contract's period (to %(end)s).") % {
            "day": _day(day),
            "end": _day(outcome.period_end),
        }
    return None


def _job(facts: WorkerFacts, outcome: Outcome, today: datetime.date) -> tuple[Job | None, Job | None]:
    """The worker's employment for the claim's unit (the unit-th by start), and the one after it, if any."""
    jobs = sorted((job for job in facts.jobs if job.start <= today), key=lambda job: (job.start, job.id))
    index = outcome.unit - 1
    if index >= len(jobs):
        return None, None
    return jobs[index], jobs[index + 1] if index + 1 < len(jobs) else None


def _about(document: Document, job: Job, following: Job | None) -> bool:
    """Whether a document speaks of this job: it names the job's start, or was supplied during it."""
    named = document.date("employment_started_on")
    if named is not None:
        return named == job.start
    return document.on >= job.start and (following is None or document.on < following.start)


def _confirmations(
    facts: WorkerFacts, job: Job, following: Job | None, outcome: Outcome, *, from_day: datetime.date
) -> tuple[list[str], list[str]]:
    """What confirms that the worker held ``job`` on or after ``from_day``: the confirmations that count, and
    those the payee supplied (shown, never counted). Sources the metric does not name are left out of both."""
    counted: list[str] = []
    payee: list[str] = []

    def note(by: Supplied, words: str) -> None:
        if outcome.counts(by):
            counted.append(words)
        elif outcome.by_payee(by):
            payee.append(words)

    for document in facts.documents:
        if not _about(document, job, following):
            continue
        if document.kind in EMPLOYMENT_EVIDENCE:
            covered = document.date("period_end") or document.date("employed_on") or document.on
            if covered >= from_day:
                values = {"who": document.by.label().lower(), "day": _day(covered)}
                if document.kind == EvidenceKind.PAYROLL_RECORD:
                    note(document.by, _("Payroll from %(who)s, %(day)s") % values)
                else:
                    note(document.by, _("Employer attestation from %(who)s, %(day)s") % values)
        elif document.data.get("working") is True and document.on >= from_day:
            values = {"who": document.by.label().lower(), "day": _day(document.on)}
            note(document.by, _("Still working, says %(who)s on %(day)s") % values)
    if job.end is not None and job.end >= from_day:
        values = {"day": _day(job.end), "who": job.by.label().lower()}
        note(job.by, _("Employment recorded until %(day)s by %(who)s") % values)
    elif from_day == job.start:
        note(job.by, _("Employment recorded by %(who)s") % {"who": job.by.label().lower()})
    return counted, payee


def _separation_before(facts: WorkerFacts, job: Job, following: Job | None, day: datetime.date) -> str | None:
    """A source reporting that ``job`` ended before ``day``, in words; ``None`` when none does."""
    if job.end is not None and job.end < day:
        return _("The employment ended on %(day)s (%(reason)s)") % {
            "day": _day(job.end),
            "reason": job.separation_reason or _("no reason given"),
        }
    for document in facts.documents:
        if not _about(document, job, following):
            continue
        separated = document.date("separated_on")
        if separated is not None and separated < day:
            return _("%(who)s reports a separation on %(day)s") % {"who": document.by.label(), "day": _day(separated)}
        if document.data.get("working") is False and document.on < day:
            return _("%(who)s says on %(day)s the worker no longer works there") % {
                "who": document.by.label(),
                "day": _day(document.on),
            }
    return None


def _waiting_for_independent(counted: list[str], payee: list[str], outcome: Outcome, what: str) -> Verdict:
    values = {"what": what, "wanted": outcome.wanted()}
    if payee:
        reason = _("Needs an independent source: %(what)s is supported only by the payee. Waiting for %(wanted)s.")
    else:
        reason = _("Waiting for %(wanted)s to confirm %(what)s.")
    reason %= values
    against = [_("No source independent of the payee has confirmed %(what)s yet") % values]
    return Verdict(Answer.WAIT, reason, _facts(counted, against, supported_by_the_payee=payee))


def placed(facts: WorkerFacts, *, outcome: Outcome, today: datetime.date) -> Verdict:
    """PLACED: the unit-th employment is on record and a source other than the payee confirms it."""
    job, following = _job(facts, outcome, today)
    if job is None:
        if facts.stage in NEVER_DEPLOYED:
            reason = _("No employment, and the journey ended at '%(stage)s'.") % {"stage": facts.stage}
            return Verdict(Answer.REVIEW, reason, _facts([], []))
        if outcome.unit == 1:
            reason = _("Waiting for an employment to be on record.")
        else:
            reason = _("Waiting for employment number %(unit)s (a new season) to be on record.") % {
                "unit": outcome.unit
            }
        return Verdict(Answer.WAIT, reason, _facts([], []))
    started = _("Employment started on %(day)s") % {"day": _day(job.start)}
    if facts.stage in NEVER_DEPLOYED:
        return Verdict(
            Answer.REVIEW,
            _("An employment is recorded, but the journey ended at '%(stage)s'.") % {"stage": facts.stage},
            _facts([started], []),
        )
    if outcome.achieved_on is not None and outcome.achieved_on != job.start:
        against = _("The claim is dated %(day)s, not the day the employment started") % {
            "day": _day(outcome.achieved_on)
        }
        return Verdict(Answer.REVIEW, against + ".", _facts([started], [against]))
    problem = _period_problem(outcome)
    if problem:
        return Verdict(Answer.REVIEW, problem, _facts([started], [problem]))
    counted, payee = _confirmations(facts, job, following, outcome, from_day=job.start)
    if counted:
        return Verdict(
            Answer.VERIFY,
            _("Employment started on %(day)s, confirmed independently.") % {"day": _day(job.start)},
            _facts([started, *counted], [], payee_only=payee),
        )
    return _waiting_for_independent([started], payee, outcome, _("the employment"))


def retained(facts: WorkerFacts, *, outcome: Outcome, today: datetime.date) -> Verdict:
    """RETAINED_N: the unit-th employment lasted N days, confirmed on or after day N by a source other than the
    payee, and no source reports a separation before day N."""
    days = outcome.retention_days or 0
    job, following = _job(facts, outcome, today)
    if job is None:
        return Verdict(Answer.WAIT, _("No employment for this unit has started yet."), _facts([], []))
    day_n = job.start + datetime.timedelta(days=days)
    started = _("Employment started on %(start)s; day %(days)s is %(day)s") % {
        "start": _day(job.start),
        "days": days,
        "day": _day(day_n),
    }
    separated = _separation_before(facts, job, following, day_n)
    if separated:
        reason = _("%(separation)s, before day %(days)s.") % {"separation": separated, "days": days}
        return Verdict(Answer.REVIEW, reason, _facts([started], [separated]))
    if day_n > today:
        reason = _("Day %(days)s of the employment is not reached yet (%(day)s).") % {"days": days, "day": _day(day_n)}
        return Verdict(Answer.WAIT, reason, _facts([started], []))
    if outcome.achieved_on is not None and outcome.achieved_on != day_n:
        against = _("The claim is dated %(day)s, not day %(days)s of the employment") % {
            "day": _day(outcome.achieved_on),
            "days": days,
        }
        return Verdict(Answer.REVIEW, against + ".", _facts([started], [against]))
    problem = _period_problem(outcome)
    if problem:
        return Verdict(Answer.REVIEW, problem, _facts([started], [problem]))
    counted, payee = _confirmations(facts, job, following, outcome, from_day=day_n)
    if counted:
        return Verdict(
            Answer.VERIFY,
            _("Employed %(days)s days from %(start)s, confirmed on or after day %(days)s.")
            % {"days": days, "start": _day(job.start)},
            _facts([started, *counted], [], payee_only=payee),
        )
    return _waiting_for_independent([started], payee, outcome, _("employment on day %(days)s") % {"days": days})


def _payroll_fee(document: Document) -> str | None:
    """A deduction of a payroll that recovers a recruitment fee or related cost, in words; ``None`` if none."""
    for deduction in document.data.get("deductions") or []:
        if isinstance(deduction, dict) and deduction.get("purpose") in FeeCategory.values:
            label = str(FeeCategory(deduction["purpose"]).label)
            words = _("The payroll deducts %(amount)s for %(category)s")
            return (words % {"amount": deduction.get("amount", ""), "category": label.lower()}).replace("  ", " ")
    return None


def zero_fee(facts: WorkerFacts, *, outcome: Outcome, today: datetime.date) -> Verdict:
    """ZERO_FEE: the recruiter's declaration, the worker's own answer and the employer's payroll (the sources
    the metric names) all agree that no fee was paid; any fee from any source is a finding."""
    job, following = _job(facts, outcome, today)
    for_: list[str] = []
    against = [
        _("Fee reported: %(category)s")
        % {"category": FeeCategory(fee.category).label if fee.category in FeeCategory.values else fee.category}
        for fee in facts.fees_paid
    ]
    heard: set[str] = set()
    if facts.declared_no_fee:
        heard.add(Source.RECRUITER)
        for_.append(_("The recruiter declared no fee was charged"))
    for document in facts.documents:
        if document.kind == EvidenceKind.WORKER_SURVEY and isinstance(document.data.get("fee_paid"), bool):
            if document.by.source not in WORKER_VOICES:
                continue  # a survey the payee wrote is not the worker's answer
            if document.data["fee_paid"]:
                against.append(_("The worker says a fee was paid (%(day)s)") % {"day": _day(document.on)})
            else:
                heard.add(Source.WORKER)
                for_.append(_("The worker says no fee was paid (%(day)s)") % {"day": _day(document.on)})
        elif document.kind == EvidenceKind.PAYROLL_RECORD and document.by.source == Source.EMPLOYER:
            if outcome.by_payee(document.by) or (job is not None and not _about(document, job, following)):
                continue
            fee = _payroll_fee(document)
            if fee:
                against.append(fee)
            else:
                heard.add(Source.EMPLOYER)
                for_.append(
                    _("The employer's payroll shows no deduction for a fee (%(day)s)") % {"day": _day(document.on)}
                )
    if against:
        reason = _("A source reports a fee: the outcome is not payable.")
        return Verdict(Answer.REVIEW, reason, _facts(for_, against))
    missing = [source for source in outcome.sources if source in ZERO_FEE_WORDS and source not in heard]
    words = _all([str(ZERO_FEE_WORDS[source]) for source in missing])
    if job is None:
        if missing:
            reason = _("Waiting for the employment this outcome is about to be on record, and for %(words)s.") % {
                "words": words
            }
        else:
            reason = _("Waiting for the employment this outcome is about to be on record.")
        return Verdict(Answer.WAIT, reason, _facts(for_, [], waiting_for=words))
    if outcome.achieved_on is not None and outcome.achieved_on != job.start:
        wrong = _("The claim is dated %(day)s, not the day the employment started (%(start)s)") % {
            "day": _day(outcome.achieved_on),
            "start": _day(job.start),
        }
        return Verdict(Answer.REVIEW, wrong + ".", _facts(for_, [wrong]))
    problem = _period_problem(outcome)
    if problem:
        return Verdict(Answer.REVIEW, problem, _facts(for_, [problem]))
    if missing:
        return Verdict(Answer.WAIT, _("Waiting for %(words)s.") % {"words": words}, _facts(for_, [], waiting_for=words))
    return Verdict(Answer.VERIFY, _("Every source agrees that no fee was paid."), _facts(for_, []))


def trained(facts: WorkerFacts, *, outcome: Outcome, today: datetime.date) -> Verdict:
    """TRAINED: the unit-th course passed, the result from the assessor or staff (a source other than the payee);
    a certificate from a provider that is itself the payee supports but does not alone verify."""
    done = [c for c in facts.courses if c.completed_on is not None and c.completed_on <= today]
    passed = sorted((c for c in done if c.passed), key=lambda c: c.completed_on)
    if len(passed) < outcome.unit:
        if done and all(c.passed is False for c in done):
            reason = _("The course was completed but not passed.")
            return Verdict(Answer.REVIEW, reason, _facts([], [_("Not passed")]))
        return Verdict(Answer.WAIT, _("Waiting for the course to be completed and assessed."), _facts([], []))
    course = passed[outcome.unit - 1]
    shown = _("%(course)s: passed, completed on %(day)s") % {"course": course.course, "day": _day(course.completed_on)}
    if outcome.achieved_on is not None and outcome.achieved_on != course.completed_on:
        wrong = _("The claim is dated %(day)s, not the day the course was completed") % {
            "day": _day(outcome.achieved_on)
        }
        return Verdict(Answer.REVIEW, wrong + ".", _facts([shown], [wrong]))
    problem = _period_problem(outcome)
    if problem:
        return Verdict(Answer.REVIEW, problem, _facts([shown], [problem]))
    counted: list[str] = []
    payee: list[str] = []
    for by, words in (
        (course.result_by, gettext_lazy("The result from %(who)s")),
        (course.certificate_by, gettext_lazy("The certificate from %(who)s")),
    ):
        if by is None:
            continue
        if outcome.counts(by):
            counted.append(str(words) % {"who": by.label().lower()})
        elif outcome.by_payee(by):
            payee.append(str(words) % {"who": by.label().lower()})
    if counted:
        return Verdict(
            Answer.VERIFY,
            _("The course was passed, the result confirmed independently."),
            _facts([shown, *counted], [], payee_only=payee),
        )
    return _waiting_for_independent([shown], payee, outcome, _("the result"))


def manual(facts: WorkerFacts, *, outcome: Outcome, today: datetime.date) -> Verdict:
    return Verdict(Answer.WAIT, _("This metric is verified by staff only."))


Rule = Callable[..., Verdict]
RULES: dict[str, Rule] = {
    MetricKind.PLACED: placed,
    MetricKind.RETAINED_N: retained,
    MetricKind.ZERO_FEE: zero_fee,
    MetricKind.TRAINED: trained,
    MetricKind.MANUAL: manual,
}


#: The language of the words a verdict is recorded in (``Verification.reason`` and ``facts`` are kept as written).
RECORDED_IN = "en"


def decide(
    claim: OutcomeClaim, facts: WorkerFacts, *, today: datetime.date, language: str | None = RECORDED_IN
) -> Verdict:
    """The rule of the claim's metric, on the worker's facts; needs the metric and its contract loaded.

    The verdict's words are in ``language``: English by default, as a verification records them whoever ran
    the rules; ``None`` for the active language, for a page that shows a verdict without recording it.
    """
    rule = RULES[claim.metric.kind]
    if language is None:
        return rule(facts, outcome=outcome_of(claim), today=today)
    with translation.override(language):
        return rule(facts, outcome=outcome_of(claim), today=today)


def worker_facts(*, worker_ids: Iterable[int], today: datetime.date) -> dict[int, WorkerFacts]:
    """The facts of many workers, each with who supplied it, in six queries whatever their number."""
    ids = list(worker_ids)
    facts: dict[int, WorkerFacts] = {}
    for pk, stage, recruiter_id in Worker.objects.filter(pk__in=ids).values_list("pk", "current_stage", "recruiter_id"):
        facts[pk] = WorkerFacts(stage=stage, recruiter_id=recruiter_id)
    # The models' default orderings name the worker, which joins its table: order by the column instead.
    jobs = Employment.objects.filter(worker_id__in=ids).order_by("worker_id", "start_date", "id")
    for pk, worker_id, start, end, reason, source, organisation in jobs.values_list(
        "pk", "worker_id", "start_date", "end_date", "separation_reason", "source", "source_organisation_id"
    ):
        facts[worker_id].jobs.append(
            Job(id=pk, start=start, end=end, separation_reason=reason, by=Supplied(source, organisation))
        )
    documents = Evidence.objects.filter(worker_id__in=ids).order_by("worker_id", "uploaded_at", "id")
    for worker_id, kind, data, source, organisation, uploaded_at in documents.values_list(
        "worker_id", "kind", "facts", "source", "source_organisation_id", "uploaded_at"
    ):
        facts[worker_id].documents.append(
            Document(
                kind=kind,
                by=Supplied(source, organisation),
                on=uploaded_at.date(),
                data=data if isinstance(data, dict) else {},
            )
        )
    fees = FeeReport.objects.filter(worker_id__in=ids, amount__gt=0).order_by("worker_id", "reported_at", "id")
    by_recruiter: defaultdict[int, list[Fee]] = defaultdict(list)
    for worker_id, recruiter_id, category, amount, currency, source in fees.values_list(
        "worker_id", "recruiter_id", "category", "amount", "currency", "source"
    ):
        # A fee paid in recruitment by the worker's recruiter, whoever reported it and whoever the contract pays.
        if recruiter_id == facts[worker_id].recruiter_id:
            by_recruiter[worker_id].append(Fee(category=category, amount=amount, currency=currency, source=source))
    for worker_id, paid in by_recruiter.items():
        facts[worker_id].fees_paid = paid
    for worker_id, recruiter_id in (
        FeeDeclaration.objects.filter(worker_id__in=ids).order_by().values_list("worker_id", "recruiter_id")
    ):
        if recruiter_id == facts[worker_id].recruiter_id:
            facts[worker_id].declared_no_fee = True
    enrolments = TrainingEnrollment.objects.filter(worker_id__in=ids).order_by("worker_id", "enrolled_on", "id")
    for row in enrolments.values_list(
        "worker_id",
        "course",
        "completed_on",
        "passed",
        "result_source",
        "result_organisation_id",
        "certificate__source",
        "certificate__source_organisation_id",
        "certificate_id",
    ):
        worker_id, course, completed, passed, result_source, result_org, cert_source, cert_org, certificate = row
        facts[worker_id].courses.append(
            Course(
                course=course,
                completed_on=completed,
                passed=passed,
                has_certificate=certificate is not None,
                result_by=Supplied(result_source, result_org),
                certificate_by=Supplied(cert_source, cert_org) if certificate is not None else None,
            )
        )
    return facts
