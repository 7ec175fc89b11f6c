"""The Content-Security-Policy header: on every kind of response, strict (no 'unsafe-inline', no 'unsafe-eval'),
and kept satisfiable by a scan of the templates and of the HTML the Python code writes, so that a new inline
script, handler or style attribute fails here before a browser refuses it (tests/e2e/test_csp_browser.py
opens the pages)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from lamp.tokens import api_token_create
from tests import factories
from tests.test_settings import import_settings, production_env
from workers.services import check_in_create

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
PYTHON_PACKAGES = ("lamp", "pilots", "recruitment", "workers", "financing", "programme")

#: The policy, directive by directive, as the header must carry it.
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_strict_policy(response) -> None:  # noqa: ANN001 - a test client's response
    assert "Content-Security-Policy-Report-Only" not in response.headers
    header = response.headers["Content-Security-Policy"]
    assert directives(header) == POLICY
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_dashboard_pages_carry_the_policy(client):
    client.force_login(factories.StaffUserFactory())
    worker = factories.WorkerFactory()
    for url in [
        reverse("programme:overview"),
        reverse("programme:pilot", args=[worker.pilot_id]),
        reverse("programme:worker", args=[worker.pk]),
        reverse("workers:list"),
        reverse("financing:queue"),
        reverse("financing:contracts"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)


def test_the_login_page_and_a_missing_page_carry_the_policy(client):
    login = client.get(reverse("login"))
    missing = client.get("/no-such-page/")

    assert login.status_code == 200 and missing.status_code == 404
    assert_strict_policy(login)
    assert_strict_policy(missing)


def test_the_recruiter_portal_carries_the_policy(client):
    recruiter = factories.RecruiterFactory()
    client.force_login(factories.RecruiterUserFactory(organisation=recruiter.organisation))
    for name in ["programme:portal", "programme:portal-workers", "programme:portal-claims"]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert_strict_policy(response)


def test_admin_pages_carry_the_policy(admin_client):
    worker = factories.WorkerFactory()
    for url in [
        reverse("admin:index"),
        reverse("admin:workers_worker_changelist"),
        reverse("admin:workers_worker_change", args=[worker.pk]),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)


def test_a_check_in_page_carries_the_policy(client):
    _, secret = check_in_create(worker=factories.WorkerFactory(), moment="day_30", created_by=None)

    page = client.get(reverse("check-in", args=[secret]))
    refused = client.get(reverse("check-in", args=["not-a-link"]))

    assert page.status_code == 200
    assert_strict_policy(page)
    assert_strict_policy(refused)


def test_api_responses_carry_the_policy(client):
    _, secret = api_token_create(user=factories.StaffUserFactory(), name="CSP check")

    listing = client.get("/api/v1/workers/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    anonymous = client.get("/api/v1/workers/")
    schema = client.get(reverse("api-schema"))

    assert listing.status_code == 200 and anonymous.status_code == 401 and schema.status_code == 200
    for response in (listing, anonymous, schema):
        assert_strict_policy(response)


def test_report_only_mode_sends_the_same_policy_without_enforcing_it(client, settings, tmp_path):
    # CSP_REPORT_ONLY is read when the settings load: in a fresh interpreter.
    shown = import_settings(
        production_env(tmp_path, CSP_REPORT_ONLY="true", CSP_REPORT_URI="https://csp.example.org/report"),
        show="CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY['DIRECTIVES']",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("None {")
    assert "'report-uri': 'https://csp.example.org/report'" in shown.stdout
    default = import_settings(production_env(tmp_path), show="CONTENT_SECURITY_POLICY['DIRECTIVES']['report-uri']")
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "None"  # no report-uri unless one is set

    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    response = client.get(reverse("login"))

    assert "Content-Security-Policy" not in response.headers
    assert directives(response.headers["Content-Security-Policy-Report-Only"]) == POLICY


# --- What the policy refuses, looked for in the source -------------------------------------------------------

#: An attribute a browser runs as script: onclick=, onload=… (also htmx's hx-on, which htmx runs through eval).
HANDLER = re.compile(r"""<[a-zA-Z][^>]*?\s(on[a-z]+|hx-on[:\-][^\s=]*|data-hx-on[:\-][^\s=]*)\s*=""", re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=""", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style\b", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
#: <script type="application/json"> (json_script) holds data the browser never runs: the policy allows it.
DATA_SCRIPT = re.compile(r"""\stype\s*=\s*["']application/(ld\+)?json["']""", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)


def violations(text: str) -> list[str]:
    found = [f"handler attribute {m.group(1)}=" for m in HANDLER.finditer(text)]
    found += ["style attribute" for _ in STYLE_ATTRIBUTE.finditer(text)]
    found += ["<style> block" for _ in STYLE_BLOCK.finditer(text)]
    found += ["javascript: URL" for _ in JAVASCRIPT_URL.finditer(text)]
    for attributes, body in SCRIPT_TAG.findall(text):
        if DATA_SCRIPT.search(attributes):
            continue
        if not re.search(r"\ssrc\s*=", attributes) or body.strip():
            found.append("inline <script>")
    return found


@pytest.mark.parametrize(
    "markup",
    [
        '<div style="width: 10%">',
        "<div class=x STYLE='color:red'>",
        "<style>.x{}</style>",
        "<script>alert(1)</script>",
        '<script type="module">import "x"</script>',
        '<script src="/static/a.js">alert(1)</script>',
        '<button onclick="go()">',
        "<body\n  onload='go()'>",
        '<div hx-on:htmx:before-swap="x()">',
        '<div hx-on::after-request="x()">',
        '<a href="javascript:go()">',
    ],
)
def test_the_scan_finds_what_the_policy_refuses(markup):
    assert violations(markup)


@pytest.mark.parametrize(
    "markup",
    [
        '<script src="/static/lamp/app.js" defer></script>',
        '<script id="d" type="application/json">{"a": 1}</script>',
        '<div class="bar" data-width="10%">',
        '<p>Come on: one=two, done="yes"</p>',
        '<span data-stage-on="x">',
    ],
)
def test_the_scan_lets_the_allowed_through(markup):
    assert violations(markup) == []


def test_no_template_holds_inline_script_handler_or_style():
    found = {
        str(path.relative_to(ROOT)): problems
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (problems := violations(path.read_text()))
    }
    assert found == {}


def python_strings(path: Path) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    kinds = {tokenize.STRING} | ({tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())
    return [token.string for token in tokens if token.type in kinds]


def test_no_html_written_in_python_holds_inline_script_handler_or_style():
    # format_html and mark_safe in template tags, admin columns and messages: the strings they are made from.
    found = {}
    for package in PYTHON_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            problems = [problem for text in python_strings(path) if "<" in text for problem in violations(text)]
            if problems:
                found[str(path.relative_to(ROOT))] = problems
    assert found == {}


def test_the_dashboard_configures_htmx_to_add_no_style_and_run_no_eval(client):
    html = client.get(reverse("login")).content.decode()

    config = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", html)
    assert config is not None
    assert '"includeIndicatorStyles": false' in config.group(1) and '"allowEval": false' in config.group(1)
    # The config is read when htmx loads, so the meta element comes first.
    assert html.index('name="htmx-config"') < html.index("vendor/htmx/htmx.min.js")
