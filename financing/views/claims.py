"""One claim's page, staff's decisions on it after the queue (reverse, reopen), and running the verification
rules for a contract now.

The claim page shows the claim (metric and its terms, worker, status and reasons), what the schedule pays
for it (its payment lines: which tranche, payments and adjustments, any part capped and why) and every
verification of it (who or which rule decided, when, why, on which facts). It runs a fixed number of
queries whatever the number of lines and verifications.

Every action calls one service of ``financing.services``, the same the API, the admin and the jobs call,
and redirects back with the outcome in a message; a refusal is the page again, with the service's words
under the form (400, or 403 for a rule about who may act) and nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from financing import selectors, services
from financing.forms import ReopenForm, ReverseForm
from financing.models import (
    ContractStatus,
    LineKind,
    OutcomeClaim,
    PaymentLine,
    RbfContract,
    TrancheStatus,
    Verification,
)
from financing.timeline import claim_timeline
from lamp.access import dashboard_page
from lamp.history import page_number

#: Personal data the claim page never needs: not read, not decrypted.
_PRIVATE = ("worker__phone", "worker__identity_document_number", "worker__date_of_birth", "worker__email")
FROZEN = (TrancheStatus.APPROVED, TrancheStatus.PAID)


@dataclass
class ClaimPage:
    """A claim with its payment lines (by tranche, payments before adjustments), its verifications (oldest
    first, each with its facts in words), and whether the viewer may reopen its decision now, or why not."""

    claim: OutcomeClaim
    terms: str
    lines: list[PaymentLine] = field(default_factory=list)
    verifications: list[tuple[Verification, selectors.FactLines]] = field(default_factory=list)
    reopen_refusal: str | None = None

    @property
    def net(self) -> Decimal:
        """What the schedule pays for the claim in all: its payments and adjustments together."""
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def capped(self) -> Decimal:
        return sum((line.capped for line in self.lines if line.kind == LineKind.PAYMENT), Decimal(0))

    @property
    def adjustments(self) -> list[PaymentLine]:
        return [line for line in self.lines if line.kind == LineKind.ADJUSTMENT]


def claim_page(*, user: Any, pk: int) -> ClaimPage:
    """Claim ``pk`` as ``user`` may see it, with its lines and verifications: three queries. ``Http404``
    for a claim the user does not see."""
    claims = (
        OutcomeClaim.objects.visible_to(user)
        .select_related(
            "metric__contract__pilot",
            "metric__contract__payer",
            "metric__contract__provider",
            "metric__denominator_metric",
            "worker__recruiter__organisation",
            "claimed_by",
        )
        .defer(*_PRIVATE)
    )
    claim = get_object_or_404(claims, pk=pk)
    lines = list(
        PaymentLine.objects.filter(claim=claim).select_related("tranche").order_by("tranche__start_date", "-kind", "id")
    )
    verifications = list(claim.verifications.select_related("decided_by").order_by("decided_at", "id"))
    frozen = [(line.tranche.code, line.tranche.status) for line in lines if line.tranche.status in FROZEN]
    refusal = services.claim_reopen_refusal(
        claim=claim,
        latest=verifications[-1] if verifications else None,
        frozen=frozen,
        user=user,
        now=timezone.now(),
    )
    return ClaimPage(
        claim=claim,
        terms=selectors.metric_terms(claim.metric),
        lines=lines,
        verifications=[(row, selectors.facts_in_words(row.facts)) for row in verifications],
        reopen_refusal=refusal,
    )


def _render(
    request: HttpRequest,
    pk: int,
    *,
    reverse_form: forms.Form | None = None,
    reopen_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    page = claim_page(user=request.user, pk=pk)
    context = {
        "nav": "queue",
        "page": page,
        "claim": page.claim,
        "contract": page.claim.metric.contract,
        "reverse_form": reverse_form or ReverseForm(auto_id="reverse-%s"),
        "reopen_form": reopen_form or ReopenForm(auto_id="reopen-%s"),
        "undo_minutes": services.undo_minutes(),
        "timeline": claim_timeline(claim=page.claim, viewer=request.user, page=page_number(request.GET.get("history"))),
    }
    return render(request, "dashboard/financing/claim_detail.html", context, status=status)


@require_GET
@dashboard_page()
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One claim: what it is, what the schedule pays for it, every decision on it; reverse or reopen it."""
    return _render(request, pk)


def _refused(
    request: HttpRequest, pk: int, *, form: forms.Form, error: ValidationError | PermissionDenied, name: str
) -> HttpResponse:
    """The page again with why nothing changed under the form: 403 for who may act, else 400."""
    if isinstance(error, PermissionDenied):
        form.add_error(None, str(error) or _("You may not do this."))
        status = 403
    else:
        named = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
        for name_, errors in named:
            form.add_error(name_ if name_ in form.fields else None, errors)
        status = 400
    return _render(request, pk, status=status, **{name: form})


@require_POST
@dashboard_page()
def claim_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Reverse a verified claim with a reason; the schedule claws back what it was paid (an adjustment line
    in the earliest open tranche when its tranche is frozen)."""
    claim = get_object_or_404(OutcomeClaim.objects.visible_to(request.user), pk=pk)
    form = ReverseForm(request.POST, auto_id="reverse-%s")
    if not form.is_valid():
        return _render(request, pk, reverse_form=form, status=400)
    try:
        services.claim_reverse(claim=claim, user=request.user, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, pk, form=form, error=error, name="reverse_form")
    messages.success(
        request,
        _("Claim %(id)s reversed: %(reason)s. The schedule claws back what it was paid.")
        % {"id": claim.pk, "reason": form.cleaned_data["reason"]},
    )
    return redirect(reverse("financing:claim", args=[claim.pk]) + "#lines")


@require_POST
@dashboard_page()
def claim_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo one's own verification or rejection within the undo window: the claim waits for a decision again."""
    claim = get_object_or_404(OutcomeClaim.objects.visible_to(request.user), pk=pk)
    form = ReopenForm(request.POST, auto_id="reopen-%s")
    if not form.is_valid():
        return _render(request, pk, reopen_form=form, status=400)
    try:
        services.claim_reopen(claim=claim, user=request.user, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, pk, form=form, error=error, name="reopen_form")
    messages.success(
        request, _("Claim %(id)s reopened: it is back in the verification queue, in review.") % {"id": claim.pk}
    )
    return redirect(reverse("financing:claim", args=[claim.pk]))


@require_POST
@dashboard_page()
def contract_verify_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the automatic verification rules over the contract's waiting claims now (the nightly job's work);
    what they verified is then in the schedule, recomputed by the job the service enqueues."""
    contract = get_object_or_404(RbfContract.objects.visible_to(request.user).only("pk", "status", "reference"), pk=pk)
    url = reverse("financing:contract", args=[contract.pk])
    if contract.status != ContractStatus.ACTIVE:
        messages.error(
            request,
            _("The rules run on an active contract's claims; %(reference)s is %(status)s.")
            % {"reference": contract.reference, "status": contract.get_status_display().lower()},
        )
        return redirect(url)
    run = services.verify_pending_claims(contract_id=contract.pk)
    text = _("The rules verified %(verified)s, sent %(review)s to review, %(waiting)s still wait.") % run.as_dict()
    if run.review:
        text += " " + _("The claims sent to review are first in the verification queue.")
    messages.success(request, text)
    return redirect(url)
