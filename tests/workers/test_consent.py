"""Consent: recorded with the text version and the channel; a withdrawal stops check-ins (no new link, open
links refuse, the daily job skips the worker) and messages (pending ones cancelled, none sent)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from pilots.stages import CheckInMoment, Stage
from tests import factories as f
from workers import models as wrk
from workers import services
from workers.consent import consent_record, consent_withdraw

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff() -> Any:
    return f.StaffUserFactory()


@pytest.fixture
def worker() -> wrk.Worker:
    return f.WorkerFactory(email="ana@example.org")


def test_consent_is_recorded_with_the_text_version_and_the_channel(staff, worker, settings) -> None:  # noqa: ANN001
    settings.CONSENT_TEXT_VERSION = "2026-03"
    answer = client_for(staff).post(f"/api/v1/workers/{worker.pk}/consent/", {"channel": "paper"}, format="json")
    assert answer.status_code == 201, answer.content
    assert (answer.json()["text_version"], answer.json()["channel"]) == ("2026-03", "paper")
    listed = client_for(staff).get(f"/api/v1/workers/{worker.pk}/consent/").json()
    assert [row["text_version"] for row in listed] == ["2026-03"]


def test_registration_records_the_consent_with_the_current_version(staff, settings) -> None:  # noqa: ANN001
    settings.CONSENT_TEXT_VERSION = "2026-02"
    recruiter, pilot = f.RecruiterFactory(), f.PilotFactory()
    worker = services.worker_register(
        recruiter=recruiter,
        pilot=pilot,
        registered_on=datetime.date(2026, 1, 10),
        recorded_by=staff,
        given_names="Ana",
        family_names="Pérez",
        date_of_birth=datetime.date(1995, 1, 1),
        gender="female",
        nationality="GT",
        consent_given_at=timezone.now(),
        consent_channel=wrk.ConsentChannel.VERBAL,
    )
    consent = wrk.Consent.objects.get(worker=worker)
    assert (consent.text_version, consent.channel) == ("2026-02", "verbal")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "carrier pigeon"}, "channel"),
        ({}, "channel"),
        ({"channel": "paper", "given_at": "2099-01-01T00:00:00Z"}, "given_at"),
        ({"channel": "paper", "text_version": "v" * 41}, "text_version"),
    ],
)
def test_bad_consent_is_refused(staff, worker, body: dict, field: str) -> None:  # noqa: ANN001
    answer = client_for(staff).post(f"/api/v1/workers/{worker.pk}/consent/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == field
    assert wrk.Consent.objects.count() == 0


def test_only_staff_record_consent(worker) -> None:  # noqa: ANN001
    recruiter_user = f.RecruiterUserFactory(organisation=worker.recruiter.organisation)
    answer = client_for(recruiter_user).post(f"/api/v1/workers/{worker.pk}/consent/", {"channel": "paper"})
    assert answer.status_code == 403
    assert wrk.Consent.objects.count() == 0


def test_withdrawal_stops_check_ins_and_messages(staff, worker, client, settings) -> None:  # noqa: ANN001
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    consent_record(worker=worker, channel=wrk.ConsentChannel.PAPER, recorded_by=staff)
    check_in, secret = services.check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=staff)
    services.check_in_invite(check_in=check_in, secret=secret, send=False)
    assert client.get(reverse("check-in", args=[secret])).status_code == 200
    pending = wrk.OutboxMessage.objects.filter(status=wrk.OutboxStatus.PENDING).count()
    assert pending == 2  # email and SMS

    answer = client_for(staff).post(
        f"/api/v1/workers/{worker.pk}/consent/withdraw/", {"channel": "verbal"}, format="json"
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["withdrawal_channel"] == "verbal"
    assert wrk.OutboxMessage.objects.filter(status=wrk.OutboxStatus.CANCELLED).count() == 2
    assert services.outbox_send() == {"sent": 0, "failed": 0}
    assert mail.outbox == []
    page = client.get(reverse("check-in", args=[secret]))
    assert page.status_code == 404  # the link opens nothing, as a forged one
    assert 'name="fee_paid"' not in page.content.decode()
    with pytest.raises(services.ValidationError) as refused:
        services.check_in_create(worker=worker, moment=CheckInMoment.DAY_90, created_by=staff)
    assert "worker" in refused.value.message_dict
    assert wrk.CheckIn.objects.filter(worker=worker).count() == 1


def test_the_daily_job_passes_over_a_worker_who_withdrew(staff) -> None:  # noqa: ANN001
    pilot = f.PilotFactory()
    staying = f.WorkerFactory(pilot=pilot, current_stage=Stage.VISA_ISSUED)
    leaving = f.WorkerFactory(pilot=pilot, current_stage=Stage.VISA_ISSUED)
    consent_withdraw(worker=leaving, channel=wrk.ConsentChannel.PAPER, withdrawn_by=staff)
    assert services.check_ins_due() == 1
    assert list(wrk.CheckIn.objects.values_list("worker_id", flat=True)) == [staying.pk]


def test_a_message_queued_before_a_withdrawal_is_not_sent(staff, worker, settings) -> None:  # noqa: ANN001
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    check_in, secret = services.check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=staff)
    services.check_in_invite(check_in=check_in, secret=secret, send=False)
    wrk.Worker.objects.filter(pk=worker.pk).update(consent_withdrawn_at=timezone.now())  # between queue and send
    assert services.outbox_send()["sent"] == 0
    assert mail.outbox == []
    assert set(wrk.OutboxMessage.objects.values_list("status", flat=True)) == {wrk.OutboxStatus.CANCELLED}


def test_a_withdrawal_twice_is_refused(staff, worker) -> None:  # noqa: ANN001
    client = client_for(staff)
    url = f"/api/v1/workers/{worker.pk}/consent/withdraw/"
    assert client.post(url, {"channel": "paper"}, format="json").status_code == 200
    again = client.post(url, {"channel": "paper"}, format="json")
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "worker"
    assert wrk.Consent.objects.filter(worker=worker).count() == 1


def test_consent_given_again_lifts_the_withdrawal(staff, worker) -> None:  # noqa: ANN001
    consent_withdraw(worker=worker, channel=wrk.ConsentChannel.PAPER, withdrawn_by=staff)
    consent_record(worker=worker, channel=wrk.ConsentChannel.PAPER, recorded_by=staff)
    worker.refresh_from_db()
    assert worker.consent_withdrawn_at is None
    services.check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=staff)


def test_the_dashboard_records_and_withdraws_consent(client, staff, worker) -> None:  # noqa: ANN001
    client.force_login(staff)
    bad = client.post(reverse("programme:worker-consent", args=[worker.pk]), {"channel": "fax"})
    assert bad.status_code == 400
    assert wrk.Consent.objects.count() == 0
    given = client.post(reverse("programme:worker-consent", args=[worker.pk]), {"channel": "paper"})
    assert given.status_code == 302
    withdrawn = client.post(reverse("programme:worker-consent-withdraw", args=[worker.pk]), {"channel": "verbal"})
    assert withdrawn.status_code == 302
    page = client.get(reverse("programme:worker", args=[worker.pk])).content.decode()
    assert "Withdrawn" in page
