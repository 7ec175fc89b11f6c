"""Overdue tranches: flagged in the money vocabulary and emailed to each pilot's staff every morning."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from financing import digests
from financing.models import PaymentLine, Tranche, TrancheStatus
from financing.selectors import contract_amounts, is_overdue
from financing.tasks import overdue_digest_task
from pilots.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 2)


def test_overdue_means_due_date_passed_and_not_paid():
    past, future = TODAY - datetime.timedelta(days=1), TODAY + datetime.timedelta(days=1)
    assert is_overdue(status=TrancheStatus.OPEN, due_date=past, today=TODAY)
    assert is_overdue(status=TrancheStatus.APPROVED, due_date=past, today=TODAY)
    assert not is_overdue(status=TrancheStatus.PAID, due_date=past, today=TODAY)
    assert not is_overdue(status=TrancheStatus.OPEN, due_date=TODAY, today=TODAY)
    assert not is_overdue(status=TrancheStatus.OPEN, due_date=future, today=TODAY)


@pytest.fixture
def overdue_world():
    contract = f.RbfContractFactory(reference="OVERDUE-1", currency="USD", cap_total=Decimal("5000.00"))
    claim = f.OutcomeClaimFactory(
        metric__contract=contract,
        status="verified",
        achieved_on=datetime.date(2025, 1, 20),
        verified_on=datetime.date(2025, 2, 1),
    )
    old = Tranche.objects.create(
        contract=contract,
        code="2025-Q1",
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 3, 31),
        due_date=datetime.date(2025, 4, 30),
    )
    PaymentLine.objects.create(
        tranche=old, claim=claim, verified_on=claim.verified_on, amount=Decimal("800.00"), capped=Decimal(0)
    )
    return contract


def test_the_contract_counts_its_overdue_tranches(overdue_world):
    amounts = contract_amounts(contracts=[overdue_world])[overdue_world.pk]
    assert amounts.overdue_tranches == 1
    assert amounts.adds_up and amounts.due == Decimal("800.00")


def test_the_contract_page_and_list_flag_it(overdue_world, client):
    client.force_login(f.UserFactory(role=Role.STAFF))
    page = client.get(f"/contracts/{overdue_world.pk}/").content.decode()
    assert 'data-overdue="1"' in page and "2025-Q1" in page
    assert 'data-overdue="1"' in client.get("/contracts/").content.decode()
    assert 'data-overdue="1"' in client.get("/pilots/").content.decode()


def test_the_digest_goes_to_the_pilots_staff_contacts(overdue_world):
    followed = f.UserFactory(role=Role.STAFF, email="ana@lamp.example", first_name="Ana", last_name="López")
    f.UserFactory(role=Role.STAFF, email="other@lamp.example")
    overdue_world.pilot.staff_contacts.add(followed)

    assert digests.overdue_digest_send(today=TODAY) == 1

    (message,) = mail.outbox
    assert message.to == ["ana@lamp.example"]
    assert message.subject == f"{overdue_world.pilot.name}: 1 tranche is overdue"
    assert "Hello Ana López," in message.body
    assert "OVERDUE-1 2025-Q1: due 30 Apr 2025, 581 days overdue. Not approved yet (USD 800.00)." in message.body
    assert f"/contracts/{overdue_world.pk}/#tranche-" in message.body


def test_each_reads_it_in_the_language_they_chose(overdue_world):
    f.UserFactory(role=Role.STAFF, email="es@lamp.example", first_name="Ana", last_name="López", language="es")
    f.UserFactory(role=Role.STAFF, email="en@lamp.example", first_name="Megan", last_name="Hollis")
    assert digests.overdue_digest_send(today=TODAY) == 2
    english, spanish = sorted(mail.outbox, key=lambda m: m.to)
    assert spanish.to == ["es@lamp.example"]
    assert spanish.subject == f"{overdue_world.pilot.name}: 1 tramo está vencido"
    assert "Hola, Ana López:" in spanish.body
    assert "581 días de atraso" in spanish.body
    assert english.subject == f"{overdue_world.pilot.name}: 1 tranche is overdue"
    assert "Hello Megan Hollis," in english.body


def test_without_contacts_every_staff_member_with_an_email_is_told(overdue_world):
    f.UserFactory(role=Role.STAFF, email="one@lamp.example")
    f.UserFactory(role=Role.STAFF, email="")
    f.UserFactory(role=Role.RECRUITER, email="recruiter@lamp.example", organisation=f.OrganisationFactory())
    assert digests.overdue_digest_send(today=TODAY) == 1
    assert [m.to for m in mail.outbox] == [["one@lamp.example"]]


def test_a_paid_or_not_yet_due_tranche_sends_nothing(overdue_world):
    f.UserFactory(role=Role.STAFF, email="one@lamp.example")
    Tranche.objects.filter(contract=overdue_world).update(due_date=TODAY)
    assert digests.overdue_digest_send(today=TODAY) == 0
    assert mail.outbox == []


def test_the_task_sends_the_digest_for_today(overdue_world):
    f.UserFactory(role=Role.STAFF, email="one@lamp.example")
    assert overdue_digest_task.apply().get() == 1
    assert timezone.localdate() > datetime.date(2025, 4, 30)
