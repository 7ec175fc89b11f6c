"""Accounts that resist attack: failed logins locked out, a second factor, shorter sessions for staff.

- **Failed logins** are counted by django-axes (``LoginAttemptBackend``, first of ``AUTHENTICATION_BACKENDS``)
  for every form that checks a password: the dashboard's ``/login/`` and the admin's. Past the limit the
  username from that address is refused, with ``lockout_response``'s page, until the cool-off has passed.
- **A second factor** (a TOTP app, django-otp) is asked after the password of program staff and admin users
  when ``LAMP_REQUIRE_2FA`` is on, and of anyone who enrolled a device. Until the session is verified,
  ``AccountMiddleware`` lets such a user reach only the enrol and verify pages and logout: every dashboard
  page, the admin and the API through the session (approving tranches, recording payments, issuing API
  tokens) are behind it. API tokens are not asked for a code: a staff member's token is issued from a
  verified session (the token page and the admin are behind the gate), and it is a long random secret.
- **Sessions** of program staff and admin users end ``STAFF_SESSION_HOURS`` after login, or after
  ``STAFF_SESSION_IDLE_MINUTES`` without a request; partners keep Django's ``SESSION_COOKIE_AGE``.
"""

from __future__ import annotations

import datetime
import math
import time
from base64 import b32encode
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import segno
from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device, verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from lamp.api_base import error_body
from lamp.middleware import is_api

View = Callable[..., HttpResponse]

#: Session keys: when the session began and was last used (seconds since the epoch), for staff sessions only;
#: whether the user had a device at login (then the code is asked whatever LAMP_REQUIRE_2FA says); the key of
#: a device being enrolled, kept here until its first code confirms it.
SESSION_STARTED = "lamp_session_started"
SESSION_SEEN = "lamp_session_seen"
SESSION_ENROLLED = "lamp_two_factor_enrolled"
SESSION_PENDING_KEY = "lamp_two_factor_pending_key"
SEEN_RESOLUTION = 60  # the last-use time is written at most once a minute: one session write, not one a request
DEVICE_NAME = "Authenticator app"


# --- Who needs what -----------------------------------------------------------------------------------


def is_privileged(user: Any) -> bool:
    """Program staff (who approve tranches and record payments) and admin users: a second factor, short sessions."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (getattr(user, "is_program_staff", False) or user.is_superuser or user.is_staff)
    )


def two_factor_required(user: Any) -> bool:
    """Whether this user's role must pass a second factor (``LAMP_REQUIRE_2FA``)."""
    return bool(settings.LAMP_REQUIRE_2FA) and is_privileged(user)


def is_verified(user: Any) -> bool:
    """Whether this request's session passed its second factor (django-otp's ``OTPMiddleware``)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def verification_pending(request: HttpRequest) -> bool:
    """A signed-in user who must give a code (by role, or having enrolled a device) and has not yet."""
    user = request.user
    if not user.is_authenticated or is_verified(user):
        return False
    return two_factor_required(user) or bool(request.session.get(SESSION_ENROLLED))


def two_factor_exempt(view: View) -> View:
    """Mark a view as reachable before the second factor (the enrol and verify pages, logout)."""
    view.two_factor_exempt = True  # type: ignore[attr-defined]
    return view


# --- Failed logins (django-axes) ------------------------------------------------------------------------


class LoginAttemptBackend(AxesStandaloneBackend):
    """django-axes' lockout check, before any password is tried.

    Every password check over HTTP passes its request (Django's login forms, the admin's); a check from code
    without one (the shell, the test client's ``login()``) has no address to count and is left to the next
    backend rather than refused.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The caller's address: ``REMOTE_ADDR``, or behind ``LOGIN_PROXY_COUNT`` proxies of our own, the address
    the outermost of them saw (each proxy appends the address it was called from to ``X-Forwarded-For``)."""
    count = settings.LOGIN_PROXY_COUNT
    if count > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The page of a locked-out login: a 429 that says when to try again (every try restarts the cool-off)."""
    cool_off = get_cool_off(request) or datetime.timedelta(0)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    context = {"minutes": minutes, "until": timezone.now() + cool_off}
    response = render(request, "dashboard/account/locked_out.html", context, status=429)
    response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return response


# --- Sessions -------------------------------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="lamp.accounts.session_start")
def _session_start(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """At every login (the dashboard's, the admin's): note a device, and time a staff session."""
    if request is None or not hasattr(request, "session"):
        return
    if user_has_device(user):
        request.session[SESSION_ENROLLED] = True
    if is_privileged(user):
        now = int(timezone.now().timestamp())
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now
        request.session.set_expiry(settings.STAFF_SESSION_IDLE_MINUTES * 60)


def session_ended(request: HttpRequest) -> str | None:
    """``"absolute"`` or ``"idle"`` if this staff session has run out, else ``None`` (and the use is noted)."""
    session = request.session
    started = session.get(SESSION_STARTED)
    if started is None:
        return None
    now = int(timezone.now().timestamp())
    if now - started > settings.STAFF_SESSION_HOURS * 3600:
        return "absolute"
    seen = session.get(SESSION_SEEN, started)
    if now - seen > settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return "idle"
    if now - seen >= SEEN_RESOLUTION:
        session[SESSION_SEEN] = now  # saved with the response, which also pushes the session's expiry on
    return None


class AccountMiddleware:
    """Ends staff sessions that ran out, and keeps a user who owes a second factor to the enrol/verify pages.

    After ``AuthenticationMiddleware`` and django-otp's ``OTPMiddleware``. Requests with an API token
    (``Authorization: Bearer …``) are the token's business, not the session's: they pass.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ended = session_ended(request)
        if ended is not None:
            logout(request)
            if not is_api(request):
                messages.info(request, _session_ended_message(ended))
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: View, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        if getattr(view_func, "two_factor_exempt", False) or _has_token(request):
            return None
        if not (settings.LAMP_REQUIRE_2FA or request.session.get(SESSION_ENROLLED)):
            return None  # nobody can owe a code: no user is loaded for it
        if not verification_pending(request):
            return None
        if is_api(request):
            message = _(
                "Two-factor verification required: enter the code from your authenticator app on the dashboard "
                "(%(url)s) before using the API with this session."
            ) % {"url": reverse("account-verify")}
            return JsonResponse(error_body(message), status=403)
        target = verify_url(next_url=request.get_full_path() if request.method == "GET" else "")
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)


def _has_token(request: HttpRequest) -> bool:
    scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0].lower()
    return scheme in {"bearer", "token"}


def _session_ended_message(why: str) -> str:
    if why == "absolute":
        hours = settings.STAFF_SESSION_HOURS
        return ngettext(
            "Your session ended %(hours)s hour after you logged in. Log in again.",
            "Your session ended %(hours)s hours after you logged in. Log in again.",
            hours,
        ) % {"hours": hours}
    minutes = settings.STAFF_SESSION_IDLE_MINUTES
    return ngettext(
        "Your session ended after %(minutes)s minute without activity. Log in again.",
        "Your session ended after %(minutes)s minutes without activity. Log in again.",
        minutes,
    ) % {"minutes": minutes}


# --- The second factor: services ----------------------------------------------------------------------


def totp_key_new() -> str:
    """A new device secret: 20 random bytes, hex (django-otp's own default)."""
    return random_hex(20)


def totp_secret_text(key: str) -> str:
    """The secret as an authenticator app takes it typed: base32, in groups of four."""
    secret = b32encode(bytes.fromhex(key)).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def totp_device_confirm(*, user: Any, key: str, code: str) -> TOTPDevice | None:
    """Enrol the device of ``key`` if ``code`` is its current code; it replaces the user's other TOTP devices.

    Nothing is written for a wrong code: an unconfirmed device is never stored.
    """
    device = TOTPDevice(user=user, key=key, name=DEVICE_NAME, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not code.isdigit() or not totp.verify(int(code), device.tolerance):
        return None
    device.last_t = totp.t()  # the code just used cannot be used again
    device.full_clean()
    TOTPDevice.objects.filter(user=user).delete()
    device.save()
    return device


def totp_code_check(*, user: Any, code: str) -> tuple[TOTPDevice | None, datetime.datetime | None]:
    """The user's device that accepts ``code`` (each used once; wrong codes slow the next tries down, by
    django-otp's throttling), else ``None`` and, while throttled, until when."""
    locked_until = None
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        allowed, data = device.verify_is_allowed()
        if not allowed:  # too soon after a wrong code: this one is not even tried
            locked_until = (data or {}).get("locked_until") or timezone.now()
            continue
        if verify_token(user, device.persistent_id, code):
            return TOTPDevice.objects.get(pk=device.pk), None
    return None, locked_until


def verify_url(*, next_url: str = "") -> str:
    url = reverse("account-verify")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --- The second factor: pages ---------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True, "pattern": r"[0-9 ]*"}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the six digits your authenticator app shows."))
        return code


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _verified(request: HttpRequest, device: TOTPDevice) -> None:
    """Mark the session verified by ``device``, under a new session key (the old one may have been seen)."""
    otp_login(request, device)
    request.session[SESSION_ENROLLED] = True
    request.session.cycle_key()


@two_factor_exempt
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the user's authenticator app."""
    user = request.user
    if is_verified(user):
        return redirect(_next_url(request))
    if not user_has_device(user):
        if two_factor_required(user):
            return redirect(f"{reverse('account-enrol')}?{urlencode({'next': _next_url(request)})}")
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, locked_until = totp_code_check(user=user, code=form.cleaned_data["code"])
        if device is not None:
            _verified(request, device)
            return redirect(_next_url(request))
        if locked_until is not None:
            form.add_error(
                "code",
                _("Too many wrong codes: wait until %(time)s UTC, then enter the code your app shows.")
                % {"time": timezone.localtime(locked_until).strftime("%H:%M:%S")},
            )
        else:
            form.add_error("code", _("That code is not right, or it has expired. Enter the code your app shows now."))
    return render(request, "dashboard/account/verify.html", {"form": form, "next": _next_url(request)})


@two_factor_exempt
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: its QR code and secret, confirmed by a first code."""
    user = request.user
    enrolled = user_has_device(user)
    if enrolled and not is_verified(user):
        # A new device only from a verified session: a password alone must not be able to replace the phone.
        return redirect(verify_url(next_url=request.get_full_path()))
    key = request.session.get(SESSION_PENDING_KEY)
    if not key:
        key = request.session[SESSION_PENDING_KEY] = totp_key_new()
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = totp_device_confirm(user=user, key=key, code=form.cleaned_data["code"])
        if device is not None:
            del request.session[SESSION_PENDING_KEY]
            _verified(request, device)
            messages.success(
                request,
                _("Two-factor authentication is on: after your password you will be asked for a code from your app."),
            )
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not right, or it has expired. Enter the code your app shows now."))
    uri = TOTPDevice(user=user, key=key).config_url
    qr = segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title=_("QR code of your authenticator key"))
    context = {
        "form": form,
        "next": _next_url(request),
        "qr": mark_safe(qr),  # noqa: S308 - segno's own SVG markup, made from our URI
        "secret": totp_secret_text(key),
        "uri": uri,
        "required": two_factor_required(user),
        "replaces": enrolled,
    }
    return render(request, "dashboard/account/enrol.html", context)
