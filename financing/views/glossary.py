"""The glossary of money: what verified, paid, awaiting payment, due, held back and overdue mean, for anyone
who reads the dashboard's figures (``financing.selectors.GLOSSARY``, defined once)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from financing.selectors import GLOSSARY
from lamp.access import EMPLOYER, FUNDER, RECRUITER, dashboard_page


@require_GET
@dashboard_page(FUNDER, RECRUITER, EMPLOYER)
def glossary(request: HttpRequest) -> HttpResponse:
    terms = [{"key": key, "term": term, "definition": definition} for key, term, definition in GLOSSARY]
    return render(request, "dashboard/financing/glossary.html", {"nav": "contracts", "terms": terms})
