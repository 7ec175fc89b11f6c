"""Payroll from the employer: pay periods of its employees, each deduction with its purpose, checked in full
before anything is written.

Each good row becomes a payroll record of the worker (``Evidence`` of kind ``payroll_record``, source
``employer``), which the outcome rules read: a period covering day N confirms a retention, a period with no
deduction for a fee is the employer's voice of a zero-fee outcome. A deduction whose purpose is one of the
ILO categories of recruitment fees and related costs is a fee finding as well: a ``FeeReport`` with source
``employer_payroll``, recovered by wage deduction.

Modes as for the import of workers (``workers.imports``): ``atomic``, any bad row and nothing is written;
``partial``, the good rows are written and the bad rows returned. An error is ``{"row", "field",
"message"}``, rows counted from 1.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from lamp.currencies import CURRENCIES, quantize
from lamp.history import acting_as
from lamp.parsers import nul_message
from lamp.tenancy import tenancy_of
from pilots.models import User
from workers.imports import (
    ImportResult,
    Mode,
    bounded_rows,
    cell_text,
    check_mode,
    date_or_none,
    nul_fields,
    positive_int,
)
from workers.models import (
    Employment,
    Evidence,
    EvidenceKind,
    FeeCategory,
    FeeReport,
    FeeSource,
    Source,
    Worker,
    source_of,
)
from workers.signals import worker_facts_changed_on_commit

REQUIRED_FIELDS = ("worker", "period_start", "period_end", "currency", "gross", "net")
FIELDS = (*REQUIRED_FIELDS, "deductions", "reference")
#: Purposes of a deduction that are not a fee; any ILO fee category is a fee finding.
OTHER_PURPOSES = ("tax", "social_security", "housing", "food", "transport", "advance", "union", "other_deduction")
PURPOSES = (*OTHER_PURPOSES, *FeeCategory.values)
MAX_AMOUNT = Decimal("10000000")
MAX_PERIOD_DAYS = 62
#: A pay slip's deductions are kept in its evidence's facts, which are bounded (``workers.services``).
MAX_DEDUCTIONS = 50


def _amount(raw: Any, currency: str | None) -> Decimal | None:
    if isinstance(raw, bool) or raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        return None
    if currency in CURRENCIES and quantize(value, currency) != value:
        return None
    return value


def _deductions(raw: Any) -> list[tuple[str, Any]] | None:
    """``[{"purpose", "amount"}, …]`` in JSON, or ``purpose:amount;purpose:amount`` in a CSV cell."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        items = []
        for part in raw.split(";"):
            if not part.strip():
                continue
            purpose, sep, amount = part.partition(":")
            if not sep:
                return None
            items.append((purpose.strip(), amount.strip()))
        return items
    if isinstance(raw, list) and all(isinstance(item, Mapping) for item in raw):
        return [(str(item.get("purpose", "")).strip(), item.get("amount")) for item in raw]
    return None


def import_payroll(*, rows: Iterable[Mapping[str, Any]], mode: Mode, user: User) -> ImportResult:
    """Validate every row, then write the good ones (all or none in ``atomic`` mode); ``created_ids`` are the
    payroll records written. An employer's users import for their own employees; staff for any worker.
    Raises ``ValidationError`` naming ``rows`` or ``mode``."""
    check_mode(mode)
    tenancy = tenancy_of(user)
    if not tenancy.staff and tenancy.employer is None:
        raise PermissionDenied("Only employers and program staff import payroll.")
    rows = bounded_rows(rows)

    ids = {positive_int(raw.get("worker")) for raw in rows if isinstance(raw, Mapping)} - {None}
    workers = {w.pk: w for w in Worker.objects.visible_to(user).filter(pk__in=ids).only("pk", "recruiter_id")}
    jobs: dict[int, list[tuple[datetime.date, datetime.date | None]]] = {}
    employments = Employment.objects.visible_to(user).filter(worker_id__in=workers).order_by()
    for worker_id, start, end in employments.values_list("worker_id", "start_date", "end_date"):
        jobs.setdefault(worker_id, []).append((start, end))

    errors: list[dict[str, Any]] = []
    good: list[dict[str, Any]] = []
    today = timezone.localdate()
    for number, raw in enumerate(rows, start=1):
        row_errors: list[dict[str, Any]] = []

        def error(name: str | None, message: str, row_errors: list = row_errors, number: int = number) -> None:
            row_errors.append({"row": number, "field": name, "message": message})

        if not isinstance(raw, Mapping):
            error(None, "A row must be an object of field names and values.")
            errors += row_errors
            continue
        if nul := nul_fields(raw):
            for name in nul:
                error(name, nul_message())
            errors += row_errors
            continue
        for name in sorted(set(raw) - set(FIELDS), key=str):
            error(str(name), f"Unknown field; the fields are: {', '.join(FIELDS)}.")
        for name in REQUIRED_FIELDS:
            if not cell_text(raw, name):
                error(name, "This field is required.")
        values: dict[str, Any] = {}
        worker_id = positive_int(raw.get("worker"))
        if cell_text(raw, "worker") and (worker_id is None or worker_id not in workers):
            error("worker", f"No worker with id {cell_text(raw, 'worker')[:20]} among your employees.")
        values["worker"] = workers.get(worker_id)
        for name in ("period_start", "period_end"):
            text = cell_text(raw, name)
            day = date_or_none(text)
            if text and day is None:
                error(name, f"'{text[:20]}' is not a date in the form YYYY-MM-DD.")
            elif day is not None and (day > today or day.year < 2000):
                error(name, "A pay period lies between 2000 and today.")
            values[name] = day
        start, end = values["period_start"], values["period_end"]
        if start and end:
            if end < start:
                error("period_end", "The period ends before it starts.")
            elif (end - start).days > MAX_PERIOD_DAYS:
                error("period_end", f"A pay period is at most {MAX_PERIOD_DAYS} days: one row a pay slip.")
            elif values["worker"] is not None and not any(
                job_start <= end and (job_end is None or job_end >= start)
                for job_start, job_end in jobs.get(worker_id, [])
            ):
                error("period_start", "The worker has no employment with you in this period.")
        currency = cell_text(raw, "currency").upper()
        if currency and currency not in CURRENCIES:
            error("currency", f"'{currency[:10]}' is not a currency this platform knows.")
        values["currency"] = currency
        for name in ("gross", "net"):
            amount = _amount(raw.get(name), currency)
            if cell_text(raw, name) and amount is None:
                error(name, f"An amount from 0 to {MAX_AMOUNT:,}, with the currency's decimals.")
            values[name] = amount
        deductions = _deductions(raw.get("deductions"))
        if deductions is None:
            error("deductions", 'Give deductions as [{"purpose": …, "amount": …}] or "purpose:amount;…".')
            deductions = []
        elif len(deductions) > MAX_DEDUCTIONS:
            error("deductions", f"At most {MAX_DEDUCTIONS} deductions on one pay slip.")
            deductions = []
        parsed = []
        for index, (purpose, raw_amount) in enumerate(deductions):
            if purpose not in PURPOSES:
                error(f"deductions[{index}].purpose", f"'{purpose[:30]}' is not a purpose: {', '.join(PURPOSES)}.")
            amount = _amount(raw_amount, currency)
            if amount is None:
                error(f"deductions[{index}].amount", "An amount from 0 with the currency's decimals.")
            parsed.append((purpose, amount))
        reference = cell_text(raw, "reference")
        if len(reference) > 300 or "\x00" in reference:
            error("reference", "At most 300 characters, and no NUL.")
        if not row_errors and values["gross"] is not None and values["net"] is not None:
            if values["gross"] - sum(amount for _, amount in parsed) != values["net"]:
                error("net", "The net pay is not the gross pay less the deductions.")
        if row_errors:
            errors += row_errors
            continue
        values.update(deductions=parsed, reference=reference, number=number)
        good.append(values)

    if not good or (errors and mode == "atomic"):
        return ImportResult(errors=errors)
    return ImportResult(created_ids=_write(good, user=user), errors=errors)


@transaction.atomic
def _write(rows: list[dict[str, Any]], *, user: User) -> list[int]:
    source, organisation_id = source_of(user)
    records, fees = [], []
    now = timezone.now()
    for row in rows:
        worker = row["worker"]
        deductions = [{"purpose": purpose, "amount": str(amount)} for purpose, amount in row["deductions"]]
        records.append(
            Evidence(
                worker=worker,
                kind=EvidenceKind.PAYROLL_RECORD,
                reference=row["reference"] or f"Payroll {row['period_start']} to {row['period_end']}",
                description="Pay slip from the employer's payroll",
                facts={
                    "period_start": row["period_start"].isoformat(),
                    "period_end": row["period_end"].isoformat(),
                    "currency": row["currency"],
                    "gross": str(row["gross"]),
                    "net": str(row["net"]),
                    "deductions": deductions,
                },
                uploaded_by=user,
                uploaded_at=now,
                source=source if source == Source.STAFF else Source.EMPLOYER,
                source_organisation_id=organisation_id,
            )
        )
        for purpose, amount in row["deductions"]:
            if purpose in FeeCategory.values and amount > 0:
                fees.append(
                    FeeReport(
                        worker=worker,
                        recruiter_id=worker.recruiter_id,
                        category=purpose,
                        amount=amount,
                        currency=row["currency"],
                        paid_to="Deducted from wages",
                        paid_on=row["period_end"],
                        recovered_by_wage_deduction=True,
                        source=FeeSource.EMPLOYER_PAYROLL,
                        reported_by=user,
                        reported_at=now,
                        source_organisation_id=organisation_id,
                        note=f"Payroll {row['period_start']} to {row['period_end']}.",
                    )
                )
    with acting_as(user, action="import_payroll"):
        written = Evidence.objects.bulk_create(records)
        FeeReport.objects.bulk_create(fees)
    workers = {row["worker"].pk for row in rows}
    worker_facts_changed_on_commit(sender=Evidence, worker_ids=workers)
    if fees:
        worker_facts_changed_on_commit(sender=FeeReport, worker_ids={fee.worker_id for fee in fees})
    return [record.pk for record in written]
