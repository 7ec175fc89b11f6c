"""The daily digest of overdue tranches, by email to the staff who run each pilot.

A tranche is overdue once its due date has passed and it is not paid in full (``selectors.is_overdue``).
Each pilot's staff contacts (``Pilot.staff_contacts``; none named: every active program staff member) get
one email listing the pilot's overdue tranches, oldest first, each with a link to its contract page. Sent by
the beat task ``overdue_digest_task`` every morning; a pilot with nothing overdue sends nothing.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from financing.models import RbfContract, Tranche, TrancheStatus
from financing.selectors import tranche_rows
from lamp.currencies import format_money
from pilots.models import Pilot, Role, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OverdueTranche:
    """An overdue tranche in the digest's words: what it is, since when, and what is left to do."""

    contract_id: int
    reference: str
    code: str
    due_date: datetime.date
    days: int
    approved: bool
    total: Decimal
    left_to_pay: Decimal
    currency: str
    url: str

    @property
    def total_display(self) -> str:
        return format_money(self.total, self.currency)

    @property
    def left_display(self) -> str:
        return format_money(self.left_to_pay, self.currency)


def overdue_by_pilot(*, today: datetime.date) -> dict[int, list[OverdueTranche]]:
    """Every overdue tranche of every contract, by pilot id, oldest due date first; two queries."""
    tranches = Tranche.objects.filter(due_date__lt=today).exclude(status=TrancheStatus.PAID)
    rows = tranche_rows(tranches=tranches)
    contracts = {
        pk: (pilot_id, reference)
        for pk, pilot_id, reference in RbfContract.objects.filter(pk__in={row.contract_id for row in rows}).values_list(
            "pk", "pilot_id", "reference"
        )
    }
    base = settings.LAMP_PUBLIC_URL.rstrip("/")
    found: defaultdict[int, list[OverdueTranche]] = defaultdict(list)
    for row in rows:
        pilot_id, reference = contracts[row.contract_id]
        found[pilot_id].append(
            OverdueTranche(
                contract_id=row.contract_id,
                reference=reference,
                code=row.code,
                due_date=row.due_date,
                days=(today - row.due_date).days,
                approved=row.status != TrancheStatus.OPEN,
                total=row.total,
                left_to_pay=max(row.total - row.paid, Decimal(0)),
                currency=row.currency,
                url=f"{base}{reverse('financing:contract', args=[row.contract_id])}#tranche-{row.id}",
            )
        )
    for items in found.values():
        items.sort(key=lambda item: (item.due_date, item.reference, item.code))
    return dict(found)


def digest_recipients(*, pilot: Pilot) -> list[User]:
    """The pilot's staff contacts with an email; none named: every active program staff member with one."""
    named = [user for user in pilot.staff_contacts.all() if user.is_active and user.email]
    if named:
        return named
    staff = User.objects.filter(Q(role=Role.STAFF) | Q(is_superuser=True), is_active=True).exclude(email="")
    return list(staff.order_by("username"))


def overdue_digest_send(*, today: datetime.date | None = None) -> int:
    """Email each pilot's staff the pilot's overdue tranches; returns how many emails were sent."""
    today = today or timezone.localdate()
    overdue = overdue_by_pilot(today=today)
    sent = 0
    pilots = Pilot.objects.filter(pk__in=overdue).prefetch_related("staff_contacts").order_by("name")
    for pilot in pilots:
        items = overdue[pilot.pk]
        for user in digest_recipients(pilot=pilot):
            # In the language the user chose with the switch, else the platform's.
            with translation.override(user.language or settings.LANGUAGE_CODE):
                subject = ngettext(
                    "%(pilot)s: %(n)d tranche is overdue",
                    "%(pilot)s: %(n)d tranches are overdue",
                    len(items),
                ) % {"pilot": pilot.name, "n": len(items)}
                body = render_to_string(
                    "emails/overdue_digest.txt",
                    {"pilot": pilot, "items": items, "user": user, "today": today, "intro": _intro(len(items))},
                )
            send_mail(subject, body, None, [user.email], fail_silently=False)
            sent += 1
    logger.info("overdue digest: %d emails for %d pilots", sent, len(overdue))
    return sent


def _intro(n: int) -> str:
    return ngettext(
        "This tranche is past its due date and not yet paid in full:",
        "These tranches are past their due date and not yet paid in full:",
        n,
    )
