"""A contract's history in words: loaded into the contract page by htmx once the page is shown, or a page of
its own without JavaScript.

Apart from the contract page so that page keeps its query budget, and the history is read only when asked
for: five queries whatever the length of the history (``financing.timeline.contract_history``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from financing import timeline
from financing.models import RbfContract
from lamp.access import FUNDER, RECRUITER, dashboard_page


@require_GET
@dashboard_page(FUNDER, RECRUITER)  # whoever reads the contract page reads its history
def contract_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The contract's history (``?history=<page>``, ``?history_tranche=<id>`` for one tranche's): the section
    alone for htmx, else a page with it."""
    contract = get_object_or_404(RbfContract.objects.visible_to(request.user), pk=pk)
    context = {
        "nav": "contracts",
        "contract": contract,
        **timeline.contract_history(contract=contract, viewer=request.user, query=request.GET),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "dashboard/_timeline.html", context)
    return render(request, "dashboard/financing/contract_history.html", context)
