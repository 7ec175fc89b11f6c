"""Pages about workers: the staff dashboard's filterable list, and the worker's own check-in page.

The list is for staff only: it shows personal data, which funders never see and a recruiter reads through
the API for its own workers. One worker's page, which adds the claims made for them, belongs to the layer
above, which reads both workers and financing. The check-in page needs no account: its link is the key.
Each page translates the request and calls one selector or service.
"""

from __future__ import annotations

import csv
import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from lamp.access import dashboard_page
from lamp.listing import csv_response
from lamp.throttling import sliding_window_wait
from workers.checkins import CheckInForm
from workers.forms import WorkerFilterForm
from workers.imports import positive_int
from workers.models import CheckIn, CheckInLanguage
from workers.selectors import (
    COUNT_LIMIT,
    CSV_HEADER,
    PAGE_SIZE,
    WORKER_SORTING,
    worker_list_page,
    worker_list_rows,
)
from workers.services import (
    CheckInRefused,
    check_in_answer,
    check_in_field_links,
    check_in_language,
    check_in_open,
    check_in_secret_hash,
)


@require_GET
@dashboard_page()
def worker_list(request: HttpRequest) -> HttpResponse:
    """Workers newest first (or sorted by a column: ``?sort=name`` / ``-name``), 50 a page by cursor,
    narrowed by the filter form; a bad filter or sort value answers 400 with a message naming it, and no
    list."""
    form = WorkerFilterForm(request.GET, user=request.user)
    sort, refused = WORKER_SORTING.from_request(request.GET)
    context: dict[str, object] = {
        "nav": "workers",
        "form": form,
        "sort": sort,
        "sort_error": refused,
        "count_limit": COUNT_LIMIT,
        "page_size": PAGE_SIZE,
    }
    if not form.is_valid() or refused:
        return render(request, "dashboard/workers/worker_list.html", context, status=400)
    filters = form.filters()
    context["filtered"] = filters.any
    try:
        context["page"] = worker_list_page(
            user=request.user, filters=filters, cursor=form.cleaned_data["cursor"], sort=sort
        )
    except ValueError:
        form.add_error("cursor", _("This page link is damaged: start again from the first page."))
        return render(request, "dashboard/workers/worker_list.html", context, status=400)
    return render(request, "dashboard/workers/worker_list.html", context)


@require_GET
@dashboard_page()
def worker_list_csv(request: HttpRequest) -> HttpResponse:
    """The worker list as filtered and sorted, every page of it, as a streamed CSV file: the columns the
    list shows (the document number masked), nothing more. A bad filter or sort answers 400 naming it."""
    form = WorkerFilterForm(request.GET, user=request.user)
    sort, refused = WORKER_SORTING.from_request(request.GET)
    if not form.is_valid() or refused:
        lines = [refused] if refused else []
        lines += [f"{form.fields[name].label or name}: {' '.join(errors)}" for name, errors in form.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    rows = worker_list_rows(user=request.user, filters=form.filters(), sort=sort)
    return csv_response(filename="workers.csv", header=CSV_HEADER, rows=rows)


# --- The worker's check-in page: no account, a signed link, a cheap phone ----------------------------

LANGUAGE_CODES = frozenset(CheckInLanguage.values)
REFUSED_STATUS = {"unknown": 404, "expired": 410, "answered": 200, "busy": 429}


def _page_language(request: HttpRequest, check_in: CheckIn | None) -> str:
    """The language the page speaks: the worker's choice, else their browser's (when it asks for one of
    ours), else the check-in's (from the worker's record), else Spanish."""
    if check_in is not None and check_in.language_chosen:
        return check_in.language
    if request.headers.get("Accept-Language"):
        browser = translation.get_language_from_request(request)
        if browser in LANGUAGE_CODES:
            return browser
    return check_in.language if check_in is not None else CheckInLanguage.SPANISH


def _private(response: HttpResponse) -> HttpResponse:
    """The page's address holds the link's secret: never cached, indexed or passed on as a referrer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _refused(request: HttpRequest, reason: str, check_in: CheckIn | None, wait: float | None = None) -> HttpResponse:
    language = _page_language(request, check_in)
    with translation.override(language):
        response = render(
            request,
            "checkins/refused.html",
            {"reason": reason, "language": language},
            status=REFUSED_STATUS[reason],
        )
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    return _private(response)


# The link's secret is the worker's only credential, and knowing it is what a forged request would need:
# no CSRF cookie is asked of a phone that may not keep one.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, secret: str) -> HttpResponse:
    """A worker's check-in: the questions in their language, and a thank-you once answered."""
    address = request.META.get("REMOTE_ADDR", "")
    per_address = settings.CHECK_IN_RATE_PER_ADDRESS
    wait = sliding_window_wait(f"throttle:check-in:ip:{address}", allowed=per_address, duration=60)
    if wait is None and request.method == "POST":
        key = f"throttle:check-in:link:{check_in_secret_hash(secret)[:32]}"
        wait = sliding_window_wait(key, allowed=settings.CHECK_IN_POSTS_PER_LINK, duration=600)
    if wait is not None:
        return _refused(request, "busy", None, wait)
    try:
        found = check_in_open(secret=secret)
    except CheckInRefused as refused:
        return _refused(request, refused.reason, refused.check_in)
    chosen = request.GET.get("lang", "")
    if chosen in LANGUAGE_CODES:
        check_in_language(check_in=found, language=chosen)
    language = _page_language(request, found)
    with translation.override(language):
        data = request.POST if request.method == "POST" else None
        form = CheckInForm(data, moment=found.moment, worker=found.worker)
        if request.method == "POST" and form.is_valid():
            try:
                check_in_answer(check_in=found, answers=form.answers())
            except CheckInRefused as refused:
                return _refused(request, refused.reason, refused.check_in)
            response = render(request, "checkins/thanks.html", {"language": language})
            return _private(response)
        context = {
            "form": form,
            "check_in": found,
            "language": language,
            "languages": CheckInLanguage.choices,
        }
        status = 400 if request.method == "POST" else 200
        return _private(render(request, "checkins/check_in.html", context, status=status))


@require_GET
@dashboard_page()
def check_in_links_csv(request: HttpRequest) -> HttpResponse:
    """The open check-in links of workers with no email or phone, for the field team to hand out (``?pilot=``).
    What it lists counts as handed over: those links are sent."""
    rows = check_in_field_links(pilot_id=positive_int(request.GET.get("pilot", "")))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="check-in-links.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(["worker", "given names", "family names", "pilot", "moment", "language", "link", "expires"])
    for row in rows:
        writer.writerow(row)
    return response
