"""The pilot page's chart in a real Chromium: Chart.js (vendored) draws the verified outcomes by month with
axes, values and tooltips, from the data the page embeds; the table under it stays inside its card at
1400 px, scrolling in its own box when the months are many."""

from __future__ import annotations

import datetime

import pytest

from financing.models import ClaimStatus
from tests import factories
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def staff_page(chromium, live_server):  # noqa: ANN001, ANN201 - Playwright's and pytest-django's objects
    """A browser page 1400 px wide, logged in as staff (the password submitted with Enter, whatever other
    forms the login page holds)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_load_state("networkidle")
    assert "/login/" not in page.url
    yield page
    context.close()


@pytest.fixture
def pilot():  # noqa: ANN201
    """A pilot whose claims were verified over 30 months, under two metrics."""
    factories.StaffUserFactory(username="maria")
    pilot = factories.PilotFactory(name="Aged care: the Philippines to Canada")
    contract = factories.RbfContractFactory(pilot=pilot, start_date=datetime.date(2024, 1, 1))
    placed = factories.OutcomeMetricFactory(contract=contract, code="PLACED")
    trained = factories.OutcomeMetricFactory(contract=contract, code="TRAINED_B1")
    for month in range(30):
        day = datetime.date(2024 + month // 12, month % 12 + 1, 15)
        for metric, count in ((placed, 1 + month % 4), (trained, month % 3)):
            for _ in range(count):
                factories.OutcomeClaimFactory(
                    metric=metric, status=ClaimStatus.VERIFIED, achieved_on=day, verified_on=day
                )
    return pilot


def test_the_outcomes_chart_has_axes_values_and_tooltips_and_the_table_fits(pilot, staff_page):
    page = staff_page
    page.goto(f"/pilots/{pilot.pk}/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#outcomes-chart canvas'))")

    chart = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.querySelector('#outcomes-chart canvas'));
          return {
            type: chart.config.type,
            labels: chart.data.labels,
            series: chart.data.datasets.map(d => [d.label, d.data]),
            xTitle: chart.options.scales.x.title.text,
            yTitle: chart.options.scales.y.title.text,
            xTicks: chart.scales.x.ticks.length,
            yTicks: chart.scales.y.ticks.map(t => t.value),
            width: chart.width,
          };
        }"""
    )
    assert chart["type"] == "bar"
    assert len(chart["labels"]) == 30 and chart["labels"][0] == "Jan 2024" and chart["labels"][-1] == "Jun 2026"
    assert [label for label, _data in chart["series"]] == ["PLACED", "TRAINED_B1"]
    assert chart["series"][0][1][:4] == [1, 2, 3, 4]
    assert (chart["xTitle"], chart["yTitle"]) == ("Month of verification", "Verified claims")
    assert chart["xTicks"] > 0 and chart["yTicks"][0] == 0 and max(chart["yTicks"]) >= 5  # values on the axis
    assert chart["width"] > 600

    # A tooltip for the month under the pointer, with its figures.
    canvas = page.locator("#outcomes-chart canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    canvas.hover(position={"x": box["width"] * 0.5, "y": box["height"] * 0.4})
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#outcomes-chart canvas')).tooltip.getActiveElements().length"
    )
    tooltip = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.querySelector('#outcomes-chart canvas'));
          return {active: chart.tooltip.getActiveElements().length, title: chart.tooltip.title,
                  body: chart.tooltip.body.map(b => b.lines.join(' ')), footer: chart.tooltip.footer};
        }"""
    )
    assert tooltip["active"] == 2  # both metrics of that month (mode "index")
    assert tooltip["body"][0].startswith("PLACED: ") and tooltip["footer"][0].startswith("All metrics:")

    # The data table is still there, for reading every figure; at 1400 px it stays within its card and
    # the page does not scroll sideways: the table scrolls inside its own box.
    fit = page.evaluate(
        """() => {
          const wrap = document.querySelector('#outcomes').closest('.table-wrap');
          const card = wrap.closest('.card');
          return {
            page: document.documentElement.scrollWidth <= document.documentElement.clientWidth,
            inside: wrap.getBoundingClientRect().right <= card.getBoundingClientRect().right + 0.5,
            scrolls: wrap.scrollWidth > wrap.clientWidth ? getComputedStyle(wrap).overflowX : 'fits',
            rows: document.querySelectorAll('#outcomes tbody tr').length,
          };
        }"""
    )
    assert fit["page"] and fit["inside"]
    assert fit["scrolls"] in ("auto", "scroll", "fits")
    assert fit["rows"] == 2
    screenshot(page, "e2e-pilot-chart")


def test_the_chart_files_are_ours_not_a_cdn(pilot, staff_page):
    page = staff_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"/pilots/{pilot.pk}/")
    page.wait_for_load_state("networkidle")

    scripts = [url for url in requested if url.endswith(".js")]
    assert any(url.endswith("/static/vendor/chartjs/chart.umd.min.js") for url in scripts)
    assert any(url.endswith("/static/lamp/charts.js") for url in scripts)
    live = page.url.split("/pilots/")[0]
    assert all(url.startswith(live) for url in requested)  # nothing from another host
    assert page.evaluate("() => Chart.version").startswith("4.5.")
