"""API tokens end to end: issued by the service, the admin and the command; presented as real headers;
refused with a 401 that says why; stored as a hash only; throttled per token; errors in one shape."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from lamp.api import exception_handler
from lamp.authentication import TokenAuthentication
from lamp.models import ApiToken
from lamp.tokens import api_token_create, api_token_revoke
from pilots.models import User
from tests.factories import RecruiterUserFactory, StaffUserFactory, UserFactory
from tests.financing.scenarios import worked_example

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/simulate/"
SCENARIO = worked_example()


def make_token(user: User | None = None, **kwargs: object) -> tuple[ApiToken, str]:
    return api_token_create(user=user or RecruiterUserFactory(), name=kwargs.pop("name", "CRM sync"), **kwargs)


def bearer(secret: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def assert_error_shape(response, status: int) -> str:  # noqa: ANN001 - a test response
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["errors"] == [{"field": None, "message": body["detail"]}]
    assert body["detail"]
    return body["detail"]


# --- authentication -------------------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_a_valid_token_is_let_in(keyword):
    token, secret = make_token()

    response = bearer(secret, keyword).post(URL, SCENARIO, format="json")

    assert response.status_code == 200
    assert response.json()["total"] == "1500.00"


def test_without_a_token_the_answer_is_401_with_a_bearer_challenge():
    response = APIClient().post(URL, SCENARIO, format="json")

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer lamp_not-a-token", "Invalid token."),
        ("Bearer", "Malformed Authorization header"),
        ("Bearer two words", "Malformed Authorization header"),
    ],
)
def test_a_wrong_token_is_a_401_saying_so(header, message):
    make_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.post(URL, SCENARIO, format="json")

    assert message in assert_error_shape(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_refused_saying_it_expired():
    token, secret = make_token(expires_in_days=1)
    assert bearer(secret).post(URL, SCENARIO, format="json").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = bearer(secret).post(URL, SCENARIO, format="json")

    assert "expired" in assert_error_shape(response, 401)


def test_a_revoked_token_is_refused_saying_it_was_revoked():
    token, secret = make_token()
    api_token_revoke(token=token, by=StaffUserFactory())

    response = bearer(secret).post(URL, SCENARIO, format="json")

    assert "revoked" in assert_error_shape(response, 401)


def test_the_token_of_an_inactive_user_is_refused():
    user = RecruiterUserFactory()
    _, secret = make_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = bearer(secret).post(URL, SCENARIO, format="json")

    assert "inactive" in assert_error_shape(response, 401)


def test_the_token_authenticates_as_its_user():
    user = RecruiterUserFactory()
    token, secret = make_token(user)
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}"))

    assert TokenAuthentication().authenticate(request) == (user, token)


def test_a_staff_browser_session_still_works():
    client = APIClient()
    client.force_login(StaffUserFactory())
    assert client.post(URL, SCENARIO, format="json").status_code == 200


def test_a_session_post_without_csrf_is_a_403_in_the_error_shape():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(StaffUserFactory())

    response = client.post(URL, SCENARIO, format="json")

    assert "CSRF" in assert_error_shape(response, 403)


# --- storage --------------------------------------------------------------------------------------------


def test_only_the_hash_of_the_secret_is_stored():
    token, secret = make_token()

    assert secret.startswith("lamp_") and len(secret) == len("lamp_") + 43
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[len("lamp_") :][:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM lamp_apitoken t WHERE id = %s", [token.pk])
        (row,) = cursor.fetchone()
    assert secret not in row
    assert secret[len("lamp_") :] not in row
    assert secret[len("lamp_") + 8 :][:20] not in row  # not even the part after the prefix


def test_two_tokens_never_share_a_secret():
    secrets = {make_token()[1] for _ in range(5)}
    assert len(secrets) == 5


def test_a_token_lasts_at_least_a_day():
    with pytest.raises(Exception, match="at least one day"):
        make_token(expires_in_days=0)
    assert not ApiToken.objects.exists()


def test_revoking_twice_keeps_the_first_revocation():
    token, _ = make_token()
    first, second = StaffUserFactory(), StaffUserFactory()
    api_token_revoke(token=token, by=first)
    revoked_at = token.revoked_at

    api_token_revoke(token=token, by=second)

    token.refresh_from_db()
    assert (token.revoked_at, token.revoked_by) == (revoked_at, first)


# --- last use -------------------------------------------------------------------------------------------


def token_updates(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if 'UPDATE "lamp_apitoken"' in q["sql"]]


def test_last_use_is_recorded_at_most_once_a_minute():
    token, secret = make_token()
    assert token.last_used_at is None
    client = bearer(secret)

    with CaptureQueriesContext(connection) as first:
        assert client.post(URL, SCENARIO, format="json").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert len(token_updates(first)) == 1
    used_at = token.last_used_at

    with CaptureQueriesContext(connection) as second:
        assert client.post(URL, SCENARIO, format="json").status_code == 200
    assert token_updates(second) == []
    assert len(second) == 1, [q["sql"] for q in second.captured_queries]  # the token's lookup, nothing else
    token.refresh_from_db()
    assert token.last_used_at == used_at

    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=an_hour_ago)
    with CaptureQueriesContext(connection) as later:
        assert client.post(URL, SCENARIO, format="json").status_code == 200
    assert len(token_updates(later)) == 1
    token.refresh_from_db()
    assert token.last_used_at > an_hour_ago


# --- the command ----------------------------------------------------------------------------------------


def test_the_command_prints_only_a_working_token_on_stdout():
    user = RecruiterUserFactory()
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_token", user.username, "--expires", "7", "--name", "Agency CRM", stdout=out, stderr=err)

    secret = out.getvalue().strip()
    assert "\n" not in secret and secret.startswith("lamp_")
    assert "will not be shown again" in err.getvalue() and secret not in err.getvalue()
    token = ApiToken.objects.get(user=user)
    assert token.name == "Agency CRM"
    expected_expiry = timezone.now() + datetime.timedelta(days=7)
    assert abs(token.expires_at - expected_expiry) < datetime.timedelta(minutes=1)
    assert bearer(secret).post(URL, SCENARIO, format="json").status_code == 200


def test_the_command_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="nobody-here"):
        call_command("create_api_token", "nobody-here", stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"), [(["--expires", "0"], "at least one day"), ([], "inactive")]
)
def test_the_command_refuses_what_would_not_work(args, message):
    user = UserFactory(is_active=not args == [])
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", user.username, *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


# --- the admin ------------------------------------------------------------------------------------------


def test_the_admin_issues_a_token_and_shows_its_secret_once(admin_client):
    user = RecruiterUserFactory()

    response = admin_client.post(
        reverse("admin:lamp_apitoken_add"),
        {"user": user.pk, "name": "Agency CRM", "expires_in_days": "30"},
        follow=True,
    )

    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    (message,) = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    assert "will not be shown again" in message
    secret = message.split("<code>")[1].split("</code>")[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
    assert bearer(secret).post(URL, SCENARIO, format="json").status_code == 200
    for page in (reverse("admin:lamp_apitoken_changelist"), reverse("admin:lamp_apitoken_change", args=[token.pk])):
        html = admin_client.get(page).content.decode()
        assert secret not in html
        assert token.key_hash not in html
        assert f"lamp_{token.prefix}" in html


def test_the_admin_add_form_refuses_a_token_of_no_days(admin_client):
    response = admin_client.post(
        reverse("admin:lamp_apitoken_add"), {"user": RecruiterUserFactory().pk, "name": "x", "expires_in_days": "0"}
    )
    assert response.status_code == 200
    assert "expires_in_days" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_the_admin_action_revokes_the_selected_tokens(admin_client, superuser):
    (chosen, chosen_secret), (kept, kept_secret) = make_token(), make_token()

    response = admin_client.post(
        reverse("admin:lamp_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [chosen.pk]},
        follow=True,
    )

    assert response.status_code == 200
    chosen.refresh_from_db()
    kept.refresh_from_db()
    assert chosen.revoked_at is not None and chosen.revoked_by == superuser
    assert kept.revoked_at is None
    assert bearer(chosen_secret).post(URL, SCENARIO, format="json").status_code == 401
    assert bearer(kept_secret).post(URL, SCENARIO, format="json").status_code == 200


# --- throttling -----------------------------------------------------------------------------------------


@pytest.fixture
def tiny_rates(settings):  # noqa: ANN001, ANN201 - pytest-django's settings
    """Three requests a minute, counted in a cache of this test's own."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-tests"}
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"client": "3/min", "anon": "2/min", "simulate": "100/min"},
    }
    from django.core.cache import cache

    cache.clear()


def test_a_token_over_its_rate_gets_429_in_the_error_shape_and_others_do_not(tiny_rates):
    user = RecruiterUserFactory()
    _, busy = make_token(user)
    _, other = make_token(user)  # the same user's second token has a budget of its own

    assert [bearer(busy).post(URL, SCENARIO, format="json").status_code for _ in range(3)] == [200] * 3
    response = bearer(busy).post(URL, SCENARIO, format="json")

    assert "throttled" in assert_error_shape(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60
    assert bearer(other).post(URL, SCENARIO, format="json").status_code == 200


def test_a_session_is_throttled_per_user(tiny_rates):
    busy, other = APIClient(), APIClient()
    busy.force_login(StaffUserFactory())
    other.force_login(StaffUserFactory())

    assert [busy.post(URL, SCENARIO, format="json").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert other.post(URL, SCENARIO, format="json").status_code == 200


def test_anonymous_callers_are_throttled_per_address(tiny_rates):
    client = APIClient()
    assert [client.get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]
    assert APIClient(REMOTE_ADDR="10.0.0.7").get("/api/schema/").status_code == 200


def test_the_window_slides_the_last_minutes_requests_still_count_after_the_minute_turns(tiny_rates, monkeypatch):
    """Three a minute: three at the end of one minute leave no room at the start of the next, some later on."""
    clock = {"now": 6_000_000 * 60 + 59.5}  # half a second before a minute turns
    monkeypatch.setattr("lamp.throttling.time.time", lambda: clock["now"])
    _, secret = make_token()

    assert [bearer(secret).post(URL, SCENARIO, format="json").status_code for _ in range(3)] == [200] * 3
    clock["now"] += 1  # the next minute has begun, but the last 60 s still hold three requests
    refused = bearer(secret).post(URL, SCENARIO, format="json")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    clock["now"] += 50  # most of the previous minute has slid out of the window
    assert bearer(secret).post(URL, SCENARIO, format="json").status_code == 200


@pytest.mark.redis
def test_the_counts_live_in_the_shared_redis_cache(settings):
    """What every server process sees: the count is in Redis, not in this process's memory."""
    import redis

    prefix = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": prefix,
        }
    }
    rates = {"client": "2/min", "anon": "2/min", "simulate": "100/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    token, secret = make_token()
    server = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        assert [bearer(secret).post(URL, SCENARIO, format="json").status_code for _ in range(2)] == [200, 200]
        (key,) = server.keys(f"{prefix}:*throttle:client:*")
        assert f":throttle:client:token:{token.pk}:" in key.decode()  # the counter of the current window
        assert bearer(secret).post(URL, SCENARIO, format="json").status_code == 429
    finally:
        for key in server.keys(f"{prefix}:*"):
            server.delete(key)


# --- the error shape --------------------------------------------------------------------------------------


def test_a_method_not_allowed_is_a_405_in_the_error_shape():
    _, secret = make_token()
    response = bearer(secret).get(URL)
    assert "GET" in assert_error_shape(response, 405)


def test_an_unknown_api_url_is_a_404_in_the_error_shape():
    _, secret = make_token()
    assert_error_shape(bearer(secret).get("/api/v1/no-such-thing/"), 404)


def test_an_unknown_page_outside_the_api_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(("exc", "detail"), [(Http404(), "Not found."), (Http404("No contract 7."), "No contract 7.")])
def test_django_404s_raised_in_a_view_keep_a_message(exc, detail):
    response = exception_handler(exc, {})
    assert response.status_code == 404
    assert response.data == {"detail": detail, "errors": [{"field": None, "message": detail}]}
