"""A worker's facts in their history, in words: employments (and their end), fees reported, fee declarations.

The trails say which history rows are the worker's; the describers word each change for a viewer. A partner
never reads what the worker said in their own voice: fee reports the worker made (own link or survey) are
left out of a partner's trail. ``financing.timeline.worker_timeline`` adds the claims made for the worker.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.utils.translation import gettext as _

from lamp.currencies import format_money
from lamp.history import Change, Describer, Entry, Trail, changes_words, day_words, reason_words
from lamp.tenancy import tenancy_of
from workers.models import Employment, FeeDeclaration, FeeReport, FeeSource, SeparationReason

#: Fee reports in the worker's own voice: shown to program staff only.
WORKER_VOICE = (FeeSource.WORKER, FeeSource.WORKER_SURVEY)


def worker_trails(*, worker_id: int, viewer: Any) -> list[Trail]:
    """The history rows of a worker's facts that ``viewer`` may read."""
    fees = Q(worker_id=worker_id)
    if not tenancy_of(viewer).staff:
        fees &= ~Q(source__in=WORKER_VOICE)
    return [
        Trail(
            Employment,
            Q(worker_id=worker_id),
            lookups={"employer": F("job_opening__employer__name"), "job": F("job_opening__title")},
            actor="recorded_by_id",
        ),
        Trail(FeeReport, fees, actor="reported_by_id"),
        Trail(FeeDeclaration, Q(worker_id=worker_id), lookups={"recruiter": F("recruiter__organisation__name")}),
    ]


def employment_words(change: Change, viewer: Any) -> Entry | None:
    data, extra = change.data, change.extra
    where = {"employer": extra.get("employer") or "?", "job": extra.get("job") or "?"}
    who = change.who()
    if change.is_insert:
        text = _("%(who)s recorded an employment at %(employer)s (%(job)s) from %(start)s") % {
            "who": who,
            **where,
            "start": day_words(data.get("start_date")),
        }
        if data.get("end_date"):
            text += _(", until %(end)s") % {"end": day_words(data.get("end_date"))}
        return Entry(at=change.at, text=text, detail=data.get("note") or "")
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s deleted the employment at %(employer)s") % {"who": who, **where})
    if change.was("end_date") is None and data.get("end_date") is not None:
        reason = dict(SeparationReason.choices).get(data.get("separation_reason") or "", "")
        text = _("%(who)s recorded the end of the employment at %(employer)s on %(end)s") % {
            "who": who,
            **where,
            "end": day_words(data.get("end_date")),
        }
        if reason:
            text += f" ({reason})"
        return Entry(at=change.at, text=text, detail=reason_words(change))
    words = changes_words(change, ignore=("recorded_by",))
    if not words:
        return None
    text = _("%(who)s changed the employment at %(employer)s: %(changes)s") % {"who": who, **where, "changes": words}
    return Entry(at=change.at, text=text, detail=reason_words(change))


def fee_report_words(change: Change, viewer: Any) -> Entry | None:
    data = change.data
    source = dict(FeeSource.choices).get(data.get("source"), data.get("source"))
    amount = format_money(data.get("amount"), data.get("currency") or "")
    category = FeeReport._meta.get_field("category")
    values = {"who": change.who(), "amount": amount, "category": dict(category.flatchoices).get(data.get("category"))}
    if change.is_insert:
        text = _("%(who)s recorded a fee of %(amount)s (%(category)s)") % values
        if data.get("paid_to"):
            text += _(", paid to %(paid_to)s") % {"paid_to": data["paid_to"]}
        if data.get("recovered_by_wage_deduction"):
            text += _(", taken from wages")
        return Entry(at=change.at, text=text, detail=_("Reported by: %(source)s") % {"source": source})
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s deleted the fee of %(amount)s (%(category)s)") % values)
    words = changes_words(change, currency=data.get("currency"), ignore=("reported_by",))
    if not words:
        return None
    text = _("%(who)s changed the fee of %(amount)s (%(category)s): %(changes)s") % {**values, "changes": words}
    return Entry(at=change.at, text=text, detail=reason_words(change))


def fee_declaration_words(change: Change, viewer: Any) -> Entry | None:
    values = {"who": change.who(), "recruiter": change.extra.get("recruiter") or "?"}
    if change.is_insert:
        text = _("%(who)s recorded %(recruiter)s's declaration that no fee was charged to the worker") % values
        return Entry(at=change.at, text=text, detail=change.data.get("note") or "")
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s withdrew %(recruiter)s's no-fee declaration") % values)
    return None


DESCRIBERS: dict[type, Describer] = {
    Employment: employment_words,
    FeeReport: fee_report_words,
    FeeDeclaration: fee_declaration_words,
}
