"""The main pages in a real browser under the Content-Security-Policy: none of them asks for anything the policy
refuses (an inline script or handler, a style attribute or element, eval, another origin).

Every page is watched two ways: the browser's console (Chromium logs each refusal there) and the document's
``securitypolicyviolation`` events, reported to the test by an init script. A first test shows the watch
catches a refusal; the others open the demo world's pages, act through htmx and fail on any report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from financing.models import ClaimStatus, OutcomeClaim
from financing.services import claim_verify
from pilots.models import User
from pilots.stages import Stage
from tests.e2e.conftest import screenshot
from workers.models import CheckInMoment, Worker
from workers.services import check_in_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "lamp-demo-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}

#: Runs in every document before the page's own scripts: each refusal goes to the test's binding.
WATCH = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.lampCspViolation([event.violatedDirective, event.blockedURI, event.sourceFile + ":" + event.lineNumber,
                           event.sample, document.location.pathname].join(" | "));
});
"""


class Watch:
    """A browser context whose pages report every Content-Security-Policy refusal into ``reports``."""

    def __init__(self, context: object) -> None:
        self.context = context
        self.reports: list[str] = []
        context.expose_function("lampCspViolation", lambda text: self.reports.append(f"event: {text}"))
        context.add_init_script(WATCH)
        context.on("page", self._watch_page)

    def _watch_page(self, page: object) -> None:
        page.on("console", self._console)

    def _console(self, message: object) -> None:
        if "content security policy" in message.text.lower():
            self.reports.append(f"console {message.type}: {message.text}")

    def new_page(self) -> object:
        return self.context.new_page()

    def visit(self, page: object, path: str, *, inline_styles: bool = False) -> object:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        if not inline_styles:
            assert "'unsafe-inline'" not in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        return response


@pytest.fixture
def watched(chromium, live_server) -> Iterator[Callable[..., Watch]]:  # noqa: ANN001
    contexts = []

    def open_context(*, viewport: dict[str, int] = DESKTOP, **options: object) -> Watch:
        context = chromium.new_context(viewport=viewport, base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Watch(context)

    yield open_context
    for context in contexts:
        context.close()


def log_in(watch: Watch, username: str) -> object:
    page = watch.new_page()
    watch.visit(page, "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


@pytest.fixture
def demo(eager_tasks) -> dict[str, object]:  # noqa: ANN001
    call_command("seed_demo", workers=120, verbosity=0)
    assert User.objects.filter(username__in=["staff", "recruiter"]).count() == 2
    return {
        "pilot": OutcomeClaim.objects.order_by("pk").values_list("metric__contract__pilot_id", flat=True).first(),
        "contract": OutcomeClaim.objects.order_by("pk").values_list("metric__contract_id", flat=True).first(),
        "worker": Worker.objects.filter(current_stage=Stage.WORKING).order_by("pk").first(),
    }


def test_the_watch_reports_a_refused_style_attribute_and_inline_script(watched, live_server):
    watch = watched()
    page = watch.new_page()
    watch.visit(page, "/login/")
    assert watch.reports == []

    page.evaluate("""() => {
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
        const script = document.createElement("script");
        script.textContent = "window.ranInline = true";
        document.body.appendChild(script);
    }""")
    page.wait_for_function("() => true")

    assert page.evaluate("window.ranInline === undefined")  # the policy refused to run it
    assert any("style-src" in report for report in watch.reports), watch.reports
    assert any("script-src" in report for report in watch.reports), watch.reports


def test_staff_pages_and_an_htmx_decision_break_no_rule_of_the_policy(demo, watched):
    watch = watched()
    page = log_in(watch, "staff")
    worker = demo["worker"]
    for path in [
        "/pilots/",
        f"/pilots/{demo['pilot']}/",
        f"/contracts/{demo['contract']}/",
        f"/contracts/{demo['contract']}/try-terms/",
        "/contracts/",
        "/workers/",
        f"/workers/{worker.pk}/",
        "/claims/",
        "/verification/decisions/",
        "/recruiters/",
        "/money/",
    ]:
        watch.visit(page, path)
    assert watch.reports == []

    # The pilot page: the chart is drawn, and the bars have the widths their data-width asks for.
    watch.visit(page, f"/pilots/{demo['pilot']}/")
    page.wait_for_selector("canvas[data-chart-ready]")
    widths = page.eval_on_selector_all(
        "[data-width]",
        """els => els.map(el => [parseFloat(el.dataset.width), parseFloat(el.style.width),
            100 * el.getBoundingClientRect().width / el.parentElement.getBoundingClientRect().width])""",
    )
    assert len(widths) > 5
    assert all(asked == set_ for asked, set_, _ in widths), widths
    drawn = [(asked, round(share, 1)) for asked, _, share in widths if asked >= 1]  # a bar has at least 2px
    assert drawn and all(abs(asked - share) < 0.5 for asked, share in drawn), drawn
    screenshot(page, "csp-pilot")

    # The verification queue: one claim verified in place, and a refused one answered in place (a 400).
    waiting = list(
        OutcomeClaim.objects.filter(status=ClaimStatus.CLAIMED, metric__contract__pilot__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:2]
    )
    assert len(waiting) == 2
    watch.visit(page, "/verification/")
    first, second = (page.locator(f"#claim-{pk}") for pk in waiting)
    first.get_by_role("button", name="Verify").click()
    page.wait_for_selector(f"#claim-{waiting[0]}.queue-result")
    claim = OutcomeClaim.objects.get(pk=waiting[1])
    claim_verify(claim=claim, user=User.objects.get(username="approver"), verified_on=timezone.localdate())
    second.get_by_role("button", name="Verify").click()
    page.wait_for_selector(f"#claim-{waiting[1]} .error:has-text('Nothing changed')")
    screenshot(page, "csp-queue-refusal")
    assert watch.reports == []


def test_the_recruiter_portal_breaks_no_rule_of_the_policy(demo, watched):
    watch = watched()
    page = log_in(watch, "recruiter")
    for path in ["/portal/", "/portal/claims/", "/portal/contracts/", "/portal/tokens/", "/portal/workers/"]:
        watch.visit(page, path)
    worker_page = page.locator("main a[href^='/portal/workers/']").first.get_attribute("href")
    claim_page = OutcomeClaim.objects.filter(worker__recruiter__organisation__users__username="recruiter").first()
    watch.visit(page, worker_page)
    watch.visit(page, f"/portal/claims/{claim_page.pk}/")
    assert watch.reports == []


def test_the_admin_breaks_no_rule_of_the_policy(demo, watched):
    watch = watched()
    page = log_in(watch, "staff")
    worker = demo["worker"]
    for path in [
        "/admin/",
        "/admin/workers/worker/",
        f"/admin/workers/worker/{worker.pk}/change/",
        f"/admin/workers/worker/{worker.pk}/history/",
        "/admin/financing/rbfcontract/",
        f"/admin/financing/rbfcontract/{demo['contract']}/change/",
        "/admin/workers/checkin/add/",
    ]:
        watch.visit(page, path)
    # The date widget's calendar and clock (admin/js/admin/DateTimeShortcuts.js) open without a refusal.
    watch.visit(page, f"/admin/financing/rbfcontract/{demo['contract']}/change/")
    calendar = page.locator(".vDateField + .datetimeshortcuts a[id^=calendarlink]").first
    if calendar.count():
        calendar.click()
        page.wait_for_selector(".calendarbox", state="visible")
    # The check-in link's QR code, an SVG data: URI in an <img>, shows after adding a check-in.
    # The worker is chosen through the admin's autocomplete (select2, fetching its results from the site).
    watch.visit(page, "/admin/workers/checkin/add/")
    page.click("#id_worker + .select2 .select2-selection")
    page.fill(".select2-search__field", worker.family_names)
    page.locator(".select2-results__option", has_text=worker.family_names).first.click()
    page.select_option("#id_moment", CheckInMoment.DAY_30)
    page.click("input[name=_save]")
    page.wait_for_selector("img[alt='QR code of the link']")
    assert page.eval_on_selector("img[alt='QR code of the link']", "img => img.naturalWidth") > 0
    screenshot(page, "csp-admin-check-in")
    assert watch.reports == []


def test_a_check_in_page_on_a_phone_breaks_no_rule_of_the_policy(demo, watched):
    _, secret = check_in_create(worker=demo["worker"], moment=CheckInMoment.DAY_30, created_by=None)
    watch = watched(viewport=PHONE, is_mobile=True, locale="es-GT")
    page = watch.new_page()
    watch.visit(page, f"/c/{secret}/")
    # The styles load from their file: the page is laid out for the phone, its button a full-width block.
    button = page.locator("main button[type=submit]")
    assert button.bounding_box()["width"] > PHONE["width"] * 0.8
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "csp-check-in-phone")
    assert watch.reports == []
    assert urlsplit(page.url).path == f"/c/{secret}/"


def test_the_api_docs_break_no_rule_of_the_policy(watched):
    watch = watched()
    page = watch.new_page()
    response = watch.visit(page, "/api/docs/", inline_styles=True)
    page.wait_for_selector(".swagger-ui .info")
    assert watch.reports == []
    # Its page alone allows the style attributes Swagger UI sets; scripts are still this site's files only.
    directives = dict(
        part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";") if part.strip()
    )  # in any order: the header lists them as they come
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["script-src"] == "'self'"
