"""Admin for results-based financing: contracts and their priced outcomes, claims, verifications and payments.

Every change here is kept in history (database triggers, with the signed-in user): the "Events" button of each
page lists it. Payment lines are computed by the schedule, never typed; payment lines and disbursements are
never deleted; approved and paid tranches are frozen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from financing import services, timeline
from financing.models import (
    Disbursement,
    OutcomeClaim,
    OutcomeMetric,
    PaymentLine,
    ProviderRefund,
    RbfContract,
    ScheduleState,
    Tranche,
    Verification,
)
from lamp.admin_utils import ChoiceArrayMixin, ReadOnlyTabularInline, TimelineHistoryMixin
from lamp.currencies import format_money
from lamp.history import Timeline
from workers import admin as workers_admin
from workers.models import Worker


def _apply(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, act: Callable[[object], object], done: str
) -> None:
    """Run a service on each selected row; say what was done, and why each refusal was refused."""
    succeeded = 0
    for obj in queryset:
        try:
            act(obj)
        except (ValidationError, PermissionDenied) as refusal:
            text = "; ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
            modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)


def _ask(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    form_class: type[forms.Form],
    title: str,
    intro: str,
) -> forms.Form | HttpResponse:
    """The valid form once the staff member filled it in; until then, the page that asks for it."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        return form
    return TemplateResponse(
        request,
        "admin/financing/action_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": title,
            "intro": intro,
            "form": form,
            "queryset": queryset,
            "action": request.POST["action"],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The provider reads this.")


class DisbursementForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=15, decimal_places=3, help_text="What is left to pay of the tranche, or the part the payer paid."
    )
    paid_on = forms.DateField(initial=timezone.localdate, help_text="YYYY-MM-DD")
    reference = forms.CharField(max_length=120, help_text="Bank transfer or payment reference.")


class RefundSettleForm(forms.Form):
    amount = forms.DecimalField(max_digits=15, decimal_places=3, help_text="Exactly what the provider owes back.")
    settled_on = forms.DateField(initial=timezone.localdate, help_text="YYYY-MM-DD")
    reference = forms.CharField(max_length=120, help_text="The repayment's bank reference.")


class OutcomeMetricInline(ChoiceArrayMixin, admin.TabularInline):
    model = OutcomeMetric
    extra = 0
    show_change_link = True
    autocomplete_fields = ("denominator_metric",)
    fields = (
        "position",
        "code",
        "name",
        "kind",
        "retention_days",
        "price",
        "tiers",
        "max_units_per_worker",
        "cap_units",
        "cap_amount",
        "threshold_rate",
        "denominator_metric",
        "sources",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutcomeMetric]:
        return super().get_queryset(request).select_related("contract")


class TrancheInline(ReadOnlyTabularInline):
    model = Tranche
    fields = ("code", "start_date", "end_date", "due_date", "status", "approved_by", "approved_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tranche]:
        return super().get_queryset(request).select_related("contract", "approved_by")


@admin.register(RbfContract)
class RbfContractAdmin(TimelineHistoryMixin, admin.ModelAdmin):
    def timeline_of(self, obj: RbfContract, *, viewer: Any, page: int) -> Timeline:
        return timeline.contract_timeline(contract=obj, viewer=viewer, page=page)

    list_display = (
        "reference",
        "name",
        "pilot",
        "payer",
        "provider",
        "cap",
        "status",
        "start_date",
        "end_date",
    )
    list_filter = ("status", "tranche_period", "currency", "pilot")
    list_select_related = ("pilot", "payer", "provider")
    search_fields = ("reference", "name", "pilot__name", "payer__name", "provider__name")
    ordering = ("reference",)
    date_hierarchy = "start_date"
    autocomplete_fields = ("pilot", "payer", "provider")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("reference", "name", "pilot", "status", "signed_on")}),
        ("Parties", {"fields": ("payer", "provider")}),
        ("Terms", {"fields": ("currency", "start_date", "end_date", "cap_total", "tranche_period", "due_days")}),
        ("Notes and record", {"fields": ("notes", "created_at", "updated_at")}),
    )
    inlines = (OutcomeMetricInline, TrancheInline)
    actions = ("recompute_schedule",)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Terms changed (the contract or its metrics): the schedule follows once this is saved.
        services.schedule_recompute_on_commit(contract_id=form.instance.pk)

    @admin.action(description="Recompute the payment schedule now")
    def recompute_schedule(self, request: HttpRequest, queryset: QuerySet[RbfContract]) -> None:
        _apply(
            self,
            request,
            queryset,
            lambda contract: services.schedule_recompute(contract_id=contract.pk, user=request.user),
            "Schedules recomputed",
        )

    @admin.display(description="total cap", ordering="cap_total")
    def cap(self, obj: RbfContract) -> str:
        return obj.cap_total_display


@admin.register(OutcomeMetric)
class OutcomeMetricAdmin(ChoiceArrayMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "contract",
        "kind",
        "price_display",
        "max_units_per_worker",
        "cap_units",
        "cap",
        "threshold_rate",
    )
    list_filter = ("kind", "contract")
    list_select_related = ("contract",)
    search_fields = ("code", "name", "contract__reference", "contract__name")
    ordering = ("contract__reference", "position", "code")
    autocomplete_fields = ("contract", "denominator_metric")

    def save_model(self, request: HttpRequest, obj: OutcomeMetric, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.schedule_recompute_on_commit(contract_id=obj.contract_id)

    @admin.display(description="price", ordering="price")
    def price_display(self, obj: OutcomeMetric) -> str:
        return obj.price_display

    @admin.display(description="amount cap", ordering="cap_amount")
    def cap(self, obj: OutcomeMetric) -> str:
        return format_money(obj.cap_amount, obj.contract.currency)


class VerificationInline(ReadOnlyTabularInline):
    model = Verification
    fields = ("decision", "method", "rule", "decided_by", "decided_at", "reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Verification]:
        return super().get_queryset(request).select_related("claim__metric__contract", "claim__worker", "decided_by")


class OutcomeClaimForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Why this change",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to change the metric, worker, unit or date of a verified or reversed claim: it changes "
        "what is paid. Kept in the claim's history.",
    )

    class Meta:
        model = OutcomeClaim
        fields = ("metric", "worker", "unit", "achieved_on", "claimed_by")

    def _post_clean(self) -> None:
        super()._post_clean()  # the instance now holds the edited values
        if self.instance.pk and not self.errors:
            try:
                services.claim_edit_check(claim=self.instance, reason=self.cleaned_data.get("change_reason", ""))
            except ValidationError as refused:
                self.add_error(None, refused)


@admin.register(OutcomeClaim)
class OutcomeClaimAdmin(TimelineHistoryMixin, admin.ModelAdmin):
    def timeline_of(self, obj: OutcomeClaim, *, viewer: Any, page: int) -> Timeline:
        return timeline.claim_timeline(claim=obj, viewer=viewer, page=page)

    list_display = ("__str__", "worker", "metric", "unit", "achieved_on", "status", "verified_on", "claimed_at")
    list_filter = ("status", "metric__kind", "metric__contract")
    list_select_related = ("metric__contract", "worker")
    search_fields = ("worker__given_names", "worker__family_names", "metric__code", "metric__contract__reference")
    ordering = ("-achieved_on", "-id")
    date_hierarchy = "achieved_on"
    autocomplete_fields = ("metric", "worker", "claimed_by")
    # A claim is decided only through the actions (the verification services), never by editing it.
    readonly_fields = ("claimed_at", "status", "verified_on", "rejection_reason", "reversal_reason", "in_review")
    form = OutcomeClaimForm
    inlines = (VerificationInline,)
    actions = ("verify", "reject", "reverse")

    def get_fieldsets(self, request: HttpRequest, obj: OutcomeClaim | None = None) -> Any:
        claim = (None, {"fields": ("metric", "worker", "unit", "achieved_on")})
        if obj is not None:
            claim = (None, {"fields": ("metric", "worker", "unit", "achieved_on", "change_reason")})
        return (
            claim,
            ("Decision", {"fields": ("status", "in_review", "verified_on", "rejection_reason", "reversal_reason")}),
            ("Record", {"fields": ("claimed_by", "claimed_at")}),
        )

    def save_model(self, request: HttpRequest, obj: OutcomeClaim, form: forms.ModelForm, change: bool) -> None:
        if change:
            services.claim_edit(claim=obj, user=request.user, reason=form.cleaned_data.get("change_reason", ""))
            return
        super().save_model(request, obj, form, change)
        services.schedule_recompute_on_commit(contract_id=obj.metric.contract_id)

    @admin.action(description="Verify the selected claims (today)")
    def verify(self, request: HttpRequest, queryset: QuerySet[OutcomeClaim]) -> None:
        _apply(self, request, queryset, lambda claim: services.claim_verify(claim=claim, user=request.user), "Verified")

    @admin.action(description="Reject the selected claims…")
    def reject(self, request: HttpRequest, queryset: QuerySet[OutcomeClaim]) -> HttpResponse | None:
        return self._decide_with_reason(
            request,
            queryset,
            services.claim_reject,
            title="Reject claims",
            intro="The provider is told the reason. Rejected claims are not paid.",
            done="Rejected",
        )

    @admin.action(description="Reverse the selected verified claims…")
    def reverse(self, request: HttpRequest, queryset: QuerySet[OutcomeClaim]) -> HttpResponse | None:
        return self._decide_with_reason(
            request,
            queryset,
            services.claim_reverse,
            title="Reverse claims",
            intro="What these claims were paid comes back through the next open tranche.",
            done="Reversed",
        )

    def _decide_with_reason(
        self,
        request: HttpRequest,
        queryset: QuerySet[OutcomeClaim],
        service: Callable[..., OutcomeClaim],
        *,
        title: str,
        intro: str,
        done: str,
    ) -> HttpResponse | None:
        """Ask for the reason, then apply ``service`` to each claim with it."""
        form = _ask(self, request, queryset, form_class=ReasonForm, title=title, intro=intro)
        if not isinstance(form, forms.Form):
            return form
        reason = form.cleaned_data["reason"]
        _apply(self, request, queryset, lambda claim: service(claim=claim, user=request.user, reason=reason), done)
        return None

    def has_delete_permission(self, request: HttpRequest, obj: OutcomeClaim | None = None) -> bool:
        return False


@admin.register(Verification)
class VerificationAdmin(TimelineHistoryMixin, admin.ModelAdmin):
    def timeline_of(self, obj: Verification, *, viewer: Any, page: int) -> Timeline:
        return timeline.claim_timeline(claim=obj.claim, viewer=viewer, page=page)  # a decision is its claim's

    list_display = ("claim", "decision", "method", "rule", "decided_by", "decided_at")
    list_filter = ("decision", "method")
    list_select_related = ("claim__metric__contract", "claim__worker", "decided_by")
    search_fields = (
        "claim__worker__given_names",
        "claim__worker__family_names",
        "claim__metric__code",
        "rule",
        "reason",
    )
    ordering = ("-decided_at", "-id")
    date_hierarchy = "decided_at"
    autocomplete_fields = ("claim", "decided_by")
    readonly_fields = ("decided_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Verifications are written by the claim actions (the services), which also decide the claim.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Verification | None = None) -> bool:
        # A verification is a record of a decision taken: once made, it is kept as it was.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Verification | None = None) -> bool:
        return False


class PaymentLineInline(ReadOnlyTabularInline):
    model = PaymentLine
    fk_name = "tranche"
    fields = (
        "claim",
        "kind",
        "verified_on",
        "amount_with_currency",
        "capped_with_currency",
        "reason",
        "note",
        "carried_with",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaymentLine]:
        return super().get_queryset(request).select_related("tranche__contract", "claim__metric", "claim__worker")

    @admin.display(description="amount")
    def amount_with_currency(self, obj: PaymentLine) -> str:
        return format_money(obj.amount, obj.tranche.contract.currency)

    @admin.display(description="capped")
    def capped_with_currency(self, obj: PaymentLine) -> str:
        return format_money(obj.capped, obj.tranche.contract.currency)


class DisbursementInline(ReadOnlyTabularInline):
    """The payer's payments of a tranche, oldest first: recorded with the action "Record the payer's payment"."""

    model = Disbursement
    fields = ("paid_on", "amount_with_currency", "reference", "recorded_by", "recorded_at")
    ordering = ("paid_on", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Disbursement]:
        return super().get_queryset(request).select_related("tranche__contract", "recorded_by")

    @admin.display(description="amount")
    def amount_with_currency(self, obj: Disbursement) -> str:
        return format_money(obj.amount, obj.currency)


class ProviderRefundInline(ReadOnlyTabularInline):
    """What the provider owes back for the tranche, if it closed below zero with no later tranche open."""

    model = ProviderRefund
    fields = ("amount_with_currency", "due", "settled_on", "reference", "recorded_by")

    @admin.display(description="amount")
    def amount_with_currency(self, obj: ProviderRefund) -> str:
        return format_money(obj.amount, obj.currency)


@admin.register(Tranche)
class TrancheAdmin(TimelineHistoryMixin, admin.ModelAdmin):
    def timeline_of(self, obj: Tranche, *, viewer: Any, page: int) -> Timeline:
        return timeline.tranche_timeline(tranche=obj, viewer=viewer, page=page)

    list_display = ("__str__", "contract", "start_date", "end_date", "due_date", "status", "total", "approved_at")
    list_filter = ("status", "contract")
    list_select_related = ("contract",)
    search_fields = ("code", "contract__reference", "contract__name")
    ordering = ("contract__reference", "start_date")
    date_hierarchy = "due_date"
    autocomplete_fields = ("contract", "approved_by")
    readonly_fields = ("total", "status", "approved_by", "approved_at")
    inlines = (PaymentLineInline, DisbursementInline, ProviderRefundInline)
    actions = ("approve", "record_disbursement")

    @admin.action(description="Approve the selected tranches for payment")
    def approve(self, request: HttpRequest, queryset: QuerySet[Tranche]) -> None:
        _apply(
            self,
            request,
            queryset,
            lambda tranche: services.tranche_approve(tranche=tranche, user=request.user),
            "Approved",
        )

    @admin.action(description="Record the payer's payment of the selected tranche…")
    def record_disbursement(self, request: HttpRequest, queryset: QuerySet[Tranche]) -> HttpResponse | None:
        form = _ask(
            self,
            request,
            queryset,
            form_class=DisbursementForm,
            title="Record disbursement",
            intro="A payment of an approved tranche: what is left to pay, or a part of it. The tranche is paid "
            "once its payments reach its total.",
        )
        if not isinstance(form, forms.Form):
            return form
        data = form.cleaned_data
        _apply(
            self,
            request,
            queryset,
            lambda tranche: services.disbursement_record(
                tranche=tranche,
                user=request.user,
                amount=data["amount"],
                paid_on=data["paid_on"],
                reference=data["reference"],
            ),
            "Payments recorded",
        )
        return None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tranche]:
        return super().get_queryset(request).annotate(lines_total=Sum("lines__amount"))

    def has_change_permission(self, request: HttpRequest, obj: Tranche | None = None) -> bool:
        # Approved and paid tranches are frozen: the schedule never edits them, nor does the admin.
        return (obj is None or not obj.is_frozen) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Tranche | None = None) -> bool:
        return False

    @admin.display(description="total of its lines", ordering="lines_total")
    def total(self, obj: Tranche) -> str:
        return format_money(getattr(obj, "lines_total", None) or 0, obj.contract.currency)


@admin.register(PaymentLine)
class PaymentLineAdmin(admin.ModelAdmin):
    """Payment lines are the schedule's output: computed, shown, never typed, changed or deleted here."""

    list_display = ("tranche", "claim", "kind", "verified_on", "amount_with_currency", "capped_with_currency", "reason")
    list_filter = ("kind", "reason", "tranche__status")
    list_select_related = ("tranche__contract", "claim__metric", "claim__worker")
    search_fields = (
        "tranche__code",
        "tranche__contract__reference",
        "claim__worker__given_names",
        "claim__worker__family_names",
        "claim__metric__code",
    )
    readonly_fields = ("amount_with_currency", "capped_with_currency")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PaymentLine | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PaymentLine | None = None) -> bool:
        return False

    @admin.display(description="amount", ordering="amount")
    def amount_with_currency(self, obj: PaymentLine) -> str:
        return format_money(obj.amount, obj.tranche.contract.currency)

    @admin.display(description="capped", ordering="capped")
    def capped_with_currency(self, obj: PaymentLine) -> str:
        return format_money(obj.capped, obj.tranche.contract.currency)


@admin.register(Disbursement)
class DisbursementAdmin(TimelineHistoryMixin, admin.ModelAdmin):
    def timeline_of(self, obj: Disbursement, *, viewer: Any, page: int) -> Timeline:
        return timeline.tranche_timeline(tranche=obj.tranche, viewer=viewer, page=page)  # a payment is its tranche's

    list_display = ("tranche", "amount_with_currency", "paid_on", "reference", "recorded_by", "recorded_at")
    list_filter = ("currency",)
    list_select_related = ("tranche__contract", "recorded_by")
    search_fields = ("reference", "tranche__code", "tranche__contract__reference")
    ordering = ("-paid_on", "-id")
    date_hierarchy = "paid_on"
    autocomplete_fields = ("tranche", "recorded_by")
    readonly_fields = ("recorded_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Recorded with the tranche action "Record the payer's payment", which checks the amount.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Disbursement | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Disbursement | None = None) -> bool:
        return False

    @admin.display(description="amount", ordering="amount")
    def amount_with_currency(self, obj: Disbursement) -> str:
        return format_money(obj.amount, obj.currency)


@admin.register(ProviderRefund)
class ProviderRefundAdmin(admin.ModelAdmin):
    """What providers owe back: raised by approving a contract's last tranche below zero, settled by the action
    "Record the provider's repayment"; never typed, changed or deleted here."""

    list_display = ("tranche", "amount_with_currency", "due", "settled_on", "reference", "recorded_by")
    list_filter = ("currency", ("settled_on", admin.EmptyFieldListFilter))
    list_select_related = ("tranche__contract", "recorded_by")
    search_fields = ("reference", "tranche__code", "tranche__contract__reference")
    ordering = ("due", "id")
    date_hierarchy = "due"
    actions = ("settle",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ProviderRefund | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ProviderRefund | None = None) -> bool:
        return False

    @admin.display(description="amount", ordering="amount")
    def amount_with_currency(self, obj: ProviderRefund) -> str:
        return format_money(obj.amount, obj.currency)

    @admin.action(description="Record the provider's repayment of the selected refund…")
    def settle(self, request: HttpRequest, queryset: QuerySet[ProviderRefund]) -> HttpResponse | None:
        form = _ask(
            self,
            request,
            queryset,
            form_class=RefundSettleForm,
            title="Record the provider's repayment",
            intro="The provider repays what it owes back whole, in one payment of exactly the amount.",
        )
        if not isinstance(form, forms.Form):
            return form
        data = form.cleaned_data
        _apply(
            self,
            request,
            queryset,
            lambda refund: services.refund_settle(
                refund=refund,
                user=request.user,
                amount=data["amount"],
                settled_on=data["settled_on"],
                reference=data["reference"],
            ),
            "Refunds settled",
        )
        return None


@admin.register(ScheduleState)
class ScheduleStateAdmin(admin.ModelAdmin):
    """When each contract's payment schedule was last computed: written by the recompute only, shown here."""

    list_display = ("contract", "computed_at", "fingerprint")
    list_select_related = ("contract",)
    search_fields = ("contract__reference", "contract__name")
    ordering = ("-computed_at",)
    date_hierarchy = "computed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ScheduleState | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ScheduleState | None = None) -> bool:
        return False


class WorkerClaimInline(ReadOnlyTabularInline):
    model = OutcomeClaim
    fields = ("metric", "unit", "achieved_on", "status", "verified_on", "rejection_reason", "reversal_reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutcomeClaim]:
        return super().get_queryset(request).select_related("metric__contract", "worker")


admin.site.unregister(Worker)


@admin.register(Worker)
class WorkerAdmin(TimelineHistoryMixin, workers_admin.WorkerAdmin):
    """A worker's page, with the outcome claims made for them after their own records; its History is the
    worker's facts and claims in words."""

    inlines = (*workers_admin.WorkerAdmin.inlines, WorkerClaimInline)

    def timeline_of(self, obj: Worker, *, viewer: Any, page: int) -> Timeline:
        return timeline.worker_timeline(worker_id=obj.pk, viewer=viewer, page=page)
