"""Dashboard pages that combine the apps: the home page, the overview of every pilot and one pilot's page,
the recruiter scorecards, and one worker's page with the claims made for them.

Each view translates the request and calls the selectors of ``programme.selectors``; who may open a page
is ``lamp.access.dashboard_page``'s, what a viewer sees of it the ``visible_to(user)`` querysets'.

The scorecards are ``recruiter_scorecards`` (the same figures as the API's ``/api/v1/scorecard/``), for the
recruiters the viewer may read (``scorecard_recruiters``): program staff every recruiter, a funder those
providing a contract it pays (with claims and amounts counted under its own contracts only), a recruiter
user its own. Both scorecard pages run a fixed number of queries whatever the number of recruiters,
workers, claims or payment lines; sorting and totals work on the few scorecards in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from financing.models import ClaimStatus
from lamp.access import FUNDER, RECRUITER, STAFF, dashboard_page
from pilots.models import Pilot
from pilots.stages import EXITS, PATH
from programme.selectors import (
    LICENCE_WARNING_DAYS,
    RETENTION_DAYS,
    Amounts,
    FeeTotal,
    LicenceStatus,
    Scorecard,
    fees_withheld,
    licence_status,
    pilot_page,
    pilots_overview,
    recruiter_pilots,
    recruiter_scorecards,
    scorecard_recruiters,
    scorecard_totals,
    worker_page,
)
from programme.worker_actions import worker_context
from recruitment.models import Certification, Recruiter
from workers.models import FeeCategory, PersonalDataAccess, Worker


@dashboard_page(STAFF, FUNDER, RECRUITER)
def home(request: HttpRequest) -> HttpResponse:
    """Staff and funders start on the overview; a recruiter on its portal (``programme.portal``)."""
    if request.tenancy_kind == RECRUITER:  # set by dashboard_page
        return redirect("programme:portal")
    return redirect("programme:overview")


# --- The overview and the pilot page -------------------------------------------------------------------


@dashboard_page(FUNDER)
def overview(request: HttpRequest) -> HttpResponse:
    """Every pilot the viewer sees, with its figures, and the totals over them."""
    return render(
        request,
        "dashboard/programme/overview.html",
        {"nav": "overview", "overview": pilots_overview(user=request.user)},
    )


@dashboard_page(FUNDER)
def pilot(request: HttpRequest, pk: int) -> HttpResponse:
    """One pilot: its funnel, outcomes over time, recruiters and contracts; 404 for a pilot the viewer cannot see."""
    pilot = get_object_or_404(Pilot.objects.visible_to(request.user).select_related("sector"), pk=pk)
    return render(
        request,
        "dashboard/programme/pilot.html",
        {"nav": "overview", "page": pilot_page(pilot=pilot, user=request.user)},
    )


# --- One worker ------------------------------------------------------------------------------------------

#: How many of a worker's latest reveals the access log section lists (every one is in the admin and the API).
ACCESS_LOG_ROWS = 100


@dashboard_page()
def worker(request: HttpRequest, pk: int) -> HttpResponse:
    """One worker: facts (personal data masked: a logged reveal shows it, ``worker_actions.personal_data_reveal``),
    the access log of those reveals, journey, employment, training, evidence, fee reports and claims. 404 for a
    worker the user does not see."""
    try:
        page = worker_page(user=request.user, pk=pk)
    except Worker.DoesNotExist:
        raise Http404("No such worker.") from None
    # With its history in words and the forms of staff's actions on the worker, each posting to its own view:
    # programme.worker_actions, which renders the same page again when an action is refused.
    return render(request, "dashboard/programme/worker.html", worker_context(request, page))


@require_GET
@dashboard_page()
def worker_access_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The worker's access log (every reveal of their personal data, newest first): the section alone for htmx
    (loaded into the worker's page once shown, and again after a reveal), else a page with it. Apart from the
    worker's page so that page keeps its query budget; the admin lists every worker's."""
    worker = get_object_or_404(Worker.objects.visible_to(request.user).only("id", "given_names", "family_names"), pk=pk)
    context = {
        "nav": "workers",
        "worker": worker,
        "access_log": list(
            PersonalDataAccess.objects.filter(worker_id=worker.pk).select_related("user")[:ACCESS_LOG_ROWS]
        ),
        "access_log_rows": ACCESS_LOG_ROWS,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "dashboard/programme/_access_log.html", context)
    return render(request, "dashboard/programme/access_log.html", context)


# --- Recruiter scorecards -------------------------------------------------------------------------------

PAGE_SIZE = 50

#: The orders of the comparison table: ``?sort=<key>`` ascending, ``?sort=-<key>`` descending.
SORTS: dict[str, Callable[[Scorecard], Any]] = {
    "name": lambda card: card.name.casefold(),
    "workers": lambda card: card.workers,
    "placed": lambda card: card.placed,
    "placement": lambda card: card.placement_rate,
    "retention": lambda card: card.retention_rate,
    "fees": lambda card: card.workers_with_fees,
    "verified": lambda card: card.claims_by_status[ClaimStatus.VERIFIED],
    "rejected": lambda card: card.claims_by_status[ClaimStatus.REJECTED],
    "in_review": lambda card: card.claims_in_review,
}
DEFAULT_SORT = "name"
CERTIFICATIONS = dict(Certification.choices)
FEE_CATEGORIES = dict(FeeCategory.choices)
#: Column headings of the fee comparison (the full ILO category name is the heading's title).
FEE_SHORT = {
    FeeCategory.RECRUITMENT_FEE: pgettext_lazy("fee category, a column heading", "Recruitment fee"),
    FeeCategory.MEDICAL: pgettext_lazy("fee category, a column heading", "Medical"),
    FeeCategory.INSURANCE: pgettext_lazy("fee category, a column heading", "Insurance"),
    FeeCategory.SKILLS_TESTS: pgettext_lazy("fee category, a column heading", "Skills tests"),
    FeeCategory.TRAINING: pgettext_lazy("fee category, a column heading", "Training"),
    FeeCategory.EQUIPMENT: pgettext_lazy("fee category, a column heading", "Equipment"),
    FeeCategory.TRAVEL_LODGING: pgettext_lazy("fee category, a column heading", "Travel, lodging"),
    FeeCategory.ADMINISTRATIVE: pgettext_lazy("fee category, a column heading", "Admin. costs"),
    FeeCategory.ILLEGITIMATE: pgettext_lazy("fee category, a column heading", "Illegitimate"),
    FeeCategory.OTHER: pgettext_lazy("fee category, a column heading", "Other"),
}


def _sorted(cards: list[Scorecard], sort: str) -> list[Scorecard]:
    """``cards`` in the order ``sort`` names (a key of ``SORTS``, ``-`` for descending); ties by name, and a
    missing rate (nobody to count) last whichever the direction."""
    descending = sort.startswith("-")
    key = SORTS[sort.removeprefix("-")]
    by_name = sorted(cards, key=SORTS["name"])
    known = [card for card in by_name if key(card) is not None]
    unknown = [card for card in by_name if key(card) is None]
    return sorted(known, key=key, reverse=descending) + unknown


def _sort_from(raw: str) -> tuple[str, str | None]:
    """The sort order to apply and, for a value that names none, a message saying it was ignored."""
    if raw.removeprefix("-") in SORTS:
        return raw, None
    if not raw:
        return DEFAULT_SORT, None
    return DEFAULT_SORT, _("“%(value)s” is not a column to sort by: sorted by recruiter name.") % {"value": raw[:40]}


def _columns(sort: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the ``sort`` value its header links to (a second click reverses the order;
    names start A→Z, figures highest first), its ``aria-sort`` and an arrow when it is the current order."""
    columns = {}
    for key in SORTS:
        if sort == key:
            columns[key] = {"param": f"-{key}", "aria": "ascending", "arrow": " ▲"}
        elif sort == f"-{key}":
            columns[key] = {"param": key, "aria": "descending", "arrow": " ▼"}
        else:
            columns[key] = {"param": key if key == "name" else f"-{key}", "aria": "none", "arrow": ""}
    return columns


def _pilot_from(raw: str, pilots: list[Pilot]) -> tuple[Pilot | None, str | None]:
    """The pilot ``?pilot=<id>`` names among those the viewer sees, or a message saying it was ignored."""
    if not raw:
        return None, None
    if raw.isascii() and raw.isdigit():
        for pilot in pilots:
            if pilot.pk == int(raw):
                return pilot, None
    return None, _("There is no such pilot among yours: showing every recruiter.")


def _fee_rows(fees: list[FeeTotal]) -> list[dict[str, Any]]:
    return [{"label": FEE_CATEGORIES[fee.category], "fee": fee} for fee in fees]


def _fee_cells(fees: list[FeeTotal], categories: list[str]) -> list[list[FeeTotal]]:
    """The fees of one scorecard as cells under the given category columns (one cell may hold currencies)."""
    return [[fee for fee in fees if fee.category == category] for category in categories]


def _amount_rows(amounts: dict[str, Amounts]) -> list[Amounts]:
    return [amounts[currency] for currency in sorted(amounts)]


@dataclass
class _Row:
    """One recruiter in the comparison: its scorecard, profile and what the tables show of them."""

    card: Scorecard
    recruiter: Recruiter
    fee_cells: list[list[FeeTotal]]

    @property
    def licence(self) -> LicenceStatus:
        return licence_status(recruiter=self.recruiter)

    @property
    def fee_reports(self) -> int:
        return sum(fee.reports for fee in self.card.fees)


@dashboard_page(FUNDER, RECRUITER)
def scorecards(request: HttpRequest) -> HttpResponse:
    """Every recruiter the viewer may read, side by side; a recruiter user goes to its own scorecard."""
    if request.tenancy.recruiter is not None:
        own = scorecard_recruiters(user=request.user).values_list("pk", flat=True).first()
        if own is not None:
            return redirect("programme:scorecard", pk=own)
        return render(request, "dashboard/programme/no_profile.html", {"nav": "recruiters"})

    pilots = list(Pilot.objects.visible_to(request.user).only("pk", "name").order_by("name", "pk"))
    pilot, pilot_error = _pilot_from(request.GET.get("pilot", "").strip(), pilots)
    sort, sort_error = _sort_from(request.GET.get("sort", "").strip())

    recruiters = list(scorecard_recruiters(user=request.user, pilot_id=pilot.pk if pilot else None))
    by_id = {recruiter.pk: recruiter for recruiter in recruiters}
    cards = _sorted(recruiter_scorecards(recruiters=recruiters, payer_id=request.tenancy.funder), sort)
    page = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
    reported = {fee.category for card in cards for fee in card.fees}
    categories = [category for category in FeeCategory.values if category in reported]
    rows = [
        _Row(card=card, recruiter=by_id[card.recruiter_id], fee_cells=_fee_cells(card.fees, categories))
        for card in page.object_list
    ]

    currencies = sorted({currency for card in cards for currency in card.amounts})
    totals = scorecard_totals(cards)
    earned = []
    for currency in currencies:
        shown = [(row, row.card.amounts[currency]) for row in rows if currency in row.card.amounts]
        if not shown:  # earned only by recruiters on other pages
            continue
        earned.append(
            {
                "currency": currency,
                "rows": shown,
                "max": max((a.verified for _, a in shown), default=Decimal(0)),
                "total": totals.amounts[currency] if len(shown) > 1 or page.paginator.num_pages > 1 else None,
            }
        )
    return render(
        request,
        "dashboard/programme/scorecards.html",
        {
            "nav": "recruiters",
            "staff": request.tenancy.staff,
            "pilots": pilots,
            "pilot": pilot,
            "messages_inline": [m for m in (pilot_error, sort_error) if m],
            "sort": sort,
            "columns": _columns(sort),
            "page": page,
            "rows": rows,
            "earned": earned,
            "totals": totals,
            "fee_columns": [
                {"label": FEE_CATEGORIES[category], "short": FEE_SHORT.get(category, category)}
                for category in categories
            ],
            "total_fee_cells": _fee_cells(totals.fees, categories),
            "total_fee_reports": sum(fee.reports for fee in totals.fees),
            "retention_days": RETENTION_DAYS,
        },
    )


@dashboard_page(FUNDER, RECRUITER)
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    """One recruiter's scorecard: profile and licence, workers per stage, placement and retention in words,
    fee reports, claims, amounts and its pilots. Another organisation's recruiter is a 404."""
    recruiter = get_object_or_404(scorecard_recruiters(user=request.user), pk=pk)
    (card,) = recruiter_scorecards(recruiters=[recruiter], payer_id=request.tenancy.funder)
    assignments = recruiter_pilots(recruiter=recruiter, user=request.user)

    stages = [
        {"stage": stage.value, "label": stage.label, "n": card.workers_by_stage[stage], "exit": stage in EXITS}
        for stage in (*PATH, *EXITS)
    ]
    amounts = [{"entry": entry} for entry in _amount_rows(card.amounts)]
    # A recruiter reading its own scorecard sees the fee figures only over at least five reporting workers.
    withheld = request.tenancy.recruiter is not None and fees_withheld(card)
    fee_reports = 0 if withheld else sum(fee.reports for fee in card.fees)
    claims = [
        {"status": status.value, "label": status.label, "n": card.claims_by_status[status]} for status in ClaimStatus
    ]
    return render(
        request,
        "dashboard/programme/scorecard.html",
        {
            "nav": "recruiters",
            "recruiter": recruiter,
            "card": card,
            "staff": request.tenancy.staff,
            "own": request.tenancy.recruiter is not None,
            "licence": licence_status(recruiter=recruiter),
            "licence_warning_days": LICENCE_WARNING_DAYS,
            "certifications": [CERTIFICATIONS.get(value, value) for value in recruiter.certifications],
            "stages": stages,
            "fees": [] if withheld else _fee_rows(card.fees),
            "fees_withheld": withheld,
            "fee_reports": fee_reports,
            "claims": claims,
            "claims_total": sum(card.claims_by_status.values()),
            "amounts": amounts,
            "assignments": assignments,
            "retention_days": RETENTION_DAYS,
        },
    )
