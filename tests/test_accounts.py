"""Accounts that resist attack: failed logins locked out (dashboard and admin), a second factor for the staff
who approve and pay and for admins, and shorter sessions for them."""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.admin import helpers
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from financing.models import Disbursement, Tranche, TrancheStatus
from lamp import accounts
from lamp.models import ApiToken
from lamp.tokens import api_token_create
from tests import factories as f
from tests.financing.test_tranche_lifecycle import JAN, contract_with, q
from tests.test_settings import import_settings, production_env

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
LIMIT = settings.AXES_FAILURE_LIMIT


def log_in(client: Client, username: str, password: str = PASSWORD, *, url: str = "/login/", **extra: Any) -> Any:
    return client.post(url, {"username": username, "password": password}, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def code(key: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for ``key`` (hex), now or ``steps_ahead`` periods later."""
    totp = TOTP(bytes.fromhex(key))
    totp.time = time.time() + steps_ahead * totp.step
    return f"{totp.token():06d}"


def enrol(client: Client) -> TOTPDevice:
    """Enrol an app through the page, as a user does: open it, then send the code the app shows."""
    assert client.get(reverse("account-enrol")).status_code == 200
    key = client.session[accounts.SESSION_PENDING_KEY]
    response = client.post(reverse("account-enrol"), {"code": code(key)})
    assert response.status_code == 302, response.content.decode()
    return TOTPDevice.objects.get(key=key)


# --- Failed logins --------------------------------------------------------------------------------------------


def test_the_limit_of_wrong_passwords_locks_the_login_and_then_the_right_one_is_refused(client):
    staff = f.StaffUserFactory(username="staff")
    for _ in range(LIMIT - 1):
        assert log_in(client, "staff", "wrong").status_code == 200  # the form again, with its error

    locked = log_in(client, "staff", "wrong")
    assert locked.status_code == 429
    right = log_in(client, "staff")

    assert right.status_code == 429 and not logged_in(client)
    html = right.content.decode()
    assert "Logging in is paused" in html and 'class="topbar"' in html  # the dashboard's page, not raw text
    minutes = settings.AXES_COOLOFF_TIME.total_seconds() // 60
    until = (timezone.now() + settings.AXES_COOLOFF_TIME).strftime("%H:%M")
    assert f"Try again in {minutes:.0f} minutes, after {until} UTC." in html
    assert right["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert AccessAttempt.objects.get(username="staff").failures_since_start == LIMIT + 1
    assert staff.last_login is None


def test_after_the_cool_off_the_right_password_logs_in(client):
    f.StaffUserFactory(username="staff")
    for _ in range(LIMIT):
        log_in(client, "staff", "wrong")
    assert log_in(client, "staff").status_code == 429

    # The cool-off passes: the attempts' time moves back by as much (axes compares it with the clock).
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    )

    assert log_in(client, "staff").status_code == 302 and logged_in(client)


def test_an_administrator_unlocks_a_locked_login(client):
    f.StaffUserFactory(username="staff")
    for _ in range(LIMIT):
        log_in(client, "staff", "wrong")

    assert reset(username="staff") == 1

    assert log_in(client, "staff").status_code == 302 and logged_in(client)


def test_a_success_clears_the_count(client):
    f.StaffUserFactory(username="staff")
    for _ in range(LIMIT - 1):
        log_in(client, "staff", "wrong")
    assert log_in(client, "staff").status_code == 302
    client.post(reverse("logout"))

    for _ in range(LIMIT - 1):
        assert log_in(client, "staff", "wrong").status_code == 200

    assert log_in(client, "staff").status_code == 302 and logged_in(client)


def test_the_lock_holds_one_username_from_one_address(client):
    """Nobody locks a staff member out from elsewhere by knowing the username, and other users log in."""
    f.StaffUserFactory(username="staff")
    f.StaffUserFactory(username="colleague")
    for _ in range(LIMIT):
        log_in(client, "staff", "wrong", REMOTE_ADDR="203.0.113.7")

    assert log_in(client, "colleague", REMOTE_ADDR="203.0.113.7").status_code == 302
    client.post(reverse("logout"))
    assert log_in(client, "staff", REMOTE_ADDR="198.51.100.2").status_code == 302


def test_a_forged_forwarded_address_does_not_escape_the_lock(client):
    f.StaffUserFactory(username="staff")
    for n in range(LIMIT):
        log_in(client, "staff", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert log_in(client, "staff", HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429


def test_behind_our_proxy_the_address_it_saw_is_counted(client, settings):
    settings.LOGIN_PROXY_COUNT = 1
    f.StaffUserFactory(username="staff")
    for _ in range(LIMIT):
        log_in(client, "staff", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert log_in(client, "staff", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert log_in(client, "staff", HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.2").status_code == 302


def test_the_admin_login_is_locked_out_too(client):
    f.SuperUserFactory(username="admin")
    admin_login = reverse("admin:login")
    for _ in range(LIMIT - 1):
        assert log_in(client, "admin", "wrong", url=admin_login).status_code == 200
    assert log_in(client, "admin", "wrong", url=admin_login).status_code == 429

    right = log_in(client, "admin", url=admin_login)

    assert right.status_code == 429 and not logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 302  # still the login page


def test_the_lockout_page_speaks_the_users_language(client):
    f.StaffUserFactory(username="staff")
    for _ in range(LIMIT):
        response = log_in(client, "staff", "wrong", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 429
    assert '<html lang="es">' in response.content.decode()


def test_the_api_takes_no_password(client, staff_user):
    """No path of the API checks a password (so none escapes the lockout): HTTP Basic is not a scheme of it."""
    basic = base64.b64encode(f"{staff_user.username}:{PASSWORD}".encode()).decode()

    response = client.get("/api/v1/workers/", HTTP_AUTHORIZATION=f"Basic {basic}")

    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] is None


# --- The second factor ---------------------------------------------------------------------------------------


def test_the_second_factor_is_on_in_production_and_off_in_development(tmp_path):
    production = import_settings(production_env(tmp_path), show="LAMP_REQUIRE_2FA")
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip() == "True"
    assert settings.LAMP_REQUIRE_2FA is False  # the suite runs as development: the demo logins keep working


@pytest.fixture
def required(settings):  # noqa: ANN001, ANN201
    settings.LAMP_REQUIRE_2FA = True


def test_staff_enrol_after_their_password_then_reach_the_dashboard(client, required):
    staff = f.StaffUserFactory(username="staff")

    response = log_in(client, "staff")
    assert response.status_code == 302 and response["Location"].startswith(reverse("account-verify"))
    assert client.get(response["Location"])["Location"].startswith(reverse("account-enrol"))
    assert client.get(reverse("programme:overview"))["Location"].startswith(reverse("account-verify"))

    page = client.get(reverse("account-enrol"))
    html = page.content.decode()
    key = client.session[accounts.SESSION_PENDING_KEY]
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    assert '<svg width="' in html and 'class="segno"' in html  # the QR code, inline
    assert f"secret={secret}" in html  # the otpauth URI
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html  # the key, to type
    assert "<script" not in html.split("</head>")[1] and "style=" not in html

    wrong = client.post(reverse("account-enrol"), {"code": code(key, steps_ahead=5)})
    assert "That code is not right" in wrong.content.decode() and not TOTPDevice.objects.exists()
    confirmed = client.post(reverse("account-enrol"), {"code": code(key), "next": reverse("programme:overview")})

    assert confirmed["Location"] == reverse("programme:overview")
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed and device.key == key
    assert client.get(reverse("programme:overview")).status_code == 200


def test_an_enrolled_user_gives_a_code_once_per_login(client, required):
    staff = f.StaffUserFactory(username="staff")
    client.force_login(staff)
    device = enrol(client)
    client.post(reverse("logout"))

    response = log_in(client, "staff", url="/login/?next=/contracts/")
    assert response["Location"] == f"{reverse('account-verify')}?next=%2Fcontracts%2F"
    assert client.get(reverse("account-enrol"))["Location"].startswith(reverse("account-verify"))  # no new phone
    reused = client.post(reverse("account-verify"), {"code": code(device.key), "next": "/contracts/"})
    assert "That code is not right" in reused.content.decode()  # the enrolment's code is spent
    throttled = client.post(reverse("account-verify"), {"code": "000000", "next": "/contracts/"})
    assert "Too many wrong codes" in throttled.content.decode()
    TOTPDevice.objects.update(throttling_failure_timestamp=timezone.now() - datetime.timedelta(minutes=5))

    verified = client.post(reverse("account-verify"), {"code": code(device.key, steps_ahead=1), "next": "/contracts/"})

    assert verified.status_code == 302 and verified["Location"] == "/contracts/"
    assert client.get("/contracts/").status_code == 200
    assert client.get(reverse("account-verify"))["Location"] == reverse("home")


@pytest.mark.parametrize(
    ("code_sent", "reason"),
    [
        ("", "This field is required."),
        ("12345", "Enter the six digits your authenticator app shows."),
        ("1234567", "Enter the six digits your authenticator app shows."),
        ("abcdef", "Enter the six digits your authenticator app shows."),
        ("12 34 5x", "Enter the six digits your authenticator app shows."),
        ("1" * 13, "Ensure this value has at most 12 characters"),
    ],
)
def test_a_malformed_code_is_refused_with_the_reason(client, required, code_sent, reason):
    client.force_login(f.StaffUserFactory())
    client.get(reverse("account-enrol"))

    response = client.post(reverse("account-enrol"), {"code": code_sent})

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not TOTPDevice.objects.exists()


def test_the_next_page_stays_on_this_site(client, required):
    client.force_login(f.StaffUserFactory())
    client.get(reverse("account-enrol"))
    key = client.session[accounts.SESSION_PENDING_KEY]

    response = client.post(reverse("account-enrol"), {"code": code(key), "next": "https://evil.example/"})

    assert response["Location"] == reverse("home")


def test_before_the_code_a_user_reaches_nothing_else(client, required):
    contract, _ = contract_with([JAN])
    client.force_login(f.SuperUserFactory())
    tokens = ApiToken.objects.count()

    dashboard = client.post(
        reverse("financing:tranche-approve", args=[q(contract, "2026-Q1").pk]), {"expected_total": "500.00"}
    )
    admin_action = client.post(
        reverse("admin:financing_tranche_changelist"),
        {"action": "approve", helpers.ACTION_CHECKBOX_NAME: [q(contract, "2026-Q1").pk]},
    )
    api = client.post(f"/api/v1/contracts/{contract.pk}/tranches/2026-Q1/approve/", {}, content_type="application/json")
    token = client.post(reverse("programme:portal-tokens"), {"name": "bot"})

    for refused in (dashboard, admin_action, token):
        assert refused.status_code == 302 and refused["Location"].startswith(reverse("account-verify"))
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("account-verify"))
    assert api.status_code == 403
    assert api.json()["errors"] == [{"field": None, "message": api.json()["detail"]}]
    assert "Two-factor verification required" in api.json()["detail"]
    assert q(contract, "2026-Q1").status == TrancheStatus.OPEN
    assert ApiToken.objects.count() == tokens
    htmx = client.get(reverse("programme:overview"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"].startswith(reverse("account-verify"))
    assert client.post(reverse("logout")).status_code == 302 and not logged_in(client)


def test_a_verified_session_approves_and_pays(client, required):
    contract, _ = contract_with([JAN])
    client.force_login(f.StaffUserFactory())
    enrol(client)
    tranche = q(contract, "2026-Q1")

    client.post(reverse("financing:tranche-approve", args=[tranche.pk]), {"expected_total": "500.00"})
    api = client.post(
        f"/api/v1/contracts/{contract.pk}/tranches/2026-Q1/payments/",
        {"amount": "500.00", "paid_on": "2026-05-02", "reference": "WIRE-1"},
        content_type="application/json",
    )

    assert api.status_code == 201, api.json()
    assert q(contract, "2026-Q1").status == TrancheStatus.PAID
    assert Disbursement.objects.filter(tranche=tranche).count() == 1


def test_a_staff_token_is_not_asked_for_a_code(required):
    """Tokens are issued from a verified session (above) and are long random secrets, not passwords."""
    contract, _ = contract_with([JAN])
    _, secret = api_token_create(user=f.StaffUserFactory(), name="finance system")
    api = APIClient()

    response = api.post(
        f"/api/v1/contracts/{contract.pk}/tranches/2026-Q1/approve/",
        {"expected_total": "500.00"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert response.status_code == 200, response.json()
    assert q(contract, "2026-Q1").status == TrancheStatus.APPROVED


def test_partners_are_not_asked_but_may_enrol(client, required):
    recruiter = f.RecruiterUserFactory(username="recruiter")
    assert log_in(client, "recruiter")["Location"] == reverse("home")
    assert client.get(reverse("programme:portal")).status_code == 200
    assert client.get(reverse("account-verify"))["Location"] == reverse("home")

    device = enrol(client)
    client.post(reverse("logout"))
    assert log_in(client, "recruiter")["Location"].startswith(reverse("account-verify"))  # now asked, as they chose
    assert client.get(reverse("programme:portal"))["Location"].startswith(reverse("account-verify"))
    client.post(reverse("account-verify"), {"code": code(device.key, steps_ahead=1)})

    assert client.get(reverse("programme:portal")).status_code == 200
    assert TOTPDevice.objects.get().user == recruiter


def test_an_enrolled_device_is_asked_for_in_development_too(client):
    staff = f.StaffUserFactory(username="staff")
    client.force_login(staff)
    enrol(client)
    client.post(reverse("logout"))

    assert log_in(client, "staff")["Location"].startswith(reverse("account-verify"))
    assert client.get(reverse("programme:overview"))["Location"].startswith(reverse("account-verify"))


def test_the_pages_of_the_second_factor_need_a_login(client):
    for name in ("account-enrol", "account-verify"):
        assert client.get(reverse(name))["Location"].startswith(reverse("login"))


# --- Sessions ----------------------------------------------------------------------------------------------------


def age_session(client: Client, **seconds: int) -> None:
    session = client.session
    for key, ago in seconds.items():
        session[key] = session[key] - ago
    session.save()


def test_a_staff_session_is_short_and_a_partners_keeps_its_length(client):
    response = log_in(client, f.StaffUserFactory().username)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.STAFF_SESSION_IDLE_MINUTES * 60
    client.post(reverse("logout"))

    response = log_in(client, f.RecruiterUserFactory().username)

    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert accounts.SESSION_STARTED not in client.session
    assert settings.SESSION_COOKIE_AGE == 14 * 24 * 3600


def test_a_staff_session_ends_hours_after_login_however_busy(client, staff_user):
    client.force_login(staff_user)
    hours = settings.STAFF_SESSION_HOURS * 3600
    age_session(client, **{accounts.SESSION_STARTED: hours + 1, accounts.SESSION_SEEN: 0})

    response = client.get(reverse("programme:overview"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert f"Your session ended {settings.STAFF_SESSION_HOURS} hours after you logged in." in response.content.decode()
    assert not logged_in(client)


def test_a_staff_session_ends_when_idle_and_lasts_while_used(client, staff_user):
    client.force_login(staff_user)
    idle = settings.STAFF_SESSION_IDLE_MINUTES * 60
    age_session(client, **{accounts.SESSION_STARTED: idle - 120, accounts.SESSION_SEEN: idle - 120})
    assert client.get(reverse("programme:overview")).status_code == 200
    assert int(timezone.now().timestamp()) - client.session[accounts.SESSION_SEEN] < 5  # the use is noted

    age_session(client, **{accounts.SESSION_SEEN: idle + 1})
    response = client.get(reverse("programme:overview"), follow=True)

    assert "minutes without activity" in response.content.decode()
    assert not logged_in(client)


def test_a_partners_session_has_no_staff_clock(client):
    client.force_login(f.RecruiterUserFactory())

    assert accounts.SESSION_STARTED not in client.session
    assert client.get(reverse("programme:portal")).status_code == 200


def test_a_tranche_stays_open_without_a_session(client, staff_user):
    """The expired session's POST writes nothing: it reaches the view as anonymous."""
    contract, _ = contract_with([JAN])
    client.force_login(staff_user)
    age_session(client, **{accounts.SESSION_SEEN: settings.STAFF_SESSION_IDLE_MINUTES * 60 + 1})

    client.post(reverse("financing:tranche-approve", args=[q(contract, "2026-Q1").pk]), {"expected_total": "500.00"})

    assert Tranche.objects.get(pk=q(contract, "2026-Q1").pk).status == TrancheStatus.OPEN
