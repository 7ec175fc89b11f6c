from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from lamp.access import RECRUITER, STAFF, dashboard_page
from recruitment.models import Recruiter


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and Compose health checks: answers only when the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class LoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    redirect_authenticated_user = True


@dashboard_page(STAFF, "funder", RECRUITER)
def home(request: HttpRequest) -> HttpResponse:
    """Staff and funders start on the overview; a recruiter on its own scorecard."""
    if request.tenancy_kind == RECRUITER:  # set by dashboard_page
        recruiter = Recruiter.objects.filter(organisation_id=request.user.organisation_id).only("pk").first()
        if recruiter is not None:
            return redirect("recruitment:scorecard", pk=recruiter.pk)
        return redirect("recruitment:scorecards")
    return redirect("pilots:overview")
