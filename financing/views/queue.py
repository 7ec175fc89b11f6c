"""The verification queue, where staff decide the claims the automatic rules left, and the claims list.

The pages read through ``financing.selectors`` and decide through ``financing.services`` (which check
who may decide, write history and enqueue the schedule's recompute); here is only the translation of
requests into those calls. A decision is a plain form POST: with htmx it answers the item's new HTML
(the decision in one line, or the item again with the refusal and a 400/403); without, it redirects
back to the queue with a message, or shows the claim with the refusal.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from financing import list_selectors, selectors, services
from financing.forms import ClaimFilterForm, DecisionFilterForm, DecisionForm, QueueFilterForm, RejectForm
from financing.models import OutcomeClaim, OutcomeMetric, RbfContract, Verification
from lamp.access import dashboard_page
from lamp.listing import csv_response
from pilots.models import Pilot
from recruitment.models import Recruiter


@require_GET
@dashboard_page()
def queue(request: HttpRequest) -> HttpResponse:
    """Claims waiting for a decision: in review first, then the oldest claimed; 25 a page."""
    user = request.user
    contracts = selectors.contracts_with_waiting(user=user)
    pilots = list(Pilot.objects.visible_to(user).only("pk", "name").order_by("name"))
    form = QueueFilterForm(request.GET, contracts=contracts, pilots=pilots)
    valid = form.is_valid()
    chosen = form.filters
    shown = [
        c for c in contracts if chosen.get("contract") in (None, c.pk) and chosen.get("pilot") in (None, c.pilot_id)
    ]
    # The counts come with the contracts: the queue's total is theirs, so paging costs no count query.
    total = sum(c.waiting for c in shown) if valid else 0
    in_review = sum(c.in_review for c in shown) if valid else 0
    page = Paginator(range(total), selectors.QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    items = []
    if total:
        claims = selectors.claims_waiting(user=user, contract_id=chosen.get("contract"), pilot_id=chosen.get("pilot"))
        items = selectors.queue_items(claims=claims, offset=page.start_index() - 1, limit=len(page))
    context = {
        "nav": "queue",
        "form": form,
        "items": items,
        "page": page,
        "total": total,
        "in_review": in_review,
        "filtered": bool(chosen),
        "next_url": request.get_full_path(),
    }
    return render(request, "dashboard/financing/queue.html", context, status=200 if valid else 400)


@require_POST
@dashboard_page()
def claim_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """Verify a claim (one click): the contract's schedule is recomputed by the job the service enqueues."""
    claim = get_object_or_404(OutcomeClaim.objects.visible_to(request.user), pk=pk)
    form = DecisionForm(request.POST, host=request.get_host())
    next_url = form.cleaned_data["next"] if form.is_valid() else ""
    try:
        services.claim_verify(claim=claim, user=request.user, recompute=True)
    except (ValidationError, PermissionDenied) as refused:
        return _refused(request, pk=pk, refused=refused, next_url=next_url)
    return _decided(request, pk=pk, outcome=_("Verified — the schedule will update"), next_url=next_url)


@require_POST
@dashboard_page()
def claim_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a claim with the reason the provider will read; without a reason, nothing changes."""
    claim = get_object_or_404(OutcomeClaim.objects.visible_to(request.user), pk=pk)
    form = RejectForm(request.POST, host=request.get_host())
    if not form.is_valid():
        refused = ValidationError([m for messages_ in form.errors.values() for m in messages_])
        return _refused(request, pk=pk, refused=refused, next_url=form.cleaned_data.get("next", ""))
    reason = form.cleaned_data["reason"]
    try:
        services.claim_reject(claim=claim, user=request.user, reason=reason)
    except (ValidationError, PermissionDenied) as refused:
        return _refused(request, pk=pk, refused=refused, next_url=form.cleaned_data["next"], reason=reason)
    return _decided(
        request, pk=pk, outcome=_("Rejected: %(reason)s") % {"reason": reason}, next_url=form.cleaned_data["next"]
    )


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _item(request: HttpRequest, pk: int) -> selectors.QueueItem:
    claims = OutcomeClaim.objects.visible_to(request.user).filter(pk=pk)
    return selectors.queue_items(claims=claims)[0]


def _decided(request: HttpRequest, *, pk: int, outcome: str, next_url: str) -> HttpResponse:
    item = _item(request, pk)
    if _is_htmx(request):
        return render(request, "dashboard/financing/queue_item.html", {"item": item, "outcome": outcome})
    messages.success(
        request,
        _("%(worker)s · %(code)s: %(outcome)s.")
        % {"worker": item.claim.worker, "code": item.claim.metric.code, "outcome": outcome},
    )
    return redirect(next_url or reverse("financing:queue"))


def _refused(
    request: HttpRequest, *, pk: int, refused: ValidationError | PermissionDenied, next_url: str, reason: str = ""
) -> HttpResponse:
    """The claim again, with why nothing changed: 403 for a rule about who may decide, else 400."""
    status = 403 if isinstance(refused, PermissionDenied) else 400
    error = str(refused) if isinstance(refused, PermissionDenied) else " ".join(refused.messages)
    context = {
        "nav": "queue",
        "item": _item(request, pk),
        "error": _("Nothing changed. %(error)s") % {"error": error},
        "next_url": next_url or reverse("financing:queue"),
        "reason": reason,
    }
    template = "queue_item.html" if _is_htmx(request) else "queue_decide.html"
    return render(request, f"dashboard/financing/{template}", context, status=status)


def _claim_filters(request: HttpRequest) -> tuple[ClaimFilterForm, bool]:
    """The claims list's filter form, bound and checked, with the choices the viewer may see: four queries."""
    user = request.user
    contracts = list(RbfContract.objects.visible_to(user).only("pk", "reference", "name").order_by("reference"))
    metrics = list(
        OutcomeMetric.objects.visible_to(user)
        .select_related("contract")
        .only("pk", "code", "name", "contract__reference")
        .order_by("contract__reference", "position", "code")
    )
    recruiters = list(Recruiter.objects.visible_to(user).select_related("organisation").order_by("organisation__name"))
    pilots = list(Pilot.objects.visible_to(user).only("pk", "name").order_by("name"))
    form = ClaimFilterForm(request.GET, contracts=contracts, metrics=metrics, recruiters=recruiters, pilots=pilots)
    return form, form.is_valid()


def _refusals(form: Any, refused: str) -> str:
    """A CSV request's refusals as plain text, each naming its parameter."""
    return "\n".join(([refused] if refused else []) + list(form.error_lines))


@require_GET
@dashboard_page()
def claim_list(request: HttpRequest) -> HttpResponse:
    """Every claim staff can see, filtered by contract, metric, status, recruiter and pilot, the newest
    claim first or sorted by a column (``?sort=amount`` / ``-amount``); 50 a page, each with what its
    payment lines pay. A bad filter or sort answers 400 naming it."""
    form, valid = _claim_filters(request)
    sort, refused = list_selectors.CLAIM_SORTING.from_request(request.GET)
    valid = valid and not refused
    claims = selectors.claims_listed(user=request.user, **form.filters) if valid else OutcomeClaim.objects.none()
    page = Paginator(claims, selectors.CLAIMS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    if page.paginator.count:
        rows = list_selectors.claim_page(
            claims=claims, sort=sort, offset=page.start_index() - 1, limit=selectors.CLAIMS_PAGE_SIZE
        )
    context = {
        "nav": "queue",
        "form": form,
        "page": page,
        "claims": rows,
        "filtered": bool(form.filters),
        "sort": sort,
        "sort_error": refused,
    }
    return render(request, "dashboard/financing/claims.html", context, status=200 if valid else 400)


@require_GET
@dashboard_page()
def claim_list_csv(request: HttpRequest) -> HttpResponse:
    """The claims list as filtered and sorted, every page of it, as a streamed CSV file."""
    form, valid = _claim_filters(request)
    sort, refused = list_selectors.CLAIM_SORTING.from_request(request.GET)
    if not valid or refused:
        return HttpResponse(_refusals(form, refused), status=400, content_type="text/plain; charset=utf-8")
    claims = selectors.claims_listed(user=request.user, **form.filters)
    return csv_response(
        filename="claims.csv",
        header=list_selectors.CLAIM_CSV_HEADER,
        rows=list_selectors.claim_csv_rows(claims=claims, sort=sort),
    )


#: Automatic decisions on one page.
DECISIONS_PAGE_SIZE = 50


def _decision_filters(request: HttpRequest) -> tuple[DecisionFilterForm, bool]:
    contracts = list(RbfContract.objects.visible_to(request.user).only("pk", "reference", "name").order_by("reference"))
    form = DecisionFilterForm(request.GET, contracts=contracts)
    return form, form.is_valid()


@require_GET
@dashboard_page()
def decisions(request: HttpRequest) -> HttpResponse:
    """What the automatic rules verified, sent to review or reversed, newest first (or sorted by a column),
    on which facts; 50 a page."""
    form, valid = _decision_filters(request)
    sort, refused = list_selectors.DECISION_SORTING.from_request(request.GET)
    valid = valid and not refused
    rows = selectors.automatic_decisions(user=request.user, **form.filters) if valid else Verification.objects.none()
    page = Paginator(rows.order_by(*sort.order_by()), DECISIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(row, selectors.facts_in_words(row.facts)) for row in page.object_list]
    context = {
        "nav": "queue",
        "form": form,
        "page": page,
        "items": items,
        "filtered": any(form.filters.values()),
        "sort": sort,
        "sort_error": refused,
    }
    return render(request, "dashboard/financing/decisions.html", context, status=200 if valid else 400)


@require_GET
@dashboard_page()
def decisions_csv(request: HttpRequest) -> HttpResponse:
    """The automatic decisions as filtered and sorted, every page of them, as a streamed CSV file."""
    form, valid = _decision_filters(request)
    sort, refused = list_selectors.DECISION_SORTING.from_request(request.GET)
    if not valid or refused:
        return HttpResponse(_refusals(form, refused), status=400, content_type="text/plain; charset=utf-8")
    rows = selectors.automatic_decisions(user=request.user, **form.filters)
    return csv_response(
        filename="automatic-decisions.csv",
        header=list_selectors.DECISION_CSV_HEADER,
        rows=list_selectors.decision_csv_rows(decisions=rows, sort=sort),
    )
