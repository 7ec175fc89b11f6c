"""Dashboard pages about workers: the filterable list. One worker's page, which adds the claims made for
them, belongs to the layer above, which reads both workers and financing.

Staff only: the list shows personal data, which funders never see and a recruiter reads through the API
for its own workers. Each page translates the request and calls one selector.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lamp.access import dashboard_page
from workers.forms import WorkerFilterForm
from workers.selectors import COUNT_LIMIT, PAGE_SIZE, worker_list_page


@dashboard_page()
def worker_list(request: HttpRequest) -> HttpResponse:
    """Workers newest first, 50 a page by cursor, narrowed by the filter form; a bad filter value
    answers 400 with the form's message for that field, and no list."""
    form = WorkerFilterForm(request.GET, user=request.user)
    context: dict[str, object] = {"nav": "workers", "form": form, "count_limit": COUNT_LIMIT, "page_size": PAGE_SIZE}
    if not form.is_valid():
        return render(request, "dashboard/workers/worker_list.html", context, status=400)
    filters = form.filters()
    context["filtered"] = filters.any
    context["page"] = worker_list_page(user=request.user, filters=filters, cursor=form.cleaned_data["cursor"])
    return render(request, "dashboard/workers/worker_list.html", context)
