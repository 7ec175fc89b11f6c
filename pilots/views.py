"""Dashboard pages: the overview of every pilot, and one pilot's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from lamp.access import FUNDER, dashboard_page
from pilots import selectors
from pilots.models import Pilot


@dashboard_page(FUNDER)
def overview(request: HttpRequest) -> HttpResponse:
    """Every pilot the viewer sees, with its figures, and the totals over them."""
    return render(
        request,
        "dashboard/pilots/overview.html",
        {"nav": "overview", "overview": selectors.pilots_overview(user=request.user)},
    )


@dashboard_page(FUNDER)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pilot: its funnel, outcomes over time, recruiters and contracts; 404 for a pilot the viewer cannot see."""
    pilot = get_object_or_404(Pilot.objects.visible_to(request.user).select_related("sector"), pk=pk)
    return render(
        request,
        "dashboard/pilots/detail.html",
        {"nav": "overview", "page": selectors.pilot_page(pilot=pilot, user=request.user)},
    )
