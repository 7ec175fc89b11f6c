"""Tenancy of contracts, claims and schedules (see ``lamp.tenancy``), and the schedule's aggregates.

A recruiter sees the contracts it provides with their metrics, tranches, lines and disbursements, and
the claims about its own workers under those contracts. A funder sees the contracts it pays and the
same schedule, but no claim and no verification: those are about people.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

from django.db.models import Sum, Value
from django.db.models.functions import Coalesce

from lamp.fields import MoneyField
from lamp.tenancy import TenantQuerySet, tenancy_of


class RbfContractQuerySet(TenantQuerySet):
    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(provider_id=organisation_id)

    def for_funder(self, organisation_id: int) -> Self:
        return self.filter(payer_id=organisation_id)


class ContractRecordQuerySet(TenantQuerySet):
    """Rows of one contract, seen by its provider and its payer; ``contract_path`` leads to the contract."""

    contract_path = "contract"

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(**{f"{self.contract_path}__provider_id": organisation_id})

    def for_funder(self, organisation_id: int) -> Self:
        return self.filter(**{f"{self.contract_path}__payer_id": organisation_id})


class TrancheQuerySet(ContractRecordQuerySet):
    def with_totals(self) -> Self:
        """Each tranche with ``total``: the sum of its lines' amounts, 0 when it has none."""
        return self.annotate(total=Coalesce(Sum("lines__amount"), Value(Decimal(0), output_field=MoneyField())))


def paid_of(*, tranche: Any = None, contract: Any = None) -> Any:
    """What the payer paid of one tranche (``tranche``: an ``OuterRef`` to it) or of every tranche of one
    contract (``contract``), for ``annotate``: its disbursements less what the provider repaid (settled
    refunds); 0 when there are none. Two subqueries, each through an index on the tranche."""
    from django.apps import apps  # the models import this module
    from django.db.models import Subquery

    path = {"tranche": tranche} if tranche is not None else {"tranche__contract": contract}
    group = "tranche" if tranche is not None else "tranche__contract"
    zero = Value(Decimal(0), output_field=MoneyField())
    sums = []
    for name, extra in (("Disbursement", {}), ("ProviderRefund", {"settled_on__isnull": False})):
        rows = apps.get_model("financing", name).objects.filter(**path, **extra).order_by().values(group)
        sums.append(Coalesce(Subquery(rows.annotate(s=Sum("amount")).values("s")), zero))
    return sums[0] - sums[1]


class PaymentLineQuerySet(ContractRecordQuerySet):
    contract_path = "tranche__contract"

    def schedule_rows(self) -> Self:
        """Plain rows for a schedule, by tranche in allocation order (payments, carried-forward balances, then
        adjustments): ``(tranche_id, claim_id, metric_code, worker_id, kind, amount, capped, reason, note,
        carried_with_code)``; a carried-forward line has no claim, metric or worker."""
        return self.order_by("tranche_id", "-kind", "verified_on", "claim_id").values_list(
            "tranche_id",
            "claim_id",
            "claim__metric__code",
            "claim__worker_id",
            "kind",
            "amount",
            "capped",
            "reason",
            "note",
            "carried_with__code",
        )


class DisbursementQuerySet(ContractRecordQuerySet):
    contract_path = "tranche__contract"


class OutcomeClaimQuerySet(TenantQuerySet):
    """A recruiter's claims: about its own workers, under contracts it provides. Never a funder's."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(
            worker__recruiter__organisation_id=organisation_id, metric__contract__provider_id=organisation_id
        )


class VerificationQuerySet(TenantQuerySet):
    """The checks of the claims a recruiter sees; never a funder's."""

    def for_recruiter(self, organisation_id: int) -> Self:
        return self.filter(
            claim__worker__recruiter__organisation_id=organisation_id,
            claim__metric__contract__provider_id=organisation_id,
        )


def sees_workers_of(user: Any, *, provider_id: int) -> bool:
    """Whether ``user`` may see which worker a contract's payment lines pay for: staff and the provider only."""
    tenancy = tenancy_of(user)
    return tenancy.staff or (tenancy.recruiter is not None and tenancy.recruiter == provider_id)
