"""Who may open which dashboard page.

The dashboard is for program staff and funders; a recruiter user lands on its own scorecard and nothing
else. Every page view is wrapped in ``dashboard_page(...)``, which names the tenancies the page admits:
an anonymous visitor goes to the login page, a logged-in user whose tenancy the page does not admit gets
a 403 page that says where to go instead. What a page shows within the tenancy is the business of the
``visible_to(user)`` querysets, exactly as in the API.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lamp.tenancy import Tenancy, tenancy_of

STAFF = "staff"
FUNDER = "funder"
RECRUITER = "recruiter"
EMPLOYER = "employer"

View = Callable[..., HttpResponse]


def tenancy_kind(tenancy: Tenancy) -> str | None:
    """``"staff"``, ``"funder"``, ``"recruiter"``, ``"employer"`` or ``None`` (nobody)."""
    if tenancy.staff:
        return STAFF
    if tenancy.recruiter is not None:
        return RECRUITER
    if tenancy.funder is not None:
        return FUNDER
    if tenancy.employer is not None:
        return EMPLOYER
    return None


def dashboard_page(*kinds: str) -> Callable[[View], View]:
    """Admit the given tenancies (``STAFF``, ``FUNDER``, ``RECRUITER``) to a page; staff always.

    Sets ``request.tenancy`` and ``request.tenancy_kind`` for the view and its templates.
    """
    admitted = {STAFF, *kinds}

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            tenancy = tenancy_of(request.user)
            kind = tenancy_kind(tenancy)
            request.tenancy = tenancy
            request.tenancy_kind = kind
            if kind not in admitted:
                return render(request, "dashboard/forbidden.html", {"kind": kind}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
