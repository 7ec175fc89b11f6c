"""The history of contracts, claims and tranches in words, read from their pghistory events.

``lamp.history`` reads the events (one query per page, newest first); here is which events make up each
object's history (its trails) and how each change reads: "Daniel Mensah approved tranche 2026-Q1,
USD 17,300.00", "the rules verified claim 81: Employment started on 3 Feb 2026; …", "Ana López reversed
claim 81: …", "Ana López changed claim 81: achieved on from 3 Feb 2026 to 5 Feb 2026" with its reason.

What each viewer reads: a claim's decisions and reasons are the provider's to read, as on its other pages;
the facts the rules weighed (which may be what the worker said in a check-in) and why a claim went to
review are program staff's only. A contract's history (its terms, metrics, tranches and payments) names no
worker, so its funder and provider read it whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, Subquery, Sum, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from financing.models import (
    ClaimStatus,
    Decision,
    Disbursement,
    LineKind,
    OutcomeClaim,
    OutcomeMetric,
    PaymentLine,
    ProviderRefund,
    RbfContract,
    Tranche,
    TrancheStatus,
    Verification,
    VerificationMethod,
)
from lamp.currencies import format_money
from lamp.history import (
    PER_PAGE,
    RULES,
    SYSTEM,
    Change,
    Describer,
    Entry,
    Timeline,
    Trail,
    actor_words,
    changes_words,
    day_words,
    page_number,
    reason_words,
    timeline,
)
from lamp.tenancy import tenancy_of
from workers import timeline as worker_facts

#: What a decision changes on the claim: the ``Verification`` written with it words it.
CLAIM_DECISION_FIELDS = ("status", "verified_on", "rejection_reason", "reversal_reason", "in_review", "pending_reason")
#: Kept by the approval itself, worded with it.
TRANCHE_APPROVAL_FIELDS = ("status", "approved_by", "approved_at")


def _staff(viewer: Any) -> bool:
    return tenancy_of(viewer).staff


def _money(value: Any, currency: str | None) -> str:
    return format_money(Decimal(str(value)), currency or "") if value is not None else "—"


def _tranche_total() -> Cast:
    """The sum of a tranche's lines, read along with its events (an approved tranche's lines never change)."""
    lines = PaymentLine.objects.filter(tranche_id=OuterRef("id"))
    # Less the line an approval adds to carry a negative balance on: the total approved is the balance before it.
    lines = lines.exclude(kind=LineKind.CARRIED_FORWARD, amount__gt=0)
    total = lines.values("tranche_id").annotate(t=Sum("amount"))
    return Cast(Subquery(total.values("t")[:1]), TextField())


# --- Trails ------------------------------------------------------------------------------------------------


def claim_trails(*, claim_id: int) -> list[Trail]:
    """A claim, its decisions and the lines the schedule gave it."""
    return [
        Trail(OutcomeClaim, Q(pgh_obj_id=claim_id), lookups={"metric": F("metric__code")}, actor="claimed_by_id"),
        Trail(Verification, Q(claim_id=claim_id), actor="decided_by_id"),
        Trail(
            PaymentLine,
            Q(claim_id=claim_id),
            lookups={"tranche": F("tranche__code"), "currency": F("tranche__contract__currency")},
        ),
    ]


def tranche_trails(*, contract_id: int | None = None, tranche_id: int | None = None) -> list[Trail]:
    """The tranches of a contract (or one tranche), their payments, the balances carried between them and what
    the provider owes back."""
    tranches = Q(contract_id=contract_id) if tranche_id is None else Q(id=tranche_id)
    theirs = Q(tranche__contract_id=contract_id) if tranche_id is None else Q(tranche_id=tranche_id)
    # Carried-forward lines are the lines of no claim: ``claim_id IS NULL`` reads the event table's index on
    # claim_id, not every line the tranches ever had.
    carried = theirs & Q(claim_id__isnull=True, kind=LineKind.CARRIED_FORWARD)
    if tranche_id is None:
        carried &= Q(amount__gt=0)  # each carry is two lines, one per tranche: the contract reads it once
    return [
        Trail(
            Tranche,
            tranches,
            lookups={"currency": F("contract__currency"), "total": _tranche_total()},
            actor="approved_by_id",
        ),
        Trail(
            PaymentLine,
            carried,
            lookups={
                "tranche": F("tranche__code"),
                "other": F("carried_with__code"),
                "currency": F("tranche__contract__currency"),
            },
        ),
        Trail(Disbursement, theirs, lookups={"tranche": F("tranche__code")}, actor="recorded_by_id"),
        Trail(ProviderRefund, theirs, lookups={"tranche": F("tranche__code")}, actor="recorded_by_id"),
    ]


def contract_trails(*, contract_id: int) -> list[Trail]:
    """A contract's terms, its metrics, its tranches and their payments (no claim: those are the claims')."""
    return [
        Trail(RbfContract, Q(pgh_obj_id=contract_id)),
        Trail(OutcomeMetric, Q(contract_id=contract_id), lookups={"currency": F("contract__currency")}),
        *tranche_trails(contract_id=contract_id),
    ]


def worker_claim_trails(*, worker_id: int) -> list[Trail]:
    """The claims made for a worker and their decisions."""
    return [
        Trail(OutcomeClaim, Q(worker_id=worker_id), lookups={"metric": F("metric__code")}, actor="claimed_by_id"),
        Trail(Verification, Q(claim__worker_id=worker_id), actor="decided_by_id"),
    ]


# --- Words -------------------------------------------------------------------------------------------------


def claim_words(change: Change, viewer: Any) -> Entry | None:
    data = change.data
    values = {"who": change.who(), "id": change.obj_id, "metric": change.extra.get("metric") or "?"}
    if change.is_insert:
        text = _("%(who)s claimed %(metric)s (claim %(id)s), achieved on %(day)s") % {
            **values,
            "day": day_words(data.get("achieved_on")),
        }
        if (data.get("unit") or 1) > 1:
            text += _(", unit %(unit)s") % {"unit": data["unit"]}
        return Entry(at=change.at, text=text)
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s deleted claim %(id)s") % values)
    words = changes_words(change, ignore=(*CLAIM_DECISION_FIELDS, "claimed_at"))
    if words:
        text = _("%(who)s changed claim %(id)s: %(changes)s") % {**values, "changes": words}
        return Entry(at=change.at, text=text, detail=reason_words(change))
    waiting = data.get("pending_reason") or ""
    if waiting and waiting != change.was("pending_reason") and data.get("status") == ClaimStatus.CLAIMED:
        text = _("%(who)s left claim %(id)s waiting: %(reason)s") % {
            **values,
            "who": actor_words(RULES),
            "reason": waiting,
        }
        return Entry(at=change.at, text=text, actor=RULES)
    return None  # a decision: its verification words it


def verification_words(change: Change, viewer: Any) -> Entry | None:
    if not change.is_insert:
        return None  # a decision is kept as it was taken
    data = change.data
    automatic = data.get("method") == VerificationMethod.AUTOMATIC
    actor = RULES if automatic else "user"
    values = {"who": change.who(default=RULES if automatic else SYSTEM), "id": data.get("claim_id")}
    reason = (data.get("reason") or "").strip()
    facts = data.get("facts") or {}
    staff = _staff(viewer)
    decision = data.get("decision")
    if decision == Decision.VERIFIED:
        weighed = "; ".join(str(fact) for fact in facts.get("for") or []) if staff else ""
        why = weighed or reason
        if why:
            text = _("%(who)s verified claim %(id)s: %(why)s") % {**values, "why": why}
        else:
            text = _("%(who)s verified claim %(id)s") % values
        return Entry(at=change.at, text=text, detail=reason if weighed and reason else "", actor=actor)
    if decision == Decision.REJECTED:
        text = _("%(who)s rejected claim %(id)s: %(reason)s") % {**values, "reason": reason}
        return Entry(at=change.at, text=text, actor=actor)
    if decision == Decision.REVERSED:
        text = _("%(who)s reversed claim %(id)s: %(reason)s") % {**values, "reason": reason}
        return Entry(at=change.at, text=text, actor=actor)
    if decision == Decision.NEEDS_REVIEW and facts.get("reopened"):
        undone = dict(ClaimStatus.choices).get(facts.get("undone"), facts.get("undone") or "")
        text = _("%(who)s reopened claim %(id)s, undoing its decision (%(undone)s)") % {
            **values,
            "undone": str(undone).lower(),
        }
        return Entry(at=change.at, text=text, detail=reason_words(change), actor=actor)
    if decision == Decision.NEEDS_REVIEW:
        if not staff:
            return Entry(at=change.at, text=_("%(who)s sent claim %(id)s to staff review") % values, actor=actor)
        text = _("%(who)s sent claim %(id)s to staff review: %(reason)s") % {**values, "reason": reason}
        against = "; ".join(str(fact) for fact in facts.get("against") or [])
        return Entry(at=change.at, text=text, detail=_("Against: %(facts)s") % {"facts": against} if against else "")
    return None


def payment_line_words(change: Change, viewer: Any) -> Entry | None:
    data, currency = change.data, change.extra.get("currency")
    values = {
        "who": _("the schedule"),
        "id": data.get("claim_id"),
        "tranche": change.extra.get("tranche") or "?",
        "amount": _money(data.get("amount"), currency),
    }
    if data.get("kind") == LineKind.CARRIED_FORWARD:
        return _carried_words(change)
    adjustment = data.get("kind") == LineKind.ADJUSTMENT
    if change.is_insert:
        if adjustment:
            text = _("%(who)s adjusted claim %(id)s in tranche %(tranche)s by %(amount)s") % {
                **values,
                "amount": format_money(data.get("amount"), currency or "", signed=True),
            }
            return Entry(at=change.at, text=text, detail=data.get("note") or "", actor=SYSTEM)
        text = _("%(who)s put claim %(id)s in tranche %(tranche)s: %(amount)s") % values
        if data.get("capped"):
            reason = dict(PaymentLine._meta.get_field("reason").flatchoices).get(data.get("reason"), "")
            text += _(", %(capped)s held back (%(reason)s)") % {
                "capped": _money(data["capped"], currency),
                "reason": reason,
            }
        return Entry(at=change.at, text=text, actor=SYSTEM)
    if change.is_delete:
        text = _("%(who)s took claim %(id)s out of tranche %(tranche)s (%(amount)s)") % values
        return Entry(at=change.at, text=text, actor=SYSTEM)
    words = changes_words(change, currency=currency)
    if not words:
        return None
    text = _("%(who)s changed claim %(id)s's line in tranche %(tranche)s: %(changes)s") % {**values, "changes": words}
    return Entry(at=change.at, text=text, actor=SYSTEM)


def _carried_words(change: Change) -> Entry | None:
    """A balance carried forward: a line bringing the approved tranche to zero, and its twin in the next one."""
    if not change.is_insert:
        return None  # the recompute never writes these; an approval is not undone line by line
    data, currency = change.data, change.extra.get("currency")
    amount = Decimal(str(data.get("amount") or 0))
    values = {"who": change.who(), "tranche": change.extra.get("tranche"), "other": change.extra.get("other")}
    if amount > 0:
        text = _("%(who)s carried the negative balance of tranche %(tranche)s, %(amount)s, into tranche %(other)s") % {
            **values,
            "amount": _money(-amount, currency),
        }
    else:
        text = _("tranche %(tranche)s took %(amount)s carried forward from tranche %(other)s") % {
            **values,
            "amount": _money(amount, currency),
        }
    return Entry(at=change.at, text=text, actor=SYSTEM if amount <= 0 else "user")


def refund_words(change: Change, viewer: Any) -> Entry | None:
    data = change.data
    values = {
        "who": change.who(),
        "amount": _money(data.get("amount"), data.get("currency")),
        "tranche": change.extra.get("tranche") or "?",
        "due": day_words(data.get("due")),
        "reference": data.get("reference") or "—",
        "day": day_words(data.get("settled_on")),
    }
    if change.is_insert:
        text = _("%(who)s recorded that the provider owes back %(amount)s for tranche %(tranche)s, due %(due)s")
        return Entry(at=change.at, text=text % values)
    if change.is_update and data.get("settled_on") and not change.was("settled_on"):
        text = _(
            "%(who)s recorded the provider's repayment of %(amount)s for tranche %(tranche)s "
            "(ref %(reference)s), on %(day)s"
        )
        return Entry(at=change.at, text=text % values)
    words = changes_words(change, currency=data.get("currency"), ignore=("recorded_by",))
    if not words:
        return None
    text = _("%(who)s changed what the provider owes back for tranche %(tranche)s: %(changes)s") % {
        **values,
        "changes": words,
    }
    return Entry(at=change.at, text=text, detail=reason_words(change))


def tranche_words(change: Change, viewer: Any) -> Entry | None:
    data, currency = change.data, change.extra.get("currency")
    values = {"who": change.who(), "code": data.get("code")}
    if change.is_insert:
        text = _("%(who)s opened tranche %(code)s: %(start)s to %(end)s, due %(due)s") % {
            **values,
            "start": day_words(data.get("start_date")),
            "end": day_words(data.get("end_date")),
            "due": day_words(data.get("due_date")),
        }
        return Entry(at=change.at, text=text, actor="user" if change.actor_name else SYSTEM)
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s deleted tranche %(code)s") % values)
    status, was = data.get("status"), change.was("status")
    if status != was and status == TrancheStatus.APPROVED:
        text = _("%(who)s approved tranche %(code)s, %(total)s") % {
            **values,
            "total": _money(change.extra.get("total") or 0, currency),
        }
        return Entry(at=change.at, text=text)
    if status != was and status == TrancheStatus.OPEN:
        return Entry(at=change.at, text=_("%(who)s reopened tranche %(code)s") % values, detail=reason_words(change))
    words = changes_words(change, ignore=TRANCHE_APPROVAL_FIELDS, currency=currency)
    if not words:
        return None  # paid: the disbursement words it
    text = _("%(who)s changed tranche %(code)s: %(changes)s") % {**values, "changes": words}
    return Entry(at=change.at, text=text, detail=reason_words(change))


def disbursement_words(change: Change, viewer: Any) -> Entry | None:
    data = change.data
    values = {
        "who": change.who(),
        "amount": _money(data.get("amount"), data.get("currency")),
        "tranche": change.extra.get("tranche") or "?",
        "reference": data.get("reference") or "—",
        "day": day_words(data.get("paid_on")),
    }
    if change.is_insert:
        text = _(
            "%(who)s recorded a payment of %(amount)s for tranche %(tranche)s (ref %(reference)s), paid on %(day)s"
        )
        return Entry(at=change.at, text=text % values)
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s deleted the payment of %(amount)s for tranche %(tranche)s") % values)
    words = changes_words(change, currency=data.get("currency"), ignore=("recorded_by",))
    if not words:
        return None
    text = _("%(who)s changed the payment for tranche %(tranche)s: %(changes)s") % {**values, "changes": words}
    return Entry(at=change.at, text=text, detail=reason_words(change))


def contract_words(change: Change, viewer: Any) -> Entry | None:
    data = change.data
    values = {"who": change.who(), "reference": data.get("reference")}
    if change.is_insert:
        return Entry(at=change.at, text=_("%(who)s created contract %(reference)s") % values)
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s deleted contract %(reference)s") % values)
    words = changes_words(change, ignore=("created_at", "updated_at"), currency=data.get("currency"))
    if not words:
        return None
    text = _("%(who)s changed contract %(reference)s: %(changes)s") % {**values, "changes": words}
    return Entry(at=change.at, text=text, detail=reason_words(change))


def metric_words(change: Change, viewer: Any) -> Entry | None:
    data, currency = change.data, change.extra.get("currency")
    values = {"who": change.who(), "code": data.get("code")}
    if change.is_insert:
        price = _money(data.get("price"), currency) if data.get("price") is not None else _("price tiers")
        return Entry(at=change.at, text=_("%(who)s added metric %(code)s (%(price)s)") % {**values, "price": price})
    if change.is_delete:
        return Entry(at=change.at, text=_("%(who)s removed metric %(code)s") % values)
    words = changes_words(change, currency=currency)
    if not words:
        return None
    text = _("%(who)s changed metric %(code)s: %(changes)s") % {**values, "changes": words}
    return Entry(at=change.at, text=text, detail=reason_words(change))


DESCRIBERS: dict[type, Describer] = {
    RbfContract: contract_words,
    OutcomeMetric: metric_words,
    OutcomeClaim: claim_words,
    Verification: verification_words,
    PaymentLine: payment_line_words,
    Tranche: tranche_words,
    Disbursement: disbursement_words,
    ProviderRefund: refund_words,
    **worker_facts.DESCRIBERS,
}


# --- Readers -----------------------------------------------------------------------------------------------


def claim_timeline(*, claim: OutcomeClaim, viewer: Any, page: int = 1, per_page: int = PER_PAGE) -> Timeline:
    """A claim's history in words, newest first: one query for a page of it."""
    return timeline(claim_trails(claim_id=claim.pk), DESCRIBERS, viewer=viewer, page=page, per_page=per_page)


def contract_timeline(*, contract: RbfContract, viewer: Any, page: int = 1, per_page: int = PER_PAGE) -> Timeline:
    """A contract's history in words: its terms, metrics, tranches and payments."""
    trails = contract_trails(contract_id=contract.pk)
    return timeline(trails, DESCRIBERS, viewer=viewer, page=page, per_page=per_page)


def tranche_timeline(*, tranche: Tranche, viewer: Any, page: int = 1, per_page: int = PER_PAGE) -> Timeline:
    """A tranche's history in words: opened, approved, paid, reopened."""
    trails = tranche_trails(tranche_id=tranche.pk)
    return timeline(trails, DESCRIBERS, viewer=viewer, page=page, per_page=per_page)


def worker_timeline(*, worker_id: int, viewer: Any, page: int = 1, per_page: int = PER_PAGE) -> Timeline:
    """A worker's history in words: their facts (``workers.timeline``) and the claims made for them."""
    trails = [
        *worker_facts.worker_trails(worker_id=worker_id, viewer=viewer),
        *worker_claim_trails(worker_id=worker_id),
    ]
    return timeline(trails, DESCRIBERS, viewer=viewer, page=page, per_page=per_page)


def contract_history(*, contract: RbfContract, viewer: Any, query: Mapping[str, str]) -> dict[str, Any]:
    """What the contract page's history section shows, from its query string: ``?history=<page>`` and
    ``?history_tranche=<id>`` for one tranche's history (one of this contract's, else the whole contract's).
    Two queries: the contract's tranches, and a page of the history."""
    tranches = list(Tranche.objects.filter(contract=contract).order_by("start_date").values_list("pk", "code"))
    raw = str(query.get("history_tranche") or "")
    chosen = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    page = page_number(query.get("history"))
    if chosen is not None and chosen in {pk for pk, _code in tranches}:
        trails = tranche_trails(tranche_id=chosen)
    else:
        chosen, trails = None, contract_trails(contract_id=contract.pk)
    return {
        "timeline": timeline(trails, DESCRIBERS, viewer=viewer, page=page),
        "timeline_tranches": tranches,
        "timeline_tranche": chosen,
    }
