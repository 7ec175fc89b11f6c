"""Results-based financing: contracts, priced outcomes, claims and their verification, and payments.

The payment arithmetic lives in ``financing/payments.py`` (pure); these models hold its inputs (terms
and claims) and its outputs (tranches and lines), and every change to them is kept in history by
database triggers, with the acting user, including bulk writes.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from financing import payments
from financing.querysets import (
    ContractRecordQuerySet,
    DisbursementQuerySet,
    OutcomeClaimQuerySet,
    PaymentLineQuerySet,
    RbfContractQuerySet,
    TrancheQuerySet,
    VerificationQuerySet,
)
from lamp.currencies import format_money, quantize
from lamp.fields import CurrencyField, MoneyField
from lamp.history import tracked
from pilots.models import Organisation, Pilot
from workers.models import Source


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class TranchePeriod(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    EXPLICIT = "explicit", _("Listed tranches")


@tracked
class RbfContract(models.Model):
    """A payer pays a provider for verified outcomes of one pilot, on the metrics' terms."""

    reference = models.CharField(max_length=40, unique=True, help_text="Short code used in reports, e.g. H2A-2026.")
    name = models.CharField(max_length=200)
    pilot = models.ForeignKey(Pilot, on_delete=models.PROTECT, related_name="contracts")
    payer = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts_as_payer", help_text="Funder, employer…"
    )
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contracts_as_provider",
        help_text="The recruiter or training provider paid for outcomes.",
    )
    currency = CurrencyField()
    start_date = models.DateField()
    end_date = models.DateField()
    cap_total = MoneyField(null=True, blank=True, help_text="The most the contract pays in all; empty for none.")
    tranche_period = models.CharField(max_length=10, choices=TranchePeriod.choices, default=TranchePeriod.QUARTERLY)
    due_days = models.PositiveSmallIntegerField(default=30, help_text="A tranche is due this many days after it ends.")
    status = models.CharField(max_length=10, choices=ContractStatus.choices, default=ContractStatus.DRAFT)
    signed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RbfContractQuerySet.as_manager()

    class Meta:
        ordering = ["reference"]
        verbose_name = "RBF contract"
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="contract_end_after_start"),
            models.CheckConstraint(
                condition=Q(cap_total__isnull=True) | Q(cap_total__gte=0), name="contract_cap_not_negative"
            ),
            models.CheckConstraint(condition=~Q(payer=F("provider")), name="contract_payer_is_not_provider"),
            models.CheckConstraint(condition=Q(status__in=ContractStatus.values), name="contract_status_valid"),
            models.CheckConstraint(
                condition=Q(tranche_period__in=TranchePeriod.values), name="contract_tranche_period_valid"
            ),
        ]
        indexes = [models.Index(fields=["pilot", "status"]), models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return f"{self.reference} — {self.name}"

    @property
    def cap_total_display(self) -> str:
        return format_money(self.cap_total, self.currency)

    def clean(self) -> None:
        if self.cap_total is not None and self.currency and self.cap_total != quantize(self.cap_total, self.currency):
            raise ValidationError({"cap_total": f"Give the cap in whole {self.currency} minor units."})


class MetricKind(models.TextChoices):
    """Which automatic verification rule applies to a metric's claims."""

    PLACED = "placed", _("Placed: an employment on record, confirmed by a source other than the payee")
    RETAINED_N = "retained_n", _("Retained N days: employed N days, confirmed on or after day N, no separation before")
    ZERO_FEE = "zero_fee", _("Zero fee: the recruiter's declaration, the worker's answer and the payroll agree")
    TRAINED = "trained", _("Trained: a passed result from the assessor or staff")
    MANUAL = "manual", _("Manual: verified by staff only")


#: The sources that confirm each kind of outcome unless the metric names its own (``OutcomeMetric.sources``).
#: For ``ZERO_FEE`` every listed source must be heard and agree; for the others one listed source other than
#: the payee suffices.
DEFAULT_SOURCES: dict[str, tuple[str, ...]] = {
    MetricKind.PLACED: (Source.EMPLOYER, Source.WORKER, Source.STAFF, Source.VERIFIER),
    MetricKind.RETAINED_N: (Source.EMPLOYER, Source.WORKER, Source.STAFF, Source.VERIFIER),
    MetricKind.ZERO_FEE: (Source.RECRUITER, Source.WORKER, Source.EMPLOYER),
    MetricKind.TRAINED: (Source.VERIFIER, Source.STAFF, Source.TRAINING_PROVIDER),
    MetricKind.MANUAL: (Source.STAFF,),
}


@tracked
class OutcomeMetric(models.Model):
    """One priced result of a contract: a flat price per unit, or price tiers."""

    contract = models.ForeignKey(RbfContract, on_delete=models.CASCADE, related_name="metrics")
    code = models.CharField(max_length=40, help_text="e.g. PLACED, RETAINED_180, ZERO_FEE, TRAINED_B1.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=MetricKind.choices)
    retention_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For retention metrics: days of employment that count."
    )
    price = MoneyField(null=True, blank=True, validators=[MinValueValidator(0)], help_text="Flat price per unit.")
    tiers = models.JSONField(
        null=True,
        blank=True,
        help_text='Instead of a price: [{"units": 370, "price": "1100.00"}, {"units": null, "price": "1350.00"}].',
    )
    max_units_per_worker = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    cap_units = models.PositiveIntegerField(null=True, blank=True)
    cap_amount = MoneyField(null=True, blank=True, validators=[MinValueValidator(0)])
    threshold_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Pays only while verified units / units of the denominator metric reach this rate (0–1).",
    )
    denominator_metric = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="numerator_metrics"
    )
    position = models.PositiveSmallIntegerField(default=0)
    sources = ArrayField(
        models.CharField(max_length=20, choices=Source.choices),
        default=list,
        blank=True,
        help_text="Which sources confirm the outcome (for zero fee: every one of them, agreeing); "
        "empty for the defaults of the kind.",
    )

    objects = ContractRecordQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="metric_code_unique_per_contract"),
            models.CheckConstraint(
                condition=Q(price__isnull=False, tiers__isnull=True) | Q(price__isnull=True, tiers__isnull=False),
                name="metric_price_or_tiers",
            ),
            models.CheckConstraint(condition=Q(price__isnull=True) | Q(price__gte=0), name="metric_price_not_negative"),
            models.CheckConstraint(
                condition=Q(cap_amount__isnull=True) | Q(cap_amount__gte=0), name="metric_cap_amount_not_negative"
            ),
            models.CheckConstraint(condition=Q(max_units_per_worker__gte=1), name="metric_max_units_positive"),
            models.CheckConstraint(
                condition=Q(threshold_rate__isnull=True) | Q(threshold_rate__gte=0, threshold_rate__lte=1),
                name="metric_threshold_rate_in_0_1",
            ),
            models.CheckConstraint(
                condition=Q(threshold_rate__isnull=True, denominator_metric__isnull=True)
                | Q(threshold_rate__isnull=False, denominator_metric__isnull=False),
                name="metric_threshold_has_denominator",
            ),
            models.CheckConstraint(
                condition=~Q(denominator_metric=F("id")), name="metric_denominator_is_another_metric"
            ),
            models.CheckConstraint(
                condition=~Q(kind="retained_n") | Q(retention_days__isnull=False, retention_days__gte=1),
                name="metric_retention_has_days",
            ),
            models.CheckConstraint(condition=Q(kind__in=MetricKind.values), name="metric_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.contract.reference})"

    @property
    def required_sources(self) -> tuple[str, ...]:
        """The sources its claims are verified on: its own, or the defaults of its kind."""
        return tuple(self.sources) or DEFAULT_SOURCES.get(self.kind, ())

    def as_terms(self) -> payments.Metric:
        """This metric as the payment rules see it; raises ``payments.TermsError`` if they cannot apply it."""
        return payments.Metric(
            code=self.code,
            price=self.price,
            tiers=_tiers(self.tiers),
            max_units_per_worker=self.max_units_per_worker,
            cap_units=self.cap_units,
            cap_amount=self.cap_amount,
            threshold_rate=self.threshold_rate,
            denominator=self.denominator_metric.code if self.denominator_metric_id else None,
        )

    def clean(self) -> None:
        if self.denominator_metric_id and self.denominator_metric.contract_id != self.contract_id:
            raise ValidationError({"denominator_metric": "Choose a metric of the same contract."})
        try:
            self.as_terms()
        except payments.TermsError as error:
            field = _METRIC_FIELDS.get(error.field.split("[")[0].split(".")[0], NON_FIELD_ERRORS)
            raise ValidationError({field: f"{error.field}: {error.message}"}) from None
        currency = self.contract.currency if self.contract_id else None
        if currency and self.cap_amount is not None and self.cap_amount != quantize(self.cap_amount, currency):
            raise ValidationError({"cap_amount": f"Give the cap in whole {currency} minor units."})

    @property
    def price_display(self) -> str:
        """The price in the words every page uses (``financing.presenters``)."""
        from financing.presenters import price_in_words

        return price_in_words(price=self.price, tiers=self.tiers, currency=self.contract.currency)


NON_FIELD_ERRORS = "__all__"
_METRIC_FIELDS = {
    "code": "code",
    "price": "price",
    "tiers": "tiers",
    "max_units_per_worker": "max_units_per_worker",
    "cap_units": "cap_units",
    "cap_amount": "cap_amount",
    "threshold_rate": "threshold_rate",
    "denominator": "denominator_metric",
}


def _tiers(value: object) -> tuple[payments.Tier, ...] | None:
    """The ``tiers`` JSON as payment tiers: ``[{"units": 370, "price": "1100.00"}, {"units": null, ...}]``."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise payments.TermsError("tiers", 'must be a list such as [{"units": null, "price": "500.00"}]')
    tiers = []
    for index, tier in enumerate(value):
        if not isinstance(tier, dict) or set(tier) != {"units", "price"}:
            raise payments.TermsError(
                f"tiers[{index}]", 'must be {"units": <whole number or null>, "price": "<amount>"}'
            )
        units = tier["units"]
        if units is not None and (not isinstance(units, int) or isinstance(units, bool)):
            raise payments.TermsError(f"tiers[{index}].units", "must be a whole number or null")
        try:
            price = Decimal(str(tier["price"]))
        except InvalidOperation:
            raise payments.TermsError(f"tiers[{index}].price", "must be an amount such as 500.00") from None
        tiers.append(payments.Tier(units=units, price=price))
    return tuple(tiers)


class ClaimStatus(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    REVERSED = "reversed", _("Reversed")


@tracked
class OutcomeClaim(models.Model):
    """A provider's claim that one worker achieved one metric. Verified by someone other than the provider."""

    metric = models.ForeignKey(OutcomeMetric, on_delete=models.PROTECT, related_name="claims")
    worker = models.ForeignKey("workers.Worker", on_delete=models.PROTECT, related_name="claims")
    unit = models.PositiveSmallIntegerField(default=1, help_text="Which unit of the metric for this worker (1, 2…).")
    achieved_on = models.DateField()
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.CLAIMED)
    verified_on = models.DateField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    rejection_reason = models.TextField(blank=True)
    reversal_reason = models.TextField(blank=True)
    in_review = models.BooleanField(
        default=False, help_text="An automatic rule found evidence for and against: waiting for staff to decide."
    )
    pending_reason = models.CharField(
        max_length=500, blank=True, help_text="What a claim still waits for, as the automatic rule last said."
    )

    objects = OutcomeClaimQuerySet.as_manager()

    class Meta:
        ordering = ["metric", "verified_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "worker", "unit"], name="claim_unique_worker_metric_unit"),
            models.CheckConstraint(condition=Q(unit__gte=1), name="claim_unit_positive"),
            models.CheckConstraint(condition=Q(status__in=ClaimStatus.values), name="claim_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=["verified", "reversed"]) | Q(verified_on__isnull=False),
                name="claim_verified_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""), name="claim_rejection_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="reversed") | ~Q(reversal_reason=""), name="claim_reversal_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(verified_on__isnull=True) | Q(verified_on__gte=F("achieved_on")),
                name="claim_verified_after_achieved",
            ),
        ]
        indexes = [
            models.Index(fields=["metric", "status", "verified_on"]),
            models.Index(fields=["worker", "status"]),
            models.Index(fields=["status", "in_review"]),
        ]

    def __str__(self) -> str:
        return f"{self.metric.code} for {self.worker} (#{self.unit}, {self.get_status_display().lower()})"


class Decision(models.TextChoices):
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    REVERSED = "reversed", _("Reversed")
    NEEDS_REVIEW = "needs_review", _("Needs staff review")


class VerificationMethod(models.TextChoices):
    STAFF = "staff", _("Staff review")
    AUTOMATIC = "automatic", _("Automatic rule")


@tracked
class Verification(models.Model):
    """One act of checking a claim: by staff, or by an automatic rule against the evidence."""

    claim = models.ForeignKey(OutcomeClaim, on_delete=models.PROTECT, related_name="verifications")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    method = models.CharField(max_length=10, choices=VerificationMethod.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(max_length=60, blank=True, help_text="The automatic rule that decided, if any.")
    reason = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True, help_text="The facts for and against that were weighed.")
    decided_at = models.DateTimeField(default=timezone.now)

    objects = VerificationQuerySet.as_manager()

    class Meta:
        ordering = ["claim", "decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="staff") | Q(decided_by__isnull=False), name="verification_staff_has_user"
            ),
            models.CheckConstraint(condition=Q(decision__in=Decision.values), name="verification_decision_valid"),
        ]
        indexes = [models.Index(fields=["decision", "decided_at"])]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} — {self.claim}"


class TrancheStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")


@tracked
class Tranche(models.Model):
    """A payment period of a contract. Approved and paid tranches are frozen."""

    contract = models.ForeignKey(RbfContract, on_delete=models.PROTECT, related_name="tranches")
    code = models.CharField(max_length=20, help_text="e.g. 2026-Q1 or 2026-03.")
    start_date = models.DateField()
    end_date = models.DateField()
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=TrancheStatus.choices, default=TrancheStatus.OPEN)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = TrancheQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="tranche_code_unique_per_contract"),
            models.UniqueConstraint(fields=["contract", "start_date"], name="tranche_start_unique_per_contract"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="tranche_end_after_start"),
            models.CheckConstraint(condition=Q(due_date__gte=F("start_date")), name="tranche_due_after_start"),
            models.CheckConstraint(condition=Q(status__in=TrancheStatus.values), name="tranche_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="tranche_approval_recorded",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.code}"

    @property
    def is_frozen(self) -> bool:
        return self.status != TrancheStatus.OPEN


class LineKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    ADJUSTMENT = "adjustment", _("Adjustment of a frozen tranche")
    CARRIED_FORWARD = "carried_forward", _("Balance carried forward")


class CapReason(models.TextChoices):
    MAX_UNITS_PER_WORKER = "max_units_per_worker", _("Worker already has the most units this metric pays")
    CAP_UNITS = "cap_units", _("Metric's unit cap reached")
    CAP_AMOUNT = "cap_amount", _("Metric's amount cap reached")
    CAP_TOTAL = "cap_total", _("Contract's total cap reached")


@tracked
class PaymentLine(models.Model):
    """What a tranche pays for one claim, with any part held back by a cap and why.

    A *carried-forward* line pays for no claim: it moves the negative balance of a tranche being approved
    into the next open one. The approved tranche gets a line bringing it to zero, the next one a line of
    the same amount, negative; each names the other tranche (``carried_with``). The schedule's recompute
    never writes or removes these lines.
    """

    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="lines")
    claim = models.ForeignKey(
        OutcomeClaim, on_delete=models.PROTECT, null=True, blank=True, related_name="payment_lines"
    )
    kind = models.CharField(max_length=16, choices=LineKind.choices, default=LineKind.PAYMENT)
    # The claim's verified_on, kept on the line so a tranche lists its lines in allocation order
    # (verified_on, claim) without a join, and a recompute never rewrites lines to renumber them.
    # A carried-forward line: the last day of the tranche whose balance it carries.
    verified_on = models.DateField()
    amount = MoneyField()
    capped = MoneyField(default=0)
    reason = models.CharField(max_length=30, choices=CapReason.choices, blank=True)
    note = models.CharField(max_length=300, blank=True)
    carried_with = models.ForeignKey(
        Tranche,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A carried-forward line: the tranche the balance went to, or came from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PaymentLineQuerySet.as_manager()

    class Meta:
        # Payments first, then carried-forward balances, then adjustments ("payment" > "carried_forward" >
        # "adjustment"), each in allocation order.
        ordering = ["tranche", "-kind", "verified_on", "claim_id"]
        constraints = [
            models.UniqueConstraint(fields=["tranche", "claim", "kind"], name="payment_line_unique_per_claim"),
            models.UniqueConstraint(
                fields=["tranche", "carried_with"],
                condition=Q(kind="carried_forward"),
                name="payment_line_carried_once_per_tranche",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["adjustment", "carried_forward"]) | Q(amount__gte=0),
                name="payment_line_payment_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind="carried_forward", claim__isnull=True, carried_with__isnull=False, capped=0)
                | (~Q(kind="carried_forward") & Q(claim__isnull=False, carried_with__isnull=True)),
                name="payment_line_claim_unless_carried_forward",
            ),
            models.CheckConstraint(
                condition=~Q(carried_with=F("tranche")), name="payment_line_carried_to_another_tranche"
            ),
            models.CheckConstraint(condition=Q(capped__gte=0), name="payment_line_capped_not_negative"),
            models.CheckConstraint(condition=Q(kind__in=LineKind.values), name="payment_line_kind_valid"),
        ]

    def __str__(self) -> str:
        if self.kind == LineKind.CARRIED_FORWARD:
            return f"{self.tranche}: balance carried forward {self.amount}"
        return f"{self.tranche}: {self.claim} {self.amount}"


@tracked
class Disbursement(models.Model):
    """One payment by the payer of an approved tranche: a part or all of what is left to pay.

    A tranche may be paid in several parts, each positive, their sum never above its total; it is paid
    once they reach it. Recording the same reference twice for a tranche is refused (a double submission).
    """

    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="disbursements")
    # Positive for every payment recorded by ``disbursement_record``; the database keeps ``>= 0`` so that
    # a zero payment of a zero tranche recorded before partial payments stays valid.
    amount = MoneyField(validators=[MinValueValidator(0)])
    currency = CurrencyField()
    paid_on = models.DateField()
    reference = models.CharField(max_length=120, help_text="Bank transfer or payment reference.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = DisbursementQuerySet.as_manager()

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="disbursement_amount_not_negative"),
            models.UniqueConstraint(fields=["tranche", "reference"], name="disbursement_reference_once_per_tranche"),
        ]
        indexes = [models.Index(fields=["tranche", "paid_on"])]

    def __str__(self) -> str:
        return f"{format_money(self.amount, self.currency)} for {self.tranche} on {self.paid_on}"


@tracked
class ProviderRefund(models.Model):
    """An amount the provider owes back: the negative balance of a tranche approved with no later open
    tranche to carry it into (the contract's last one). Settled when staff record the provider's repayment."""

    tranche = models.OneToOneField(Tranche, on_delete=models.PROTECT, related_name="refund")
    amount = MoneyField(help_text="What the provider owes back: the tranche's balance below zero.")
    currency = CurrencyField()
    due = models.DateField(help_text="The provider repays by this date: the contract's due days after approval.")
    settled_on = models.DateField(null=True, blank=True, help_text="When the provider repaid it.")
    reference = models.CharField(max_length=120, blank=True, help_text="The repayment's bank reference.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who recorded the repayment.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DisbursementQuerySet.as_manager()

    class Meta:
        ordering = ["due", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="provider_refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(settled_on__isnull=True, recorded_by__isnull=True, reference="")
                | (Q(settled_on__isnull=False, recorded_by__isnull=False) & ~Q(reference="")),
                name="provider_refund_settlement_recorded",
            ),
        ]

    def __str__(self) -> str:
        state = f"settled {self.settled_on}" if self.settled_on else f"due {self.due}"
        return f"{format_money(self.amount, self.currency)} owed back for {self.tranche}, {state}"

    @property
    def is_settled(self) -> bool:
        return self.settled_on is not None


class ScheduleState(models.Model):
    """When a contract's schedule was last computed, and a fingerprint of every input it had then.

    A recompute whose inputs have not changed since stops at the fingerprint, in a few milliseconds.
    """

    contract = models.OneToOneField(RbfContract, on_delete=models.CASCADE, primary_key=True, related_name="+")
    fingerprint = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["contract"]

    def __str__(self) -> str:
        return f"{self.contract_id} computed at {self.computed_at:%Y-%m-%d %H:%M}"
