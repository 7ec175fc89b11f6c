"""The recruiter portal: a partner recruiter's own workers, claims, contracts and API tokens, in the browser.

The same tenancy as the API (``visible_to(user)``, read in ``programme.portal_selectors``): a recruiter
sees its own records, another organisation's are a 404. Pages are read-only but for the API tokens,
which a user issues and revokes for itself through ``lamp.tokens`` (staff may use that page too). The
contract page and its schedule CSV are the dashboard's own (``financing.views.contracts``), open to the
contract's provider read-only; the scorecard is ``programme.views.scorecard``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from financing.models import RbfContract
from lamp.access import RECRUITER, dashboard_page
from lamp.models import ApiToken
from lamp.tokens import api_token_create, api_token_revoke
from pilots.models import Pilot
from pilots.stages import EXITS, Stage
from programme import portal_selectors as reads
from workers.models import Worker
from workers.selectors import COUNT_LIMIT, Cursor, WorkerFilters

#: The most days a token may be issued for from the portal (about ten years); empty is no expiry.
MAX_TOKEN_DAYS = 3650
TOKENS_PAGE_SIZE = 50


# --- Home ------------------------------------------------------------------------------------------------


@require_GET
@dashboard_page(RECRUITER)
def home(request: HttpRequest) -> HttpResponse:
    """What the recruiter has at a glance: workers by stage, claims by state, what its contracts will pay
    when, with links to each list, its scorecard and its API tokens."""
    return render(
        request, "dashboard/portal/home.html", {"nav": "portal", "home": reads.portal_home(user=request.user)}
    )


# --- Workers ---------------------------------------------------------------------------------------------


class WorkerSearchForm(forms.Form):
    """The portal's worker filters: search, pilot and stage only (never what a worker reported)."""

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "A name, or an exact identity document number (optionally with its country: GT:P12345678)."
        ),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("Name or document number")}),
    )
    pilot = forms.TypedChoiceField(
        label=gettext_lazy("Pilot"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": gettext_lazy("There is no pilot with id %(value)s among yours.")},
    )
    stage = forms.ChoiceField(
        label=gettext_lazy("Stage"),
        required=False,
        choices=[("", gettext_lazy("Any stage")), *Stage.choices],
        error_messages={"invalid_choice": gettext_lazy("“%(value)s” is not a stage of the journey.")},
    )
    cursor = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pilots = Pilot.objects.visible_to(user).order_by("name").values_list("pk", "name")
        self.fields["pilot"].choices = [("", _("Any pilot")), *pilots]

    def clean_cursor(self) -> Cursor | None:
        value = self.cleaned_data.get("cursor", "")
        if not value:
            return None
        try:
            return Cursor.parse(value)
        except ValueError:
            raise ValidationError(
                _("This page link is damaged: start again from the first page."), code="invalid"
            ) from None

    def filters(self) -> WorkerFilters:
        data = self.cleaned_data
        return WorkerFilters(pilot=data["pilot"], stage=data["stage"], q=data["q"])


@require_GET
@dashboard_page(RECRUITER)
def workers(request: HttpRequest) -> HttpResponse:
    """The recruiter's workers with their journey stage, newest first, 50 a page by cursor; a bad filter
    is a 400 naming its field."""
    form = WorkerSearchForm(request.GET, user=request.user)
    context: dict[str, Any] = {"nav": "portal-workers", "form": form, "count_limit": COUNT_LIMIT}
    if not form.is_valid():
        return render(request, "dashboard/portal/workers.html", context, status=400)
    filters = form.filters()
    context["filtered"] = filters.any
    context["page"] = reads.portal_workers_page(user=request.user, filters=filters, cursor=form.cleaned_data["cursor"])
    return render(request, "dashboard/portal/workers.html", context)


@require_GET
@dashboard_page(RECRUITER)
def worker(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the recruiter's workers: the journey and the claims made for them; another's is a 404."""
    try:
        page = reads.portal_worker(user=request.user, pk=pk)
    except Worker.DoesNotExist:
        raise Http404(_("No such worker.")) from None
    context = {"nav": "portal-workers", "d": page, "exits": [stage.value for stage in EXITS]}
    return render(request, "dashboard/portal/worker.html", context)


# --- Claims ----------------------------------------------------------------------------------------------


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *reads.CLAIM_FILTERS.items()],
        error_messages={"invalid_choice": gettext_lazy("“%(value)s” is not a claim status.")},
    )
    contract = forms.TypedChoiceField(
        label=gettext_lazy("Contract"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": gettext_lazy("There is no contract with id %(value)s among yours.")},
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def __init__(self, *args: Any, contracts: list[RbfContract], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"].choices = [("", _("Any contract")), *((c.pk, c.reference) for c in contracts)]


@require_GET
@dashboard_page(RECRUITER)
def claims(request: HttpRequest) -> HttpResponse:
    """The recruiter's claims with their status and, for rejected and reversed ones, the reason; for those
    that wait, what they wait for; 50 a page, filtered by status and contract."""
    contracts = list(RbfContract.objects.visible_to(request.user).only("pk", "reference").order_by("reference"))
    form = ClaimFilterForm(request.GET, contracts=contracts)
    context: dict[str, Any] = {"nav": "portal-claims", "form": form}
    if not form.is_valid():
        return render(request, "dashboard/portal/claims.html", context, status=400)
    data = form.cleaned_data
    chosen = reads.portal_claims(user=request.user, state=data["status"], contract_id=data["contract"])
    page = Paginator(chosen, reads.PAGE_SIZE).get_page(data["page"])
    rows = []
    if page.paginator.count:
        start = page.start_index() - 1
        rows = reads.claim_rows(user=request.user, claims=chosen[start : start + reads.PAGE_SIZE])
    context.update(
        listed=True,  # ``{% if page %}`` would read the page's rows a second time
        page=page,
        rows=rows,
        filtered=bool(data["status"] or data["contract"]),
        status_label=reads.CLAIM_FILTERS.get(data["status"], ""),
    )
    return render(request, "dashboard/portal/claims.html", context)


@require_GET
@dashboard_page(RECRUITER)
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    """One claim: its status, the reason for a rejection or reversal (or what it waits for), and when each
    decision on it was taken, by a rule or by staff; another recruiter's claim is a 404."""
    rows = reads.claim_rows(user=request.user, claims=reads.portal_claims(user=request.user).filter(pk=pk))
    if not rows:
        raise Http404(_("No such claim."))
    (row,) = rows
    steps = reads.claim_decisions(user=request.user, claim=row.claim)
    return render(request, "dashboard/portal/claim.html", {"nav": "portal-claims", "row": row, "steps": steps})


# --- Contracts -------------------------------------------------------------------------------------------


@require_GET
@dashboard_page(RECRUITER)
def contracts(request: HttpRequest) -> HttpResponse:
    """The contracts the recruiter provides: what each has earned and been paid, and what it will pay when."""
    return render(
        request,
        "dashboard/portal/contracts.html",
        {"nav": "portal-contracts", "contracts": reads.portal_contracts(user=request.user)},
    )


# --- API tokens ------------------------------------------------------------------------------------------


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=gettext_lazy("What the token is for, e.g. “Agency CRM sync”."),
    )
    expires_in_days = forms.IntegerField(
        label=gettext_lazy("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text=gettext_lazy("Leave empty for a token that does not expire."),
    )


def _tokens_context(request: HttpRequest, form: TokenForm) -> dict[str, Any]:
    tokens = ApiToken.objects.filter(user=request.user).select_related("revoked_by").order_by("-created_at", "-id")
    page = Paginator(tokens, TOKENS_PAGE_SIZE).get_page(request.GET.get("page"))
    return {"nav": "portal-tokens", "form": form, "page": page, "tokens": page.object_list}


@require_http_methods(["GET", "POST"])
@dashboard_page(RECRUITER)
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens (name, created, last used, revoked) and a form to issue one. The secret
    is on the answer to the POST only, once: it is never stored, and the page is not cached."""
    if request.method == "GET":
        return render(request, "dashboard/portal/tokens.html", _tokens_context(request, TokenForm()))
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_in_days=form.cleaned_data["expires_in_days"]
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            context = _tokens_context(request, TokenForm())
            context.update(created=token, secret=secret)
            response = render(request, "dashboard/portal/tokens.html", context, status=201)
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "dashboard/portal/tokens.html", _tokens_context(request, form), status=400)


@require_http_methods(["GET", "POST"])
@dashboard_page(RECRUITER)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's own tokens: a GET asks for confirmation, the POST revokes. Another user's
    token is a 404."""
    token = get_object_or_404(ApiToken.objects.filter(user=request.user).select_related("revoked_by"), pk=pk)
    if request.method == "GET":
        return render(request, "dashboard/portal/token_revoke.html", {"nav": "portal-tokens", "token": token})
    if token.revoked_at is not None:
        messages.warning(request, _("The token “%(name)s” was already revoked.") % {"name": token.name})
    else:
        api_token_revoke(token=token, by=request.user)
        messages.success(
            request,
            _("The token “%(name)s” is revoked: a request that sends it now gets a 401.") % {"name": token.name},
        )
    return redirect("programme:portal-tokens")
