"""Check-ins go out by themselves: made at each pilot's moments, sent by email and SMS through the outbox (an
HTTP gateway here a real local server), listed for the field team, and reminded once."""

from __future__ import annotations

import datetime
import http.server
import json
import threading
from collections.abc import Iterator

import pytest
from django.core import mail
from django.urls import reverse

from pilots.stages import CheckInMoment, Stage
from tests import factories as f
from workers.models import CheckIn, OutboxMessage, OutboxStatus
from workers.services import (
    check_in_create,
    check_in_invite,
    check_in_reminders,
    check_ins_due,
    outbox_retry,
    outbox_send,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 10, 15)


class Gateway(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []
    answer = 202

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append({"body": json.loads(body), "auth": self.headers.get("Authorization")})
        self.send_response(Gateway.answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway(settings) -> Iterator[type[Gateway]]:  # noqa: ANN001
    """A real HTTP server on loopback standing in for the SMS gateway, with the backend pointed at it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Gateway.received, Gateway.answer = [], 202
    settings.SMS_BACKEND = "workers.sms.HttpGatewaySmsBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_GATEWAY_TOKEN = "gateway-secret"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LAMP_PUBLIC_URL = "https://lamp.example.org"
    yield Gateway
    server.shutdown()
    server.server_close()


def test_check_ins_are_made_at_each_pilots_moments_once(django_capture_on_commit_callbacks):
    pilot = f.PilotFactory()
    departing = f.WorkerFactory(pilot=pilot, current_stage=Stage.VISA_ISSUED)
    at_day_30 = f.WorkerFactory(pilot=pilot, current_stage=Stage.WORKING)
    f.EmploymentFactory(worker=at_day_30, start_date=TODAY - datetime.timedelta(days=33))
    too_late = f.WorkerFactory(pilot=pilot, current_stage=Stage.WORKING)
    f.EmploymentFactory(worker=too_late, start_date=TODAY - datetime.timedelta(days=60))
    quiet = f.PilotFactory(check_in_moments=[])
    f.WorkerFactory(pilot=quiet, current_stage=Stage.VISA_ISSUED)

    with django_capture_on_commit_callbacks():
        assert check_ins_due(today=TODAY) == 2
        assert check_ins_due(today=TODAY) == 0  # once a moment a season

    made = set(CheckIn.objects.values_list("worker_id", "moment"))
    assert made == {(departing.pk, CheckInMoment.PRE_DEPARTURE), (at_day_30.pk, CheckInMoment.DAY_30)}


def test_the_outbox_sends_each_link_by_email_and_sms_in_the_workers_language(gateway):
    worker = f.WorkerFactory(nationality="GT", email="ana@example.org", phone="+502 5521 4410")
    check_in, secret = check_in_create(worker=worker, moment=CheckInMoment.DAY_90, created_by=None)
    check_in_invite(check_in=check_in, secret=secret)

    assert outbox_send() == {"sent": 2, "failed": 0}
    assert outbox_send() == {"sent": 0, "failed": 0}  # each message once

    link = f"https://lamp.example.org{reverse('check-in', args=[secret])}"
    (email,) = mail.outbox
    assert email.to == ["ana@example.org"] and email.subject == "Su consulta" and link in email.body
    (sms,) = gateway.received
    assert sms["auth"] == "Bearer gateway-secret"
    assert sms["body"]["to"] == "+502 5521 4410" and sms["body"]["from"] == "LaMP"
    assert sms["body"]["text"] == f"Unas preguntas sobre su trabajo. Sus respuestas son privadas: {link}"


def test_a_gateway_that_refuses_is_retried_then_the_message_fails_saying_why(gateway):
    gateway.answer = 503
    worker = f.WorkerFactory(email="", phone="+63 917 555 0101", nationality="PH")
    check_in, secret = check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=None)
    check_in_invite(check_in=check_in, secret=secret)

    for _ in range(4):
        assert outbox_send() == {"sent": 0, "failed": 0}
    assert outbox_send() == {"sent": 0, "failed": 1}
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 5) and "503" in message.error
    assert len(gateway.received) == 5 and gateway.received[0]["body"]["text"].startswith("Ilang tanong")

    gateway.answer = 200  # the gateway is back: staff try the failed message again
    assert outbox_retry(message_ids=[message.pk]) == 1
    assert outbox_send() == {"sent": 1, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == (OutboxStatus.SENT, 1, "")


def test_workers_without_email_or_phone_are_on_the_field_teams_list(client, staff_user):
    client.force_login(staff_user)
    worker = f.WorkerFactory(email="", phone=None, given_names="Rosa")
    check_in, secret = check_in_create(worker=worker, moment=CheckInMoment.PRE_DEPARTURE, created_by=None)
    check_in_invite(check_in=check_in, secret=secret)

    response = client.get(reverse("workers:check-in-links"), {"pilot": worker.pilot_id})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert "Rosa" in body and reverse("check-in", args=[secret]) in body
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT  # handed to the field team
    recruiter = f.RecruiterUserFactory()
    client.force_login(recruiter)
    assert client.get(reverse("workers:check-in-links")).status_code == 403


def test_an_unanswered_check_in_is_reminded_once_with_the_same_link(gateway):
    worker = f.WorkerFactory(email="", phone="+502 5521 4410")
    check_in, secret = check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=None)
    check_in_invite(check_in=check_in, secret=secret)
    outbox_send()
    later = check_in.created_at + datetime.timedelta(days=8)

    assert check_in_reminders(now=later) == 1
    assert check_in_reminders(now=later) == 0
    outbox_send()
    first, reminder = (row["body"]["text"] for row in gateway.received)
    assert reminder.startswith("Recordatorio: su consulta sigue abierta.")
    assert first.split(": ")[-1] == reminder.split(": ")[-1]  # the same link
