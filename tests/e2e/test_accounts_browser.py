"""The second factor in a real browser: a staff member enrols an authenticator app after the password (the QR
code and the key on one page), and at the next login gives the app's code before reaching the dashboard."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password


def app_code(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key as typed from the page (base32, in groups)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time() + steps_ahead * totp.step
    return f"{totp.token():06d}"


def test_enrol_then_verify_at_the_next_login(new_page, settings):  # noqa: ANN001
    settings.LAMP_REQUIRE_2FA = True
    staff = factories.StaffUserFactory(username="maria", first_name="María", last_name="Castillo")

    page = new_page("maria", PASSWORD)
    assert "/account/two-factor/" in page.url
    assert page.locator("main svg.segno").is_visible()  # the QR code
    secret = page.locator("#totp-secret").inner_text()
    screenshot(page, "accounts-enrol")
    page.fill("#id_code", app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    page.wait_for_load_state("networkidle")
    assert "/account/" not in page.url
    assert "Two-factor authentication is on" in page.inner_text("main")
    assert TOTPDevice.objects.get(user=staff).confirmed

    again = new_page("maria", PASSWORD)
    assert "/account/verify/" in again.url
    again.goto("/workers/")
    assert "/account/verify/" in again.url  # nothing else before the code
    again.fill("#id_code", app_code(secret, steps_ahead=1))  # the enrolment's code is spent: the app's next one
    again.get_by_role("button", name="Verify").click()
    again.wait_for_load_state("networkidle")
    assert again.url.endswith("/workers/")
    assert again.get_by_role("heading", name="Workers").first.is_visible()
    screenshot(again, "accounts-verified")
